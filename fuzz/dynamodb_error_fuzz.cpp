// DynamoDB's error answers: error_from_response() on an HTTP status and any body (DynamoDB's JSON,
// a proxy's HTML page, a truncated answer). Input: "<status>\n<body>"; a first line that is not a
// number gives status 400 and the whole input as the body.
//
// Invariants: the message is never empty; a 5xx is unavailable; is_retryable() is exactly
// "unavailable"; the service type has no '#'; a throttling type is unavailable; a body that is not
// a JSON object naming its __type is never echoed: the message then names the HTTP status only.
#include <charconv>
#include <string>

#include <boost/json/parse.hpp>

#include "fuzz_support.h"
#include "websession/dynamodb/errors.h"

namespace {

namespace ddb = websession::dynamodb;
using websession::ErrorCode;

std::pair<long, std::string_view> split(std::string_view text) {
  const auto [first, rest] = websession::fuzz::split_line(text);
  long status = 0;
  const auto [end, ec] = std::from_chars(first.data(), first.data() + first.size(), status);
  if (ec != std::errc() || end != first.data() + first.size() || text.find('\n') == std::string_view::npos) {
    return {400, text};
  }
  return {status, rest};
}

// Whether the body is DynamoDB's JSON with a string __type (only then is anything of it kept).
bool names_its_type(std::string_view body) {
  boost::system::error_code ec;
  const boost::json::value doc = boost::json::parse(body, ec);
  if (ec || !doc.is_object()) return false;
  const auto* type = doc.get_object().if_contains("__type");
  return type != nullptr && type->is_string() && !type->get_string().empty();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto [status, body] = split(websession::fuzz::as_text(data, size));
  const websession::Error e = ddb::error_from_response(status, body);
  FUZZ_CHECK(!e.message.empty());
  FUZZ_CHECK(ddb::is_retryable(e) == (e.code == ErrorCode::unavailable));
  FUZZ_CHECK(e.service_type.find('#') == std::string::npos);
  if (status >= 500) FUZZ_CHECK(e.code == ErrorCode::unavailable);
  if (ddb::is_throttling(e.service_type)) FUZZ_CHECK(e.code == ErrorCode::unavailable);
  if (ddb::is_expired_token(e.service_type) && status < 500) {
    FUZZ_CHECK(e.code == ErrorCode::permission_denied);
  }
  if (!names_its_type(body)) {
    const std::string http = "HTTP status " + std::to_string(status);
    if (status >= 500) {
      FUZZ_CHECK(e.message == http || e.message.ends_with(" (" + http + ")"));
    } else {
      FUZZ_CHECK(e.message == "unexpected answer from DynamoDB: " + http);
    }
  }
  return 0;
}
