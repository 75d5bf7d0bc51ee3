// The authorization code flow with PKCE, as values: the random secrets of a sign-in attempt, the
// URLs the browser is sent to, the callback's parameters, the token and revocation request bodies,
// and the check of a `return_to` path. No I/O; the caller sends the requests.
//
//   auto attempt = oidc::SignInAttempt::start();                 // state, nonce, PKCE verifier
//   store(attempt.state, attempt);                                // server-side, single-use
//   redirect(oidc::build_authorization_url({.authorization_endpoint = meta.authorization_endpoint,
//                                           .client_id = id, .redirect_uri = cb, .scope = scopes,
//                                           .state = attempt.state, .nonce = attempt.nonce,
//                                           .code_challenge = attempt.code_challenge()}));
//   ...
//   auto cb = oidc::parse_callback(query);                        // at the redirect URI
//   auto code = oidc::check_callback(*cb, meta.issuer, meta.authorization_response_iss_parameter_supported);
//   auto req = oidc::build_token_request(client, *code, cb_uri, attempt.code_verifier);
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "websession/oidc/discovery.h"
#include "websession/result.h"

namespace websession::oidc {

/// The length of generated PKCE verifiers, states and nonces: 32 random bytes, base64url.
inline constexpr std::size_t kRandomValueLength = 43;

/// A new PKCE code verifier (RFC 7636 section 4.1): 32 bytes from the operating system's random
/// source, base64url-encoded: 43 characters, 256 bits. Throws std::system_error if the random
/// source fails.
std::string make_code_verifier();

/// The S256 code challenge of `verifier` (RFC 7636 section 4.2): base64url(SHA-256(verifier)).
std::string code_challenge_s256(std::string_view verifier);

/// Whether `verifier` is a valid code verifier: 43 to 128 characters of [A-Za-z0-9-._~].
bool is_valid_code_verifier(std::string_view verifier) noexcept;

/// A new `state` or `nonce` value: 256 random bits, base64url, 43 characters. Throws
/// std::system_error if the random source fails.
std::string make_state();
std::string make_nonce();

/// Whether `state` has the shape of a value make_state() returns (43 base64url characters): a
/// callback whose state is not even well-formed is refused without a store lookup.
bool is_valid_state(std::string_view state) noexcept;

/// The secrets of one sign-in attempt, to keep server-side keyed by `state` until the callback.
struct SignInAttempt {
  std::string state;
  std::string nonce;
  std::string code_verifier;

  /// An attempt with fresh random values.
  static SignInAttempt start();
  /// code_challenge_s256(code_verifier).
  [[nodiscard]] std::string code_challenge() const { return code_challenge_s256(code_verifier); }
};

/// An authorization request (OpenID Connect Core 3.1.2.1) with PKCE S256.
struct AuthorizationRequest {
  std::string authorization_endpoint;
  std::string client_id;
  std::string redirect_uri;
  /// Space-separated scopes; must contain "openid".
  std::string scope = "openid";
  std::string state;
  std::string nonce;
  std::string code_challenge;
  /// Optional: "login", "consent", "none"... (empty: not sent).
  std::string prompt;
  /// Optional: the maximum authentication age; then check auth_time (IdTokenCheck::max_age).
  std::optional<std::chrono::seconds> max_age;
  /// Optional: a hint of who is signing in (empty: not sent).
  std::string login_hint;
  /// Further parameters, sent as given (for example {"ui_locales", "fr"}).
  std::vector<std::pair<std::string, std::string>> extra;
};

/// The URL to send the browser to: the endpoint (with "&" when it already has a query) followed by
/// response_type=code, client_id, redirect_uri, scope, state, nonce, code_challenge,
/// code_challenge_method=S256 and the optional parameters, every value percent-encoded (RFC 3986,
/// spaces as %20). Throws std::invalid_argument when a required value is empty or scope lacks
/// "openid": a programming error.
std::string build_authorization_url(const AuthorizationRequest& request);

/// The parameters of an authorization response at the redirect URI.
struct CallbackParams {
  std::string code;
  std::string state;
  std::string iss;  ///< RFC 9207; empty when absent
  bool has_iss = false;
  std::string error;  ///< the OAuth error code; empty on success
  std::string error_description;
};

/// Parses the callback's query string (without the leading "?"): form-decoded; unknown parameters
/// ignored. invalid_argument for a malformed escape or for a parameter given twice (RFC 6749 section
/// 3.1 forbids it; two `state` values could otherwise be checked and used differently).
[[nodiscard]] Result<CallbackParams> parse_callback(std::string_view query);

/// Checks a parsed callback, after its `state` found the attempt, and returns the authorization code.
///   - RFC 9207: when `iss` is present it must equal `issuer`; when the provider advertises
///     authorization_response_iss_parameter_supported it must be present. Checked first, for
///     error responses too (a mix-up attack can forge either).
///   - An error response: permission_denied for access_denied (the user said no), otherwise
///     invalid_argument; service_type is the OAuth error code, the message carries the description.
///   - A success needs a non-empty code.
/// Error messages never contain the code.
[[nodiscard]] Result<std::string> check_callback(const CallbackParams& params, std::string_view issuer,
                                                 bool iss_parameter_supported);

/// A client's registration at the provider. Holds a secret: never log it.
struct ClientCredentials {
  std::string client_id;
  std::string client_secret;
  ClientAuthMethod method = ClientAuthMethod::client_secret_basic;
};

/// An application/x-www-form-urlencoded POST to send to a provider endpoint. Holds secrets: never
/// log it.
struct FormRequest {
  /// The form body.
  std::string body;
  /// The Authorization header value ("Basic ..."), empty with client_secret_post.
  std::string authorization;
  static constexpr std::string_view content_type = "application/x-www-form-urlencoded";
};

/// The Authorization header value for client_secret_basic: "Basic " + base64(form_encode(id) + ":" +
/// form_encode(secret)), where form_encode() is RFC 6749 Appendix B's encoding (unreserved
/// characters kept, space as '+', every other byte %XX) that section 2.3.1 asks for.
std::string basic_authorization(std::string_view client_id, std::string_view client_secret);

/// The token request of the authorization code grant (RFC 6749 section 4.1.3, RFC 7636 section 4.5):
/// grant_type=authorization_code, code, redirect_uri, code_verifier, and the client's
/// authentication per client.method (client_id and client_secret in the body for
/// client_secret_post).
FormRequest build_token_request(const ClientCredentials& client, std::string_view code,
                                std::string_view redirect_uri, std::string_view code_verifier);

/// The refresh request (RFC 6749 section 6): grant_type=refresh_token, refresh_token, and `scope`
/// when not empty, with the client's authentication.
FormRequest build_refresh_request(const ClientCredentials& client, std::string_view refresh_token,
                                  std::string_view scope = {});

/// The revocation request (RFC 7009 section 2.1): token, token_type_hint when not empty, with the
/// client's authentication.
FormRequest build_revocation_request(const ClientCredentials& client, std::string_view token,
                                     std::string_view token_type_hint = "refresh_token");

/// An RP-initiated logout request (OpenID Connect RP-Initiated Logout 1.0 section 2).
struct LogoutRequest {
  std::string end_session_endpoint;
  /// The ID token last issued for the session (recommended).
  std::string id_token_hint;
  /// Where the provider sends the browser afterwards; must be registered (empty: not sent).
  std::string post_logout_redirect_uri;
  /// Passed back to post_logout_redirect_uri (empty: not sent).
  std::string state;
  /// Sent so the provider can check post_logout_redirect_uri even without id_token_hint.
  std::string client_id;
  /// Further parameters, sent as given (for example Amazon Cognito's {"logout_uri", ...}).
  std::vector<std::pair<std::string, std::string>> extra;
};

/// The URL to send the browser to for sign-out: end_session_endpoint with id_token_hint,
/// post_logout_redirect_uri, state and client_id, those that are not empty, then `extra`,
/// percent-encoded.
/// Throws std::invalid_argument when end_session_endpoint is empty.
std::string build_logout_url(const LogoutRequest& request);

/// The longest return_to accepted, in bytes.
inline constexpr std::size_t kMaxReturnToLength = 2048;

/// Whether `return_to` is a path on this site and nothing else: it starts with exactly one "/"
/// (never "//" or "/\", which browsers read as another host), and has no backslash, no control
/// character, no space, no non-ASCII byte, no "//" and no ".." segment in its path; percent-escapes
/// are decoded (repeatedly, to catch "%252F") and the result must pass the same rules, so "/%2F%2Fevil"
/// and "/%5Cevil" are refused. A query and fragment are allowed ("/ok/path?x=1").
bool is_safe_return_to(std::string_view return_to) noexcept;

/// `return_to` when is_safe_return_to(), otherwise "/".
std::string sanitize_return_to(std::string_view return_to);

}  // namespace websession::oidc
