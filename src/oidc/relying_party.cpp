// The relying party: its options, the helpers around it, and the blocking forms of its operations.
// Sign-in is in rp_sign_in.cpp, tokens in rp_tokens.cpp, sign-out and back-channel logout in
// rp_logout.cpp.
#include "websession/oidc/relying_party.h"

#include <algorithm>
#include <iterator>
#include <stdexcept>

#include "oidc/detail/provider_client.h"
#include "oidc/detail/text.h"
#include "oidc/detail/url.h"
#include "oidc/detail/rp.h"

namespace websession::oidc {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument(message);
}

bool printable_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7F; });
}

template <class Duration>
void require_range(Duration value, Duration min, Duration max, const char* name) {
  require(value >= min && value <= max, std::string(name) + " is out of range");
}

// An absolute http(s) URL without fragment: https, or http on a loopback host (development).
void require_redirect_url(const std::string& url, const char* name) {
  const auto parts = detail::split_url(url);
  require(parts.has_value(), std::string(name) + " must be an absolute http(s) URL without user information or fragment");
  require(parts->scheme == "https" || detail::is_loopback_host(parts->host),
          std::string(name) + " must be https (http only on localhost, 127.0.0.1 or [::1])");
}

void validate_identity(const RelyingPartyOptions& o) {
  require(!o.issuer.empty(), "issuer is required");
  const auto issuer = detail::split_url(o.issuer);
  require(issuer.has_value() && !issuer->has_query, "issuer must be an absolute URL without query or fragment");
  require(issuer->scheme == "https" || is_development_issuer(o.issuer),
          "issuer must be https (http only on localhost, 127.0.0.1 or [::1])");
  require(!o.client_id.empty() && printable_ascii(o.client_id), "client_id is required (printable ASCII)");
  require(!o.client_secret.empty(), "client_secret is required");
  require_redirect_url(o.redirect_uri, "redirect_uri");
  if (!o.post_logout_redirect_uri.empty()) require_redirect_url(o.post_logout_redirect_uri, "post_logout_redirect_uri");
  require(detail::has_scope(o.scopes, "openid"), "scopes must contain \"openid\"");
  require(std::all_of(o.scopes.begin(), o.scopes.end(), [](char c) { return c >= 0x20 && c < 0x7F && c != '"'; }),
          "scopes must be printable ASCII");
  constexpr std::string_view kReserved[] = {"response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
                                            "code_challenge", "code_challenge_method"};
  for (const auto& [name, value] : o.authorization_params) {
    require(!name.empty() && std::find(std::begin(kReserved), std::end(kReserved), name) == std::end(kReserved),
            "authorization_params: \"" + name + "\" cannot be set (empty, or a parameter of the flow itself)");
  }
}

void validate_store(const RelyingPartyOptions& o) {
  require(o.store != nullptr, "store is required");
  require(o.store->lock_verification_property() == fields::kRefreshToken,
          "store: its lock_verification_property must be \"refresh_token\"");
}

void validate_times(const RelyingPartyOptions& o) {
  require_range(o.clock_skew, seconds(0), seconds(300), "clock_skew");
  require_range(o.sign_in_lifetime, seconds(10), seconds(3600), "sign_in_lifetime");
  require_range(o.metadata_ttl, seconds(60), seconds(7 * 24 * 3600), "metadata_ttl");
  require_range(o.jwks_refetch_interval, seconds(1), seconds(24 * 3600), "jwks_refetch_interval");
  require_range(o.request_timeout, milliseconds(100), milliseconds(120'000), "request_timeout");
  require_range(o.token_timeout, milliseconds(100), milliseconds(120'000), "token_timeout");
  require_range(o.refresh_margin, seconds(0), seconds(600), "refresh_margin");
  require_range(o.assumed_access_lifetime, seconds(1), seconds(24 * 3600), "assumed_access_lifetime");
}

std::shared_ptr<net::HttpClient> make_http(const RelyingPartyOptions& o) {
  if (o.http) return o.http;
  net::HttpClientOptions http;
  http.tls = o.tls;
  require(http.tls.verify, "tls.verify: certificates of the provider are always verified");
  http.executor = o.executor;
  return std::make_shared<net::HttpClient>(std::move(http));
}

}  // namespace

bool needs_sign_in(const Error& error) noexcept {
  return error.service_type == kNotSignedIn || error.service_type == kLoginRequired ||
         (error.code == ErrorCode::not_found && error.service_type == kInvalidGrant);
}

std::string owner_for(std::string_view issuer, std::string_view subject) {
  std::string owner(kOwnerPrefix);
  owner.append(issuer).append("#").append(subject);
  return owner;
}

std::string sid_for(std::string_view issuer, std::string_view sid) {
  if (sid.empty()) return {};
  std::string out(issuer);
  out.append("#").append(sid);
  return out;
}

Result<std::optional<std::string>> form_parameter(std::string_view form, std::string_view name) {
  std::optional<std::string> found;
  std::size_t start = 0;
  while (start <= form.size()) {
    const std::size_t end = std::min(form.find('&', start), form.size());
    const std::string_view pair = form.substr(start, end - start);
    start = end + 1;
    const std::size_t eq = pair.find('=');
    auto key = detail::percent_decode(pair.substr(0, eq), true);
    if (!key) return Error(ErrorCode::invalid_argument, "malformed percent-encoding in a form parameter name");
    if (*key != name) continue;
    if (found) return Error(ErrorCode::invalid_argument, "the parameter \"" + std::string(name) + "\" is given twice");
    auto value = detail::percent_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
    if (!value) return Error(ErrorCode::invalid_argument, "malformed percent-encoding in \"" + std::string(name) + "\"");
    found = std::move(*value);
  }
  return found;
}

RelyingParty::RelyingParty(RelyingPartyOptions options) : options_(std::move(options)) {
  validate_identity(options_);
  validate_store(options_);
  validate_times(options_);
  if (!options_.clock) options_.clock = [] { return system_now(); };
  if (!options_.executor) options_.executor = options_.store->executor();
  options_.http = make_http(options_);
  client_secret_ = std::move(options_.client_secret);
  options_.client_secret.clear();
  detail::ProviderClientOptions provider;
  provider.issuer = options_.issuer;
  provider.http = options_.http;
  provider.metadata_ttl = options_.metadata_ttl;
  provider.jwks_refetch_interval = options_.jwks_refetch_interval;
  provider.request_timeout = options_.request_timeout;
  provider.token_timeout = options_.token_timeout;
  provider.clock = options_.clock;
  provider_ = std::make_unique<detail::ProviderClient>(std::move(provider));
}

RelyingParty::~RelyingParty() = default;

bool RelyingParty::is_signed_in(const Session& session) const {
  return session.get_string(fields::kAuth) == kAuthOidc && session.get_string(fields::kIssuer) == options_.issuer;
}

Executor RelyingParty::executor_for(const Session& session) const {
  return options_.executor ? options_.executor : session.store().executor();
}

std::int64_t RelyingParty::now_epoch() const { return to_epoch_seconds(options_.clock()); }

ClientCredentials RelyingParty::credentials() const {
  return ClientCredentials{options_.client_id, client_secret_, options_.client_auth};
}

Task<Result<ProviderMetadata>> RelyingParty::co_metadata() {
  auto provider = co_await provider_->co_provider();
  if (!provider) co_return std::move(provider).error();
  co_return (*provider)->meta;
}

Result<ProviderMetadata> RelyingParty::metadata() {
  return run_blocking([&] { return co_metadata(); });
}

Result<std::string> RelyingParty::begin_sign_in(Session& session, std::string_view return_to) {
  return run_blocking([&] { return co_begin_sign_in(session, return_to); });
}

Result<SignInResult> RelyingParty::complete_sign_in(Session& session, std::string_view query,
                                                    std::string_view user_agent) {
  return run_blocking([&] { return co_complete_sign_in(session, query, user_agent); });
}

Result<AccessToken> RelyingParty::access_token(Session& session) {
  return run_blocking([&] { return co_access_token(session); });
}

Result<UserInfo> RelyingParty::userinfo(Session& session) {
  return run_blocking([&] { return co_userinfo(session); });
}

Result<SignOutResult> RelyingParty::sign_out(Session& session) {
  return run_blocking([&] { return co_sign_out(session); });
}

Result<BackchannelLogoutResult> RelyingParty::backchannel_logout(std::string_view logout_token) {
  return run_blocking([&] { return co_backchannel_logout(logout_token); });
}

}  // namespace websession::oidc
