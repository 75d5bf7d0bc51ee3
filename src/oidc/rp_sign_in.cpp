// Sign-in: the attempt kept server-side between the redirect and the callback, and the callback.
#include <utility>

#include "oidc/detail/provider_client.h"
#include "oidc/detail/rp.h"
#include "oidc/detail/text.h"
#include "websession/oidc/flow.h"
#include "websession/oidc/relying_party.h"
#include "websession/session_id.h"

namespace websession::oidc {

struct RelyingParty::Attempt {
  std::string nonce;
  std::string code_verifier;
  std::string return_to;
  /// session_key() of the session of the browser that started the attempt.
  std::string browser;
};

namespace {

Fields attempt_fields(const std::string& nonce, const std::string& verifier, const std::string& return_to,
                      const std::string& browser) {
  Fields out;
  out[fields::kRefreshToken] = detail::kAttemptMarker;
  out[detail::kAttemptField] = boost::json::object{
      {"nonce", nonce}, {"code_verifier", verifier}, {"return_to", return_to}, {"browser", browser}};
  return out;
}

// The attempt in a locked record; nullopt when the record is not an attempt (a session's ID given
// as state, for example).
std::optional<std::string> string_member(const boost::json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

Error attempt_lock_error(Error e) {
  switch (e.code) {
    case ErrorCode::not_found: return detail::invalid_state("the sign-in attempt is unknown, expired or already used");
    case ErrorCode::lock_held: return detail::invalid_state("the sign-in attempt is already being used");
    case ErrorCode::verification_mismatch: return detail::invalid_state("the callback's state is not a sign-in attempt");
    case ErrorCode::invalid_argument: return detail::invalid_state("the callback's state is malformed");
    default: return e;
  }
}

}  // namespace

Task<Result<std::string>> RelyingParty::co_begin_sign_in(Session& session, std::string_view return_to) {
  auto provider = co_await provider_->co_provider();
  if (!provider) co_return std::move(provider).error();
  if (session.is_new()) {
    // The attempt is bound to the browser's session, so the browser needs one (and its cookie).
    session.set(detail::kSignInStartedField, now_epoch());
    if (Status st = co_await session.co_save(); !st) co_return std::move(st).error();
  }
  const SignInAttempt secrets = SignInAttempt::start();
  // The state is the attempt record's ID: 192 random bits, kept hashed at rest like a session ID.
  const std::string state = generate_session_id();
  NewSession record;
  record.data = attempt_fields(secrets.nonce, secrets.code_verifier, sanitize_return_to(return_to),
                               session_key(session.id()));
  record.created = options_.clock();
  record.expires = record.absolute_expires = floor_seconds(record.created + options_.sign_in_lifetime);
  if (Status st = co_await options_.store->co_create(state, record); !st) co_return std::move(st).error();
  AuthorizationRequest request;
  request.authorization_endpoint = (*provider)->meta.authorization_endpoint;
  request.client_id = options_.client_id;
  request.redirect_uri = options_.redirect_uri;
  request.scope = options_.scopes;
  request.state = state;
  request.nonce = secrets.nonce;
  request.code_challenge = secrets.code_challenge();
  request.extra = options_.authorization_params;
  co_return build_authorization_url(request);
}

Task<Result<RelyingParty::Attempt>> RelyingParty::co_consume_attempt(const Session& session, const std::string& state) {
  // Single use, on every instance: lock() succeeds for one caller only, and a later lock that takes
  // over a stale one (its holder died before destroying the record) is refused as a reuse too.
  const Value marker(detail::kAttemptMarker);
  auto grant = co_await options_.store->co_lock(state, marker);
  if (!grant) co_return attempt_lock_error(std::move(grant).error());
  if (grant->took_over) co_return detail::invalid_state("the sign-in attempt was already used");
  (void)co_await options_.store->co_destroy(state);  // tidiness: the lock already makes it unusable
  const auto* held = grant->record.data.if_contains(detail::kAttemptField);
  if (held == nullptr || !held->is_object() || !grant->record.owner.empty()) {
    co_return detail::invalid_state("the callback's state is not a sign-in attempt");
  }
  const auto& o = held->get_object();
  Attempt attempt{string_member(o, "nonce").value_or(""), string_member(o, "code_verifier").value_or(""),
                  string_member(o, "return_to").value_or("/"), string_member(o, "browser").value_or("")};
  if (attempt.nonce.empty() || attempt.code_verifier.empty() || attempt.browser.empty()) {
    co_return detail::invalid_state("the callback's state is not a sign-in attempt");
  }
  // Login CSRF: a callback carrying someone else's code and state reaches this browser's session,
  // not the one that started the sign-in.
  const std::string browser = session.is_new() ? std::string() : session_key(session.id());
  if (!detail::constant_time_equal(attempt.browser, browser)) {
    co_return detail::invalid_state("the sign-in was started in another browser (or the session changed since)");
  }
  co_return attempt;
}

Task<Result<RelyingParty::SignInTokens>> RelyingParty::co_redeem_code(const Attempt& attempt,
                                                                      const CallbackParams& params) {
  auto provider = co_await provider_->co_provider();
  if (!provider) co_return std::move(provider).error();
  const ProviderMetadata& meta = (*provider)->meta;
  auto code = check_callback(params, options_.issuer, meta.authorization_response_iss_parameter_supported);
  if (!code) co_return std::move(code).error();
  const ClientCredentials client = credentials();
  const FormRequest form = build_token_request(client, *code, options_.redirect_uri, attempt.code_verifier);
  auto tokens = co_await provider_->co_token(**provider, form);
  if (!tokens) {
    Error e = std::move(tokens).error();
    // A refused code is the callback's fault (used, expired, or not for this client), not a sign-out.
    if (is_invalid_grant(e)) e.code = ErrorCode::invalid_argument;
    e.message = "the code exchange failed: " + e.message;
    co_return e;
  }
  if (tokens->id_token.empty()) {
    co_return Error(ErrorCode::invalid_argument, "the token endpoint's answer has no ID token", std::string(kInvalidToken));
  }
  IdTokenCheck check;
  check.issuer = options_.issuer;
  check.client_id = options_.client_id;
  check.nonce = attempt.nonce;
  check.algorithms = meta.id_token_signing_algs;
  check.clock_skew = options_.clock_skew;
  auto claims = co_await provider_->co_validate_id_token(**provider, tokens->id_token, check);
  if (!claims) co_return std::move(claims).error();
  co_return SignInTokens{std::move(*claims), std::move(*tokens)};
}

Status RelyingParty::apply_sign_in(Session& session, const IdTokenClaims& claims, const TokenResponse& tokens,
                                   std::string_view user_agent) const {
  SignIn who;
  who.owner = owner_for(options_.issuer, claims.subject);
  who.sid = sid_for(options_.issuer, claims.session_id);
  who.user_agent = std::string(user_agent);
  // Nothing from before the authentication is carried into the authenticated session.
  who.keep_data = false;
  try {
    session.sign_in(std::move(who));
  } catch (const std::invalid_argument& e) {
    // sub and sid come from the provider: a control character or an enormous value is refused.
    return Error(ErrorCode::invalid_argument, std::string("the ID token's sub or sid cannot be stored: ") + e.what(),
                 std::string(kInvalidToken));
  }
  session.set(fields::kUser, detail::text(claims.display_name()));
  session.set(fields::kSubject, detail::text(claims.subject));
  session.set(fields::kIssuer, detail::text(options_.issuer));
  if (!claims.session_id.empty()) session.set(fields::kProviderSid, detail::text(claims.session_id));
  session.set(fields::kAuth, detail::text(kAuthOidc));
  session.set(fields::kIdToken, detail::text(tokens.id_token));
  store_tokens(session, tokens);
  return {};
}

Task<Result<SignInResult>> RelyingParty::co_complete_sign_in(Session& session, std::string_view query,
                                                             std::string_view user_agent) {
  auto params = parse_callback(query);
  if (!params) co_return std::move(params).error();
  if (!is_valid_session_id(params->state)) co_return detail::invalid_state("the callback's state is not one this site issued");
  auto attempt = co_await co_consume_attempt(session, params->state);
  if (!attempt) co_return std::move(attempt).error();
  auto redeemed = co_await co_redeem_code(*attempt, *params);
  if (!redeemed) co_return std::move(redeemed).error();
  if (Status st = apply_sign_in(session, redeemed->claims, redeemed->tokens, user_agent); !st) {
    co_return std::move(st).error();
  }
  if (Status st = co_await session.co_save(); !st) co_return std::move(st).error();
  co_return SignInResult{sanitize_return_to(attempt->return_to), redeemed->claims.display_name(),
                         redeemed->claims.subject, session.owner()};
}

}  // namespace websession::oidc
