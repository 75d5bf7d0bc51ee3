// Endpoint URLs (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_DYNAMODB, AWS_CONTAINER_CREDENTIALS_FULL_URI,
// AWS_EC2_METADATA_SERVICE_ENDPOINT): parse_endpoint() on any text.
//
// Invariants: an accepted endpoint is http or https, has a non-empty lower-case host and a
// non-zero port, a path that starts with '/', a URL made of its parts, no whitespace or control
// characters anywhere (they would end up in the request line or the Host header), and its URL
// parses to the same endpoint.
#include <string>

#include "fuzz_support.h"
#include "websession/aws/config.h"

namespace {

using websession::aws::Endpoint;

bool clean(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) return false;
  }
  return true;
}

bool same(const Endpoint& a, const Endpoint& b) {
  return a.scheme == b.scheme && a.host == b.host && a.port == b.port && a.path == b.path &&
         a.host_header == b.host_header && a.url == b.url;
}

void check_endpoint(const Endpoint& e) {
  FUZZ_CHECK(e.scheme == "http" || e.scheme == "https");
  FUZZ_CHECK(!e.host.empty() && e.port != 0);
  for (char c : e.host) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
  FUZZ_CHECK(e.path.starts_with('/'));
  FUZZ_CHECK(e.url == e.scheme + "://" + e.host_header + e.path);
  FUZZ_CHECK(clean(e.host) && clean(e.path) && clean(e.host_header));
  const auto again = websession::aws::parse_endpoint(e.url);
  FUZZ_CHECK(again && same(*again, e));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto endpoint = websession::aws::parse_endpoint(websession::fuzz::as_text(data, size));
  if (endpoint) {
    check_endpoint(*endpoint);
  } else {
    FUZZ_CHECK(endpoint.error().code == websession::ErrorCode::invalid_argument);
  }
  return 0;
}
