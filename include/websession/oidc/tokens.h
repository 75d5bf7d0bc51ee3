// Validation of the two JWTs an OpenID provider sends a relying party: the ID token (OpenID Connect
// Core 1.0, section 3.1.3.7) and the back-channel logout token (OpenID Connect Back-Channel Logout
// 1.0, section 2.6). Pure functions: the JWKS and the current time are arguments.
//
//   oidc::IdTokenCheck check;
//   check.issuer = "https://op.example.com";
//   check.client_id = "my-app";
//   check.nonce = attempt.nonce;
//   auto claims = oidc::validate_id_token(token.id_token, jwks, check, std::chrono::system_clock::now());
//   if (!claims) return claims.error();   // kUnknownKey: fetch the JWKS again (at most once a minute)
//   session.set("sub", claims->subject);
//
// Every failure is invalid_argument with service type kInvalidToken (or kUnknownKey, see jose.h),
// and a message that names the failed rule without quoting the token, the nonce or the subject.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "websession/oidc/jose.h"
#include "websession/result.h"

namespace websession::oidc {

using TimePoint = std::chrono::system_clock::time_point;

/// The default allowance for clocks that disagree, applied to exp, iat, auth_time.
inline constexpr std::chrono::seconds kDefaultClockSkew{60};

/// What an ID token must satisfy.
struct IdTokenCheck {
  /// The provider's issuer identifier: `iss` must equal it exactly.
  std::string issuer;
  /// This client's ID: `aud` must contain it; `azp`, when present, must equal it.
  std::string client_id;
  /// The nonce sent in the authorization request: `nonce` must be present and equal. nullopt only
  /// for an ID token from a refresh (OpenID Connect Core 12.2), whose nonce is not checked.
  std::optional<std::string> nonce;
  /// Audiences besides client_id that this client trusts. An ID token naming any other audience is
  /// refused (Core 3.1.3.7 step 3); one with several audiences must have `azp` equal to client_id.
  std::vector<std::string> trusted_audiences;
  /// The algorithms the token may use: typically the provider's advertised ones intersected with
  /// the allow-list (ProviderMetadata::id_token_signing_algs). Empty: every allow-listed one.
  std::vector<JwsAlgorithm> algorithms;
  /// Allowance for clock differences: exp may have passed by this much, iat may be this far ahead.
  std::chrono::seconds clock_skew = kDefaultClockSkew;
  /// When set, an ID token issued (iat) longer ago than this is refused.
  std::optional<std::chrono::seconds> max_token_age;
  /// The max_age sent in the authorization request, if any: `auth_time` is then required and the
  /// authentication must not be older than this.
  std::optional<std::chrono::seconds> max_age;
  /// Require `auth_time` even without max_age (the client registered require_auth_time).
  bool require_auth_time = false;
  /// For an ID token from a refresh: the subject of the original ID token, which `sub` must equal.
  std::optional<std::string> subject;
};

/// The claims of a validated ID token.
struct IdTokenClaims {
  std::string issuer;                 ///< iss
  std::string subject;                ///< sub: with issuer, the user's stable identity
  std::vector<std::string> audience;  ///< aud
  std::string authorized_party;       ///< azp, empty when absent
  TimePoint expires;                  ///< exp
  TimePoint issued_at;                ///< iat
  std::optional<TimePoint> auth_time;
  std::string nonce;                  ///< empty when absent
  std::string session_id;             ///< sid: the provider's session, for back-channel logout
  std::string preferred_username;     ///< empty when absent
  std::string email;                  ///< empty when absent
  std::optional<bool> email_verified;
  std::string name;                   ///< empty when absent
  std::string acr;                    ///< empty when absent
  /// Every claim, as received.
  boost::json::object claims;

  /// A name to show and to store as the user: preferred_username, else email, else sub.
  [[nodiscard]] const std::string& display_name() const noexcept;
};

/// Validates `id_token` (compact JWS) as OpenID Connect Core 3.1.3.7 asks, at time `now`:
///   - the signature, with a key of `jwks` chosen by `kid` (verify_jws(): RS256, PS256 or ES256
///     only; never none or HMAC), and the algorithm among check.algorithms;
///   - `typ`, if present, is not that of a logout token (logout+jwt) or an access token (at+jwt);
///     no back-channel logout `events` claim;
///   - `iss` equals check.issuer; `sub` is a non-empty string (equal to check.subject when set);
///   - `aud` (a string or an array) contains check.client_id and nothing untrusted; `azp` is
///     required with several audiences and must equal check.client_id when present;
///   - `exp` is present and now < exp + clock_skew; `iat` is present and iat <= now + clock_skew
///     (and, with max_token_age, now - iat <= max_token_age + clock_skew);
///   - `nonce` equals check.nonce when that is set;
///   - `auth_time` is present when max_age or require_auth_time asks, and with max_age,
///     now - auth_time <= max_age + clock_skew.
/// Errors: invalid_argument with service type kInvalidToken, or kUnknownKey when no key of `jwks`
/// fits (fetch the JWKS again and retry once).
[[nodiscard]] Result<IdTokenClaims> validate_id_token(std::string_view id_token, const Jwks& jwks,
                                                      const IdTokenCheck& check, TimePoint now);

/// The member of a logout token's `events` claim that makes it a back-channel logout token.
inline constexpr std::string_view kBackchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout";

/// What a logout token must satisfy.
struct LogoutTokenCheck {
  /// As in IdTokenCheck.
  std::string issuer;
  std::string client_id;
  std::vector<std::string> trusted_audiences;
  std::vector<JwsAlgorithm> algorithms;
  std::chrono::seconds clock_skew = kDefaultClockSkew;
  /// A logout token issued longer ago than this is refused: it bounds how long a `jti` must be
  /// remembered to detect a replay.
  std::chrono::seconds max_token_age{600};
};

/// The claims of a validated logout token.
struct LogoutTokenClaims {
  std::string issuer;      ///< iss
  std::string subject;     ///< sub, empty when absent
  std::string session_id;  ///< sid, empty when absent (at least one of sub and sid is present)
  std::string jwt_id;      ///< jti: record it until replay_until and refuse it if seen again
  std::vector<std::string> audience;
  TimePoint issued_at;
  std::optional<TimePoint> expires;
  /// Until when a replay of this token could still pass validation: the earlier of exp and
  /// iat + max_token_age, plus the clock skew. Remember the jti at least until then.
  TimePoint replay_until;
  boost::json::object claims;
};

/// Validates `logout_token` as OpenID Connect Back-Channel Logout 1.0 section 2.6 asks, at `now`:
///   - the signature and algorithm as for ID tokens;
///   - `typ`, when present, is "logout+jwt" (or "application/logout+jwt", or the generic "JWT"
///     some providers send); a token without `typ` is accepted, as the specification allows;
///   - `iss`, `aud` and `azp` as for ID tokens; `iat` present, not in the future beyond the skew,
///     not older than max_token_age; `exp`, when present, not passed;
///   - `events` is a JSON object with the member kBackchannelLogoutEvent, whose value is an object;
///   - no `nonce` (which would make it an ID token); `sub` or `sid` or both, as strings;
///   - `jti` a non-empty string. Whether it was seen before is for the caller to check.
/// Errors as for validate_id_token().
[[nodiscard]] Result<LogoutTokenClaims> validate_logout_token(std::string_view logout_token, const Jwks& jwks,
                                                              const LogoutTokenCheck& check, TimePoint now);

}  // namespace websession::oidc
