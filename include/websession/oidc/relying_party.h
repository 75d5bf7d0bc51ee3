// The OpenID Connect relying party: sign-in with the authorization code flow and PKCE, tokens kept in
// the session and refreshed under the session lock, UserInfo, sign-out and back-channel logout, for a
// confidential web client. Framework-neutral: it takes a Session and strings, and answers values (a
// URL to redirect to, the session's new state); the web framework does the HTTP.
//
//   auto rp = std::make_shared<oidc::RelyingParty>(oidc::RelyingPartyOptions{
//       .issuer = "https://login.example.com", .client_id = "app", .client_secret = secret,
//       .redirect_uri = "https://app.example.com/auth/callback", .store = store});
//   // GET /signin?return_to=/orders
//   auto url = rp->begin_sign_in(session, "/orders");          // then 303 to *url
//   // GET /auth/callback?code=...&state=...&iss=...
//   auto done = rp->complete_sign_in(session, query, user_agent);  // then 303 to done->return_to
//   // any route that calls an API for the user
//   auto token = rp->access_token(session);                     // refreshed under the lock if needed
//
// Every operation that does I/O comes three ways (see async.h): a coroutine `co_x` for code already
// in a Task, an Asio initiating function `async_x(..., token)`, and a blocking `x`. A Session passed
// in must outlive the operation and belong to the relying party's store; the relying party itself
// must outlive every operation.
//
// Errors are values. Error::service_type tells the cases a caller acts on: kNotSignedIn,
// kLoginRequired and kInvalidGrant (the user must sign in: see needs_sign_in()), kInvalidState (a
// callback that is no live sign-in attempt of this browser), kReplayed (a logout token seen before),
// kInvalidToken and kUnknownKey (a refused token, see tokens.h), and the provider's OAuth error codes.
// unavailable means the provider or the store did not answer in time: try again later; the session
// is kept. Tokens, codes, states, nonces and secrets never appear in messages.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

#include "websession/async.h"
#include "websession/net/http_client.h"
#include "websession/oidc/discovery.h"
#include "websession/oidc/flow.h"
#include "websession/oidc/tokens.h"
#include "websession/result.h"
#include "websession/session.h"
#include "websession/session_store.h"

namespace websession::oidc {

namespace detail {
class ProviderClient;
}

/// How the relying party is registered and behaves. Invalid options make the constructor throw
/// std::invalid_argument naming the option.
struct RelyingPartyOptions {
  /// The provider's issuer identifier, exactly as its discovery document states it (a trailing "/"
  /// matters). https; http only for a development issuer on loopback (is_development_issuer()).
  std::string issuer;
  /// The client's registration. Required; the secret is kept in memory only, never logged.
  std::string client_id;
  std::string client_secret;
  /// How the client authenticates at the token and revocation endpoints.
  ClientAuthMethod client_auth = ClientAuthMethod::client_secret_basic;
  /// Where the provider sends the browser back (registered at the provider): an absolute http(s)
  /// URL without fragment; http only on loopback.
  std::string redirect_uri;
  /// Where the provider sends the browser after sign-out (registered at the provider); empty: none.
  std::string post_logout_redirect_uri;
  /// Space-separated scopes; must contain "openid". "offline_access" asks for a refresh token.
  std::string scopes = "openid profile email offline_access";
  /// Further parameters of the authorization request, sent as given (for example Google's
  /// {"access_type", "offline"} and {"prompt", "consent"}, which it needs to issue a refresh token).
  /// The flow's own parameters (response_type, client_id, redirect_uri, scope, state, nonce,
  /// code_challenge, code_challenge_method) cannot be overridden.
  std::vector<std::pair<std::string, std::string>> authorization_params;
  /// Further parameters of the sign-out redirect to the provider's end_session_endpoint (Amazon
  /// Cognito's /logout takes {"logout_uri", <a registered sign-out URL>} instead of the standard
  /// post_logout_redirect_uri).
  std::vector<std::pair<std::string, std::string>> end_session_params;
  /// The session store: sessions, sign-in attempts and seen logout tokens live there. Required; its
  /// lock_verification_property() must be "refresh_token" (the default).
  std::shared_ptr<SessionStore> store;
  /// The HTTP client for every call to the provider. Default: one of the relying party's own, with
  /// `tls` (share the application's, for one connection pool, by setting it).
  std::shared_ptr<net::HttpClient> http;
  /// TLS for the client the relying party creates: certificates are always verified; `ca_file`
  /// trusts a private CA instead of the system's.
  net::TlsOptions tls;
  /// Allowance for clocks that disagree, for ID and logout tokens. 0 to 5 minutes.
  std::chrono::seconds clock_skew = kDefaultClockSkew;
  /// How long a sign-in attempt (from begin_sign_in() to the callback) stays valid. 10 s to 1 hour.
  std::chrono::seconds sign_in_lifetime{600};
  /// How long the discovery document and the JWKS are used before being fetched again. When a
  /// fetch fails, the previous copy goes on being used. 1 minute to 1 week.
  std::chrono::seconds metadata_ttl{3600};
  /// A token signed with an unknown `kid` makes the JWKS be fetched again, at most this often.
  std::chrono::seconds jwks_refetch_interval{60};
  /// The deadline of each call to discovery, JWKS, UserInfo and revocation. 100 ms to 2 minutes.
  std::chrono::milliseconds request_timeout{5000};
  /// The deadline of each call to the token endpoint (code exchange, refresh). 100 ms to 2 minutes.
  std::chrono::milliseconds token_timeout{10'000};
  /// The access token counts as expired this long before the provider's expiry (at most half its
  /// lifetime), so that it does not expire on its way to an API. 0 to 10 minutes.
  std::chrono::seconds refresh_margin{10};
  /// The lifetime assumed for an access token whose token response has no expires_in. 1 s to 1 day.
  std::chrono::seconds assumed_access_lifetime{300};
  /// The wall clock. Default: the system clock. The store should read the same.
  Clock clock;
  /// The executor for asynchronous calls whose handler has none (see async.h). Default: the store's.
  Executor executor;
};

/// The session fields the relying party writes at sign-in and keeps up to date.
namespace fields {
inline constexpr std::string_view kUser = "user";        ///< preferred_username, else email, else sub
inline constexpr std::string_view kSubject = "sub";      ///< the ID token's sub
inline constexpr std::string_view kIssuer = "iss";       ///< the issuer
inline constexpr std::string_view kProviderSid = "sid";  ///< the ID token's sid, when it has one
inline constexpr std::string_view kAuth = "auth";        ///< "oidc"
inline constexpr std::string_view kIdToken = "id_token";
inline constexpr std::string_view kAccessToken = "access_token";
inline constexpr std::string_view kRefreshToken = "refresh_token";  ///< absent when none was issued
/// Epoch seconds after which the access token counts as expired (see refresh_margin).
inline constexpr std::string_view kAccessExpiresAt = "access_expires_at";
}  // namespace fields

/// The value of the "auth" field of a session signed in through a provider.
inline constexpr std::string_view kAuthOidc = "oidc";
/// The prefix of the owner of a session signed in through a provider (see owner_for()).
inline constexpr std::string_view kOwnerPrefix = "oidc:";

/// Error::service_type values of the relying party's own errors.
/// The session is not signed in through this provider (ErrorCode::not_found).
inline constexpr std::string_view kNotSignedIn = "not_signed_in";
/// The access token has expired and there is no refresh token to renew it (ErrorCode::not_found).
inline constexpr std::string_view kLoginRequired = "login_required";
/// A callback whose `state` is malformed, unknown, expired, already used, or was issued to another
/// browser (ErrorCode::invalid_argument).
inline constexpr std::string_view kInvalidState = "invalid_state";
/// A back-channel logout token whose `jti` was seen before (ErrorCode::invalid_argument).
inline constexpr std::string_view kReplayed = "replayed";

/// True for the errors after which the user must sign in again: kNotSignedIn, kLoginRequired, and
/// kInvalidGrant (the provider refused the refresh token; the session has been destroyed).
bool needs_sign_in(const Error& error) noexcept;

/// The owner (SignIn::owner) of a session signed in at `issuer` as `subject`:
/// "oidc:" + issuer + "#" + subject, for example "oidc:https://login.example.com#248289761001".
/// The prefix keeps it apart from local user names (which must not start with "oidc:"); an issuer
/// has no "#" (Discovery 1.0 forbids a fragment), so issuer and subject are always told apart.
std::string owner_for(std::string_view issuer, std::string_view subject);

/// The provider session (SignIn::sid) of a session signed in at `issuer` with the ID token's
/// `sid`: issuer + "#" + sid. Empty when `sid` is empty.
std::string sid_for(std::string_view issuer, std::string_view sid);

/// The value of the parameter `name` in an application/x-www-form-urlencoded string (a query
/// string without "?", or a form body): nullopt when absent. invalid_argument for a malformed
/// escape, or when the parameter is given more than once (which of two values counts is ambiguous).
[[nodiscard]] Result<std::optional<std::string>> form_parameter(std::string_view form, std::string_view name);

/// What complete_sign_in() did.
struct SignInResult {
  /// Where to send the browser: the begin_sign_in() return_to, checked again (a path on this site).
  std::string return_to;
  /// The session's user, subject and owner (see fields and owner_for()).
  std::string user;
  std::string subject;
  std::string owner;
};

/// A usable access token. Holds a secret: never log it.
struct AccessToken {
  std::string token;
  /// True only for the call that redeemed the refresh token to get it.
  bool refreshed = false;
};

/// What userinfo() returned.
struct UserInfo {
  /// Every claim of the UserInfo answer; its "sub" is the session's.
  boost::json::object claims;
  /// As in AccessToken.
  bool refreshed = false;
};

/// What sign_out() did.
struct SignOutResult {
  /// Where to send the browser: the provider's end_session_endpoint with id_token_hint, client_id
  /// and post_logout_redirect_uri; or "/" for a session not signed in through the provider, or
  /// when the provider has no end_session_endpoint or could not be reached.
  std::string redirect_to = "/";
  /// True when the session was signed in through the provider.
  bool was_signed_in = false;
  /// True when the provider confirmed the revocation of the refresh token (RFC 7009).
  bool revoked = false;
};

/// What backchannel_logout() did.
struct BackchannelLogoutResult {
  /// How many live sessions ended.
  std::size_t sessions_ended = 0;
};

/// An OpenID Connect relying party for one provider and one client registration. Thread-safe: one
/// object serves every request. See the top of this header.
///
/// Where things are kept:
///   - a sign-in attempt is its own short-lived record in the store, under an ID of its own that is
///     also the `state` (192 random bits): it holds the nonce, the PKCE verifier, return_to and
///     session_key() of the browser's session; it expires after sign_in_lifetime, and is consumed
///     with lock() (exactly one caller can win it, on every instance) then destroyed;
///   - a seen logout token's `jti` is a record too, under an ID derived from issuer and `jti`,
///     created with the store's conditional create (only one caller can create it) and kept until
///     the token could no longer pass validation;
///   - the signed-in session holds the fields listed in `fields`.
class RelyingParty {
 public:
  /// Checks the options; no I/O (discovery happens on first use). Throws std::invalid_argument
  /// naming the option when one is invalid.
  explicit RelyingParty(RelyingPartyOptions options);
  ~RelyingParty();
  RelyingParty(const RelyingParty&) = delete;
  RelyingParty& operator=(const RelyingParty&) = delete;

  /// The options, without the client secret.
  [[nodiscard]] const RelyingPartyOptions& options() const noexcept { return options_; }

  /// True when `session` is signed in through this relying party's provider (its "auth" field is
  /// "oidc" and its "iss" the issuer).
  [[nodiscard]] bool is_signed_in(const Session& session) const;

  /// The provider's configuration: discovery, cached for metadata_ttl. Errors: unavailable when the
  /// provider does not answer (and no earlier copy exists); internal for a document that fails
  /// parse_provider_metadata() (its message names the member), wrong issuer included.
  Result<ProviderMetadata> metadata();
  Task<Result<ProviderMetadata>> co_metadata();

  /// Starts a sign-in from the browser whose session is `session`, and returns the URL to send the
  /// browser to (the provider's authorization endpoint, with response_type=code, PKCE S256, state
  /// and nonce). The attempt is bound to `session`: a session that is new is saved first (with the
  /// field "oidc_sign_in_started") so that it has an ID and the browser a cookie. `return_to` is
  /// where complete_sign_in() sends the browser; anything but a path on this site becomes "/"
  /// (sanitize_return_to()). Errors: those of metadata(); the store's.
  Result<std::string> begin_sign_in(Session& session, std::string_view return_to);
  Task<Result<std::string>> co_begin_sign_in(Session& session, std::string_view return_to);
  template <class CompletionToken>
  auto async_begin_sign_in(Session& session, std::string_view return_to, CompletionToken&& token) {
    return async_run<Result<std::string>>(executor_for(session), std::forward<CompletionToken>(token),
                                          [this, &session, r = std::string(return_to)] {
                                            return co_begin_sign_in(session, r);
                                          });
  }

  /// Completes a sign-in at the redirect URI: `query` is the callback's query string (without "?").
  /// In order: the `state` finds and consumes the attempt (kInvalidState if it is malformed,
  /// unknown, expired, already used, or was started by another browser session than `session`);
  /// RFC 9207's `iss` and an error answer are checked (check_callback()); the code is exchanged
  /// (with the PKCE verifier, within token_timeout); the ID token is validated (validate_id_token(),
  /// with the attempt's nonce; an unknown `kid` fetches the JWKS again). Then `session` is signed
  /// in: a new ID, owner owner_for(issuer, sub), sid sid_for(issuer, sid), `user_agent`, none of
  /// the data it had before, the fields listed in `fields`; and saved.
  /// Errors: invalid_argument (kInvalidState, kInvalidToken, kUnknownKey, a malformed callback, a
  /// refused code); permission_denied with service type "access_denied" when the user declined;
  /// the provider's other errors; unavailable. On error the session is not signed in.
  Result<SignInResult> complete_sign_in(Session& session, std::string_view query, std::string_view user_agent);
  Task<Result<SignInResult>> co_complete_sign_in(Session& session, std::string_view query,
                                                 std::string_view user_agent);
  template <class CompletionToken>
  auto async_complete_sign_in(Session& session, std::string_view query, std::string_view user_agent,
                              CompletionToken&& token) {
    return async_run<Result<SignInResult>>(executor_for(session), std::forward<CompletionToken>(token),
                                           [this, &session, q = std::string(query), ua = std::string(user_agent)] {
                                             return co_complete_sign_in(session, q, ua);
                                           });
  }

  /// A valid access token for the session's user. If it has expired, the session's refresh token is
  /// redeemed by the refresh pattern (Session::co_refresh_with_lock, keyed on "refresh_token"):
  /// across every instance sharing the store, exactly one caller redeems it and the others wait and
  /// use the result; the lock is renewed while the token endpoint is slow, so a refresh token is
  /// never sent twice. Errors: kNotSignedIn; kLoginRequired (expired, no refresh token);
  /// kInvalidGrant when the provider refused the refresh token: the session has then been
  /// destroyed (signed out); unavailable when the provider or the store did not answer in time
  /// (the session stays as it was); the provider's other errors.
  Result<AccessToken> access_token(Session& session);
  Task<Result<AccessToken>> co_access_token(Session& session);
  template <class CompletionToken>
  auto async_access_token(Session& session, CompletionToken&& token) {
    return async_run<Result<AccessToken>>(executor_for(session), std::forward<CompletionToken>(token),
                                          [this, &session] { return co_access_token(session); });
  }

  /// The user's claims from the provider's UserInfo endpoint, with the access_token() above.
  /// Errors: those of access_token(); internal when the provider has no UserInfo endpoint; those of
  /// parse_userinfo_response() (permission_denied when it refuses the token).
  Result<UserInfo> userinfo(Session& session);
  Task<Result<UserInfo>> co_userinfo(Session& session);
  template <class CompletionToken>
  auto async_userinfo(Session& session, CompletionToken&& token) {
    return async_run<Result<UserInfo>>(executor_for(session), std::forward<CompletionToken>(token),
                                       [this, &session] { return co_userinfo(session); });
  }

  /// Signs the session out: destroys it (first, so that the user is signed out here whatever the
  /// provider does), then revokes its refresh token when the provider has a revocation endpoint,
  /// and returns where to send the browser (see SignOutResult). A session not signed in through the
  /// provider is destroyed too. Errors: the store's only (the session then stays).
  Result<SignOutResult> sign_out(Session& session);
  Task<Result<SignOutResult>> co_sign_out(Session& session);
  template <class CompletionToken>
  auto async_sign_out(Session& session, CompletionToken&& token) {
    return async_run<Result<SignOutResult>>(executor_for(session), std::forward<CompletionToken>(token),
                                            [this, &session] { return co_sign_out(session); });
  }

  /// Handles a back-channel logout request's token (the form field "logout_token"): validates it
  /// (validate_logout_token(); an unknown `kid` fetches the JWKS again), refuses a `jti` seen before
  /// (kReplayed; every instance sharing the store sees it), then destroys every session of its
  /// `sid` (sid_for()), or, without `sid`, every session of its `sub` (owner_for()). Errors:
  /// invalid_argument (refused token, replay): answer 400; unavailable: answer 503 (the `jti` is
  /// then forgotten, so that the provider's retry works).
  Result<BackchannelLogoutResult> backchannel_logout(std::string_view logout_token);
  Task<Result<BackchannelLogoutResult>> co_backchannel_logout(std::string_view logout_token);
  template <class CompletionToken>
  auto async_backchannel_logout(std::string_view logout_token, CompletionToken&& token) {
    return async_run<Result<BackchannelLogoutResult>>(options_.executor, std::forward<CompletionToken>(token),
                                                      [this, t = std::string(logout_token)] {
                                                        return co_backchannel_logout(t);
                                                      });
  }

 private:
  struct Attempt;
  struct SignInTokens {
    IdTokenClaims claims;
    TokenResponse tokens;
  };

  Executor executor_for(const Session& session) const;
  ClientCredentials credentials() const;
  std::int64_t now_epoch() const;
  Task<Result<Attempt>> co_consume_attempt(const Session& session, const std::string& state);
  Task<Result<SignInTokens>> co_redeem_code(const Attempt& attempt, const CallbackParams& params);
  Status apply_sign_in(Session& session, const IdTokenClaims& claims, const TokenResponse& tokens,
                       std::string_view user_agent) const;
  void store_tokens(Session& session, const TokenResponse& tokens) const;
  bool access_expired(const Session& session) const;
  bool needs_refresh(const Session& session) const;
  Task<Result<bool>> co_refresh(Session& session);
  Task<Status> co_refresh_step(Session& session, bool& grant_revoked);
  Task<Result<std::size_t>> co_end_sessions(const LogoutTokenClaims& claims);
  Task<bool> co_revoke(const std::string& refresh_token);

  RelyingPartyOptions options_;
  std::string client_secret_;
  std::unique_ptr<detail::ProviderClient> provider_;
};

}  // namespace websession::oidc
