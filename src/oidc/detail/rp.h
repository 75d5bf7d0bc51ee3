// What the relying party's sources share: the names of its records' fields and its errors.
#pragma once

#include <string>
#include <string_view>

#include "websession/oidc/relying_party.h"
#include "websession/result.h"
#include "websession/values.h"

#include <boost/json/string.hpp>

namespace websession::oidc::detail {

/// The value of a sign-in attempt record's "refresh_token" field (the store's lock verification
/// property), which consuming the attempt locks with.
inline constexpr std::string_view kAttemptMarker = "oidc-sign-in-attempt";
/// The attempt record's field holding the attempt: {"nonce", "code_verifier", "return_to", "browser"}.
inline constexpr std::string_view kAttemptField = "oidc_attempt";
/// The field begin_sign_in() sets on a new session so that it is saved (epoch seconds).
inline constexpr std::string_view kSignInStartedField = "oidc_sign_in_started";
/// The field of a seen logout token's record.
inline constexpr std::string_view kLogoutJtiField = "oidc_logout_jti";

/// A JSON string value of `s`, for Session::set().
inline Value text(std::string_view s) { return Value(boost::json::string(s)); }

inline Error invalid_state(std::string message) {
  return Error(ErrorCode::invalid_argument, std::move(message), std::string(kInvalidState));
}

inline Error not_signed_in(std::string message) {
  return Error(ErrorCode::not_found, std::move(message), std::string(kNotSignedIn));
}

/// The ID under which a logout token's `jti` is remembered: 192 bits of SHA-256 over the issuer and
/// the jti, base64url (a valid session ID, so that every store keeps it like a session).
std::string logout_jti_record_id(std::string_view issuer, std::string_view jti);

}  // namespace websession::oidc::detail
