// The provider's answers, interpreted without I/O: its configuration document (OpenID Connect
// Discovery 1.0), token endpoint responses (RFC 6749 section 5, OpenID Connect Core 3.1.3.3),
// UserInfo responses (Core 5.3) and revocation responses (RFC 7009).
//
//   auto meta = oidc::parse_provider_metadata(body, "https://op.example.com");
//   if (!meta) return meta.error();          // wrong issuer, missing endpoint, http endpoint...
//   ...
//   auto tokens = oidc::parse_token_response(response.status, response.body);
//   if (!tokens && oidc::is_invalid_grant(tokens.error())) sign_out();   // the grant is gone
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

/// How the client authenticates at the token and revocation endpoints (RFC 6749 section 2.3.1).
enum class ClientAuthMethod {
  client_secret_basic,  ///< HTTP Basic with the form-encoded ID and secret (the default)
  client_secret_post,   ///< client_id and client_secret in the form body
};

/// "client_secret_basic" or "client_secret_post".
std::string_view to_string(ClientAuthMethod method) noexcept;

/// The provider's configuration, validated.
struct ProviderMetadata {
  std::string issuer;
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string jwks_uri;
  std::string userinfo_endpoint;     ///< empty when the provider has none
  std::string revocation_endpoint;   ///< empty when the provider has none
  std::string end_session_endpoint;  ///< empty when the provider has none
  std::string introspection_endpoint;  ///< empty when the provider has none
  /// The allow-listed algorithms the provider signs ID tokens with, in the allow-list's order of
  /// preference; never empty.
  std::vector<JwsAlgorithm> id_token_signing_algs;
  std::vector<std::string> scopes_supported;
  /// As advertised; ["client_secret_basic"] when the document omits it (Discovery 1.0 section 3).
  std::vector<std::string> token_endpoint_auth_methods;
  /// As advertised; empty when the document omits it.
  std::vector<std::string> code_challenge_methods;
  bool backchannel_logout_supported = false;
  bool backchannel_logout_session_supported = false;
  /// RFC 9207: the provider puts `iss` in every authorization response, so a callback without it
  /// (or with another value) is refused.
  bool authorization_response_iss_parameter_supported = false;

  /// Whether the provider advertises `method` at its token endpoint.
  [[nodiscard]] bool supports(ClientAuthMethod method) const;
};

/// Where the configuration document of `issuer` is: the issuer without a trailing "/", then
/// "/.well-known/openid-configuration" (Discovery 1.0 section 4).
std::string discovery_url(std::string_view issuer);

/// Whether `issuer` is a development issuer: http:// on localhost, 127.0.0.1 or [::1]. Only such an
/// issuer may have http endpoints, and only on the same loopback hosts.
bool is_development_issuer(std::string_view issuer);

/// Parses and validates a provider configuration document against the configured issuer:
///   - a JSON object whose "issuer" equals `expected_issuer` exactly (no normalization);
///   - "authorization_endpoint", "token_endpoint" and "jwks_uri" present; every endpoint an absolute
///     https URL without fragment or user information (http on loopback only for a development
///     issuer, see is_development_issuer());
///   - "response_types_supported" contains "code";
///   - "id_token_signing_alg_values_supported" shares at least one algorithm with the allow-list;
///   - "code_challenge_methods_supported", when present, contains "S256";
///   - optional members of the wrong JSON type are errors, not ignored.
/// invalid_argument with a message that names the member.
[[nodiscard]] Result<ProviderMetadata> parse_provider_metadata(std::string_view json,
                                                               std::string_view expected_issuer);

/// A successful token endpoint response. Holds secrets: never log it.
struct TokenResponse {
  std::string access_token;
  std::string token_type;  ///< "Bearer" (compared case-insensitively, as RFC 6749 7.1 asks)
  std::optional<std::chrono::seconds> expires_in;
  std::string refresh_token;  ///< empty when none was issued (or, on refresh, not rotated)
  std::string id_token;       ///< empty when none was issued
  std::string scope;          ///< empty when the provider did not say
};

/// The Error::service_type of the OAuth error codes a caller acts on.
inline constexpr std::string_view kInvalidGrant = "invalid_grant";
inline constexpr std::string_view kInvalidClient = "invalid_client";

/// Interprets a token endpoint answer (authorization code or refresh token grant).
///   - 200 with a JSON object: access_token and token_type "Bearer" required; expires_in a
///     non-negative integer (a string of digits is tolerated), the rest strings when present.
///   - An OAuth error answer (a JSON object with "error"): an Error whose service_type is the OAuth
///     error code and whose message has its description:
///       invalid_grant (the code or refresh token is invalid, expired, used or revoked: sign the
///       user out, or restart the sign-in) -> not_found, see is_invalid_grant();
///       invalid_client, unauthorized_client -> permission_denied (fix the client's credentials);
///       temporarily_unavailable, server_error -> unavailable; others -> invalid_argument.
///   - Any other 5xx or 429: unavailable. Anything else: internal.
/// Messages never contain tokens.
[[nodiscard]] Result<TokenResponse> parse_token_response(unsigned status, std::string_view body);

/// True for the error of a token endpoint answer "invalid_grant": the grant is gone for good.
bool is_invalid_grant(const Error& error) noexcept;

/// Interprets a UserInfo answer (Core 5.3.2): 200 with a JSON object (Content-Type application/json;
/// signed application/jwt answers are not supported) whose "sub" equals `expected_subject`, the ID
/// token's. Returns every claim. Errors: 401 or 403 -> permission_denied (service type
/// "invalid_token": refresh the access token); 5xx or 429 -> unavailable; a JSON object without
/// the expected sub -> invalid_argument; anything else -> internal.
[[nodiscard]] Result<boost::json::object> parse_userinfo_response(unsigned status, std::string_view content_type,
                                                                  std::string_view body,
                                                                  std::string_view expected_subject);

/// Interprets a revocation answer (RFC 7009 section 2.2): 200 is success (an invalid or unknown
/// token is too); an OAuth error answer or other status is an Error as in parse_token_response().
[[nodiscard]] Status parse_revocation_response(unsigned status, std::string_view body);

}  // namespace websession::oidc
