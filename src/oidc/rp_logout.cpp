// Sign-out (RP-initiated logout, RFC 7009 revocation) and back-channel logout.
#include <algorithm>
#include <utility>

#include "core/sha256.h"
#include "oidc/detail/provider_client.h"
#include "oidc/detail/rp.h"
#include "websession/oidc/flow.h"
#include "websession/oidc/jose.h"
#include "websession/oidc/relying_party.h"
#include "websession/session_id.h"

namespace websession::oidc {

namespace detail {

std::string logout_jti_record_id(std::string_view issuer, std::string_view jti) {
  std::string input = "websession-oidc-logout-jti\n";
  input.append(issuer).append("\n").append(jti);
  const auto digest = ::websession::detail::sha256(input);
  const std::string encoded =
      base64url_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
  return encoded.substr(0, kSessionIdLength);
}

}  // namespace detail

namespace {

// The record that remembers a logout token's jti until the token could no longer pass validation.
// Its value is random: a store recognises a create's own earlier attempt (an answer lost, the call
// retried) by the record's contents, so two deliveries of one token must never write the same record.
NewSession seen_logout_token(TimePoint now, TimePoint replay_until) {
  NewSession record;
  record.data[detail::kLogoutJtiField] = random_token(16);
  record.created = now;
  record.expires = record.absolute_expires =
      std::max(floor_seconds(replay_until) + std::chrono::seconds(1), floor_seconds(now) + std::chrono::seconds(2));
  return record;
}

}  // namespace

Task<bool> RelyingParty::co_revoke(const std::string& refresh_token) {
  auto provider = co_await provider_->co_provider();
  if (!provider || !(*provider)->revocation_url) co_return false;
  const ClientCredentials client = credentials();
  const FormRequest form = build_revocation_request(client, refresh_token, "refresh_token");
  const Status revoked = co_await provider_->co_revoke(**provider, form);
  co_return revoked.ok();
}

Task<Result<SignOutResult>> RelyingParty::co_sign_out(Session& session) {
  SignOutResult result;
  result.was_signed_in = is_signed_in(session);
  const std::string id_token = session.get_string(fields::kIdToken).value_or("");
  const std::string refresh_token = session.get_string(fields::kRefreshToken).value_or("");
  // Destroyed first: the user is signed out here whatever the provider does next.
  if (Status st = co_await session.co_destroy(); !st) co_return std::move(st).error();
  if (!result.was_signed_in) co_return result;
  if (!refresh_token.empty()) result.revoked = co_await co_revoke(refresh_token);
  auto provider = co_await provider_->co_provider();
  if (!provider || (*provider)->meta.end_session_endpoint.empty()) co_return result;
  LogoutRequest logout;
  logout.end_session_endpoint = (*provider)->meta.end_session_endpoint;
  logout.id_token_hint = id_token;
  logout.post_logout_redirect_uri = options_.post_logout_redirect_uri;
  logout.client_id = options_.client_id;
  logout.extra = options_.end_session_params;
  result.redirect_to = build_logout_url(logout);
  co_return result;
}

Task<Result<std::size_t>> RelyingParty::co_end_sessions(const LogoutTokenClaims& claims) {
  // Back-Channel Logout 2.5: with a sid, the sessions of that provider session; else every
  // session of the subject.
  if (!claims.session_id.empty()) {
    const std::string sid = sid_for(options_.issuer, claims.session_id);
    co_return co_await options_.store->co_destroy_sid_sessions(sid);
  }
  const std::string owner = owner_for(options_.issuer, claims.subject);
  co_return co_await options_.store->co_destroy_owner_sessions(owner);
}

Task<Result<BackchannelLogoutResult>> RelyingParty::co_backchannel_logout(std::string_view logout_token) {
  auto provider = co_await provider_->co_provider();
  if (!provider) co_return std::move(provider).error();
  LogoutTokenCheck check;
  check.issuer = options_.issuer;
  check.client_id = options_.client_id;
  check.algorithms = (*provider)->meta.id_token_signing_algs;
  check.clock_skew = options_.clock_skew;
  const std::string token(logout_token);
  auto claims = co_await provider_->co_validate_logout_token(**provider, token, check);
  if (!claims) co_return std::move(claims).error();
  // The jti is remembered with the store's conditional create: of two deliveries of one token, on
  // any instances, exactly one creates the record; the other is a replay.
  const std::string record_id = detail::logout_jti_record_id(options_.issuer, claims->jwt_id);
  const NewSession record = seen_logout_token(options_.clock(), claims->replay_until);
  if (Status st = co_await options_.store->co_create(record_id, record); !st) {
    if (st.code() == ErrorCode::already_exists) {
      co_return Error(ErrorCode::invalid_argument, "this logout token was already used", std::string(kReplayed));
    }
    co_return std::move(st).error();
  }
  auto ended = co_await co_end_sessions(*claims);
  if (!ended) {
    // Forget the jti, so that the provider's retry of this delivery is not taken for a replay.
    (void)co_await options_.store->co_destroy(record_id);
    co_return std::move(ended).error();
  }
  co_return BackchannelLogoutResult{*ended};
}

}  // namespace websession::oidc
