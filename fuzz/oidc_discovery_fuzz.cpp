// The provider's answers other than keys and tokens: the discovery document
// (parse_provider_metadata), token endpoint answers (parse_token_response) and the authorization
// response at the redirect URI (parse_callback). Input: "<status>\n<body>"; the body is also read as
// a discovery document and as a callback query.
//
// Invariants: accepted metadata has exactly the expected issuer, the three required endpoints, at
// least one allow-listed signing algorithm and a token endpoint auth method; a token response is
// accepted only for status 200 and then has an access token and a Bearer token type; a failed token
// response of status 5xx or 429 without an OAuth error body is unavailable; a parsed callback's iss
// is empty unless it was given.
#include <charconv>
#include <string>

#include <boost/json/parse.hpp>

#include "fuzz_support.h"
#include "websession/oidc/discovery.h"
#include "websession/oidc/flow.h"

namespace {

namespace oidc = websession::oidc;
using websession::ErrorCode;

constexpr std::string_view kIssuer = "https://op.example.com";

std::pair<unsigned, std::string_view> split(std::string_view text) {
  const auto [first, rest] = websession::fuzz::split_line(text);
  unsigned status = 0;
  const auto [end, ec] = std::from_chars(first.data(), first.data() + first.size(), status);
  if (ec != std::errc() || end != first.data() + first.size() || text.find('\n') == std::string_view::npos) {
    return {200, text};
  }
  return {status, rest};
}

// An OAuth error answer (RFC 6749 5.2): a JSON object with a string "error". Its code decides the
// error, whatever the status.
bool is_oauth_error(std::string_view body) {
  boost::system::error_code ec;
  const boost::json::value doc = boost::json::parse(body, ec);
  if (ec || !doc.is_object()) return false;
  const auto* error = doc.get_object().if_contains("error");
  return error != nullptr && error->is_string();
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto [status, body] = split(websession::fuzz::as_text(data, size));

  if (auto meta = oidc::parse_provider_metadata(body, kIssuer)) {
    FUZZ_CHECK(meta->issuer == kIssuer);
    FUZZ_CHECK(!meta->authorization_endpoint.empty() && !meta->token_endpoint.empty() && !meta->jwks_uri.empty());
    FUZZ_CHECK(!meta->id_token_signing_algs.empty());
    FUZZ_CHECK(!meta->token_endpoint_auth_methods.empty());
  }

  auto tokens = oidc::parse_token_response(status, body);
  if (tokens) {
    FUZZ_CHECK(status == 200);
    FUZZ_CHECK(!tokens->access_token.empty());
    FUZZ_CHECK(iequals(tokens->token_type, "Bearer"));
  } else {
    FUZZ_CHECK(!tokens.error().message.empty());
    if ((status >= 500 || status == 429) && !is_oauth_error(body)) {
      FUZZ_CHECK(tokens.error().code == ErrorCode::unavailable);
    }
  }

  if (auto params = oidc::parse_callback(body)) {
    FUZZ_CHECK(params->has_iss || params->iss.empty());
  }
  return 0;
}
