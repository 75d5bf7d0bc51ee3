// Tokens after sign-in: the access token refreshed on demand under the session lock, and UserInfo.
#include <algorithm>
#include <utility>

#include "oidc/detail/provider_client.h"
#include "oidc/detail/rp.h"
#include "websession/oidc/relying_party.h"

namespace websession::oidc {
namespace {

Error login_required() {
  return Error(ErrorCode::not_found, "the access token has expired and there is no refresh token: sign in again",
               std::string(kLoginRequired));
}

Error signed_out_by_provider() {
  return Error(ErrorCode::not_found, "the provider refused the refresh token (invalid_grant): the session is signed out",
               std::string(kInvalidGrant));
}

}  // namespace

void RelyingParty::store_tokens(Session& session, const TokenResponse& tokens) const {
  const std::int64_t lifetime = tokens.expires_in ? tokens.expires_in->count() : options_.assumed_access_lifetime.count();
  const std::int64_t margin = std::min<std::int64_t>(options_.refresh_margin.count(), lifetime / 2);
  session.set(fields::kAccessToken, detail::text(tokens.access_token));
  session.set(fields::kAccessExpiresAt, now_epoch() + lifetime - margin);
  // A provider that does not rotate refresh tokens sends none with a refresh: the old one stays.
  if (!tokens.refresh_token.empty()) session.set(fields::kRefreshToken, detail::text(tokens.refresh_token));
}

bool RelyingParty::access_expired(const Session& session) const {
  const auto expires = session.get_int(fields::kAccessExpiresAt);
  return !expires || *expires <= now_epoch() || !session.get_string(fields::kAccessToken);
}

bool RelyingParty::needs_refresh(const Session& session) const {
  return is_signed_in(session) && session.get_string(fields::kRefreshToken).has_value() && access_expired(session);
}

Task<Status> RelyingParty::co_refresh_step(Session& session, bool& grant_revoked) {
  // Runs under the session's lock, with the session as it is now in the store.
  auto provider = co_await provider_->co_provider();
  if (!provider) co_return std::move(provider).error();
  const std::string refresh_token = session.get_string(fields::kRefreshToken).value_or("");
  const ClientCredentials client = credentials();
  const FormRequest form = build_refresh_request(client, refresh_token);
  auto tokens = co_await provider_->co_token(**provider, form);
  if (!tokens) {
    if (!is_invalid_grant(tokens.error())) co_return std::move(tokens).error();
    // The grant is gone. Dropping the tokens under the lock tells every request waiting for it that
    // there is nothing left to refresh, so none of them sends the dead refresh token again.
    grant_revoked = true;
    session.unset(fields::kRefreshToken);
    session.unset(fields::kAccessToken);
    co_return Status{};
  }
  if (!tokens->id_token.empty()) {
    // OpenID Connect Core 12.2: the same issuer, subject and audience; no nonce.
    IdTokenCheck check;
    check.issuer = options_.issuer;
    check.client_id = options_.client_id;
    check.algorithms = (*provider)->meta.id_token_signing_algs;
    check.clock_skew = options_.clock_skew;
    check.subject = session.get_string(fields::kSubject).value_or("");
    auto claims = co_await provider_->co_validate_id_token(**provider, tokens->id_token, check);
    if (!claims) co_return Error(ErrorCode::internal, "the refreshed ID token is invalid: " + claims.error().message,
                                 claims.error().service_type);
    session.set(fields::kIdToken, detail::text(tokens->id_token));
  }
  store_tokens(session, *tokens);
  co_return Status{};
}

Task<Result<bool>> RelyingParty::co_refresh(Session& session) {
  bool grant_revoked = false;
  const Session::NeedsRefresh needs = [this](const Session& s) { return needs_refresh(s); };
  const Session::AsyncRefresh step = [this, &grant_revoked](Session& s) { return co_refresh_step(s, grant_revoked); };
  // Waiters wait as long as a live holder may legitimately take: its token request, a JWKS fetch
  // for the refreshed ID token, and a stale lock's takeover.
  LockWaitOptions wait;
  wait.max_wait = std::chrono::duration_cast<std::chrono::milliseconds>(
      options_.token_timeout + 2 * options_.request_timeout + options_.store->max_lock_time() + std::chrono::seconds(2));
  auto outcome = co_await session.co_refresh_with_lock(needs, step, wait);
  if (grant_revoked) {
    (void)co_await session.co_destroy();
    co_return signed_out_by_provider();
  }
  if (!outcome) {
    Error e = std::move(outcome).error();
    if (e.code == ErrorCode::not_found) co_return detail::not_signed_in("the session ended");
    if (e.code == ErrorCode::lock_held) {
      co_return Error(ErrorCode::unavailable, "another request is still refreshing the session's tokens; try again");
    }
    co_return e;
  }
  co_return outcome->rotated;
}

Task<Result<AccessToken>> RelyingParty::co_access_token(Session& session) {
  if (!is_signed_in(session)) co_return detail::not_signed_in("the session is not signed in through the provider");
  bool refreshed = false;
  if (needs_refresh(session)) {
    auto r = co_await co_refresh(session);
    if (!r) co_return std::move(r).error();
    refreshed = *r;
  }
  if (!is_signed_in(session)) co_return detail::not_signed_in("the session ended");
  // A token that the refresh pattern found valid may have reached its expiry second since: it is
  // still good for this request. Only a session that cannot be refreshed must sign in again.
  const auto token = session.get_string(fields::kAccessToken);
  if (!token || (access_expired(session) && !session.get_string(fields::kRefreshToken))) co_return login_required();
  co_return AccessToken{*token, refreshed};
}

Task<Result<UserInfo>> RelyingParty::co_userinfo(Session& session) {
  auto token = co_await co_access_token(session);
  if (!token) co_return std::move(token).error();
  auto provider = co_await provider_->co_provider();
  if (!provider) co_return std::move(provider).error();
  const std::string subject = session.get_string(fields::kSubject).value_or("");
  auto claims = co_await provider_->co_userinfo(**provider, token->token, subject);
  if (!claims) co_return std::move(claims).error();
  co_return UserInfo{std::move(*claims), token->refreshed};
}

}  // namespace websession::oidc
