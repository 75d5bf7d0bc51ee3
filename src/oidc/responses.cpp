// Token, UserInfo and revocation answers: the response half of discovery.h.
#include "websession/oidc/discovery.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "oidc/detail/json.h"
#include "oidc/detail/text.h"

namespace websession::oidc {
namespace {

constexpr std::string_view kTokenAnswer = "the token endpoint's answer";

bool is_unavailable_status(unsigned status) { return status >= 500 || status == 429; }

// RFC 6749 section 5.2: error codes are printable ASCII without '"' and '\'.
bool valid_error_code(std::string_view code) {
  return !code.empty() && code.size() <= 64 && std::all_of(code.begin(), code.end(), [](char c) {
    return c >= 0x20 && c <= 0x7E && c != '"' && c != '\\';
  });
}

ErrorCode code_for(std::string_view oauth_error, unsigned status) {
  if (oauth_error == kInvalidGrant) return ErrorCode::not_found;
  if (oauth_error == kInvalidClient || oauth_error == "unauthorized_client") return ErrorCode::permission_denied;
  if (oauth_error == "temporarily_unavailable" || oauth_error == "server_error" || is_unavailable_status(status)) {
    return ErrorCode::unavailable;
  }
  return ErrorCode::invalid_argument;
}

// The OAuth error answer in `body`, if it is one (RFC 6749 section 5.2).
std::optional<Error> oauth_error(std::string_view endpoint, unsigned status, std::string_view body) {
  auto doc = detail::parse_object(body, endpoint, "");
  if (!doc) return std::nullopt;
  const auto* error = doc->if_contains("error");
  if (error == nullptr || !error->is_string()) return std::nullopt;
  const std::string_view code = error->get_string();
  const std::string type = valid_error_code(code) ? std::string(code) : std::string("invalid_error_code");
  std::string message = std::string(endpoint) + " is the OAuth error " + type + " (HTTP " + std::to_string(status) + ")";
  if (const auto* d = doc->if_contains("error_description"); d != nullptr && d->is_string()) {
    message += ": " + detail::printable(d->get_string());
  }
  return Error(code_for(type, status), std::move(message), type);
}

// The answer of an endpoint that gave neither success nor an OAuth error.
Error unexpected(std::string_view endpoint, unsigned status) {
  const ErrorCode code = is_unavailable_status(status) ? ErrorCode::unavailable : ErrorCode::internal;
  return Error(code, std::string(endpoint) + " is an unexpected HTTP " + std::to_string(status));
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

Result<std::optional<std::chrono::seconds>> expires_in(const boost::json::object& doc) {
  constexpr std::int64_t kMax = 10LL * 366 * 24 * 3600;
  const auto* v = doc.if_contains("expires_in");
  if (v == nullptr || v->is_null()) return std::optional<std::chrono::seconds>();
  std::int64_t seconds = -1;
  if (v->is_int64()) seconds = v->get_int64();
  if (v->is_uint64()) seconds = v->get_uint64() > static_cast<std::uint64_t>(kMax) ? kMax : static_cast<std::int64_t>(v->get_uint64());
  if (v->is_string()) {
    // Some providers send the number as a string; only plain digits are taken.
    const std::string_view s = v->get_string();
    if (!s.empty() && s.size() <= 12 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      seconds = std::stoll(std::string(s));
    }
  }
  if (seconds < 0) return Error(ErrorCode::internal, std::string(kTokenAnswer) + "'s \"expires_in\" is not a whole number of seconds");
  return std::optional<std::chrono::seconds>(std::chrono::seconds(std::min(seconds, kMax)));
}

Result<TokenResponse> read_tokens(const boost::json::object& doc) {
  TokenResponse out;
  for (const auto& [name, field] : {std::pair{"access_token", &out.access_token}, std::pair{"token_type", &out.token_type},
                                    std::pair{"refresh_token", &out.refresh_token}, std::pair{"id_token", &out.id_token},
                                    std::pair{"scope", &out.scope}}) {
    auto value = detail::optional_string(doc, name, kTokenAnswer, "");
    if (!value) return Error(ErrorCode::internal, value.error().message);
    *field = value->value_or("");
  }
  if (out.access_token.empty()) return Error(ErrorCode::internal, std::string(kTokenAnswer) + " has no access_token");
  if (!iequals(out.token_type, "Bearer")) {
    return Error(ErrorCode::internal, std::string(kTokenAnswer) + "'s token type " +
                                          detail::quote_for_message(out.token_type) + " is not Bearer");
  }
  auto expires = expires_in(doc);
  if (!expires) return std::move(expires).error();
  out.expires_in = *expires;
  return out;
}

}  // namespace

Result<TokenResponse> parse_token_response(unsigned status, std::string_view body) {
  if (auto error = oauth_error(kTokenAnswer, status, body)) return std::move(*error);
  if (status != 200) return unexpected(kTokenAnswer, status);
  auto doc = detail::parse_object(body, kTokenAnswer, "");
  if (!doc) return Error(ErrorCode::internal, doc.error().message);
  return read_tokens(*doc);
}

bool is_invalid_grant(const Error& error) noexcept { return error.service_type == kInvalidGrant; }

Result<boost::json::object> parse_userinfo_response(unsigned status, std::string_view content_type,
                                                    std::string_view body, std::string_view expected_subject) {
  constexpr std::string_view kWhat = "the UserInfo answer";
  if (status == 401 || status == 403) {
    return Error(ErrorCode::permission_denied, std::string(kWhat) + " refuses the access token (HTTP " +
                                                   std::to_string(status) + ")", "invalid_token");
  }
  if (status != 200) return unexpected(kWhat, status);
  if (content_type.substr(0, 15) == "application/jwt") {
    return Error(ErrorCode::internal, "signed or encrypted UserInfo answers (application/jwt) are not supported");
  }
  auto doc = detail::parse_object(body, kWhat, "");
  if (!doc) return Error(ErrorCode::internal, doc.error().message);
  const auto* sub = doc->if_contains("sub");
  if (sub == nullptr || !sub->is_string()) return Error(ErrorCode::internal, std::string(kWhat) + " has no \"sub\"");
  if (sub->get_string() != expected_subject) {
    // Core 5.3.2: a mismatch means the answer is not about this user and must not be used.
    return Error(ErrorCode::invalid_argument, std::string(kWhat) + "'s subject is not the ID token's", "invalid_userinfo");
  }
  return std::move(*doc);
}

Status parse_revocation_response(unsigned status, std::string_view body) {
  constexpr std::string_view kWhat = "the revocation endpoint's answer";
  if (status == 200) return {};
  if (auto error = oauth_error(kWhat, status, body)) return std::move(*error);
  return unexpected(kWhat, status);
}

}  // namespace websession::oidc
