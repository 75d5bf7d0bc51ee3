#include "oidc/detail/provider_client.h"

#include <array>
#include <utility>
#include <vector>

#include "oidc/detail/text.h"

namespace websession::oidc::detail {
namespace {

using std::chrono::steady_clock;

constexpr std::string_view kJson = "application/json";

bool is_unavailable_status(unsigned status) { return status >= 500 || status == 429; }

// A provider answer that is neither success nor anything the parsers know.
Error unexpected_status(std::string_view what, unsigned status) {
  return Error(is_unavailable_status(status) ? ErrorCode::unavailable : ErrorCode::internal,
               std::string(what) + " answered HTTP " + std::to_string(status));
}

Result<net::Url> parse_endpoint(const std::string& url, std::string_view name) {
  auto parsed = net::Url::parse(url);
  if (!parsed) {
    return Error(ErrorCode::internal, "the provider configuration's \"" + std::string(name) + "\" cannot be used: " +
                                          parsed.error().message);
  }
  return std::move(*parsed);
}

Result<std::optional<net::Url>> optional_endpoint(const std::string& url, std::string_view name) {
  if (url.empty()) return std::optional<net::Url>();
  auto parsed = parse_endpoint(url, name);
  if (!parsed) return std::move(parsed).error();
  return std::optional<net::Url>(std::move(*parsed));
}

}  // namespace

Result<Provider> make_provider(ProviderMetadata meta) {
  auto token = parse_endpoint(meta.token_endpoint, "token_endpoint");
  if (!token) return std::move(token).error();
  auto jwks = parse_endpoint(meta.jwks_uri, "jwks_uri");
  if (!jwks) return std::move(jwks).error();
  auto userinfo = optional_endpoint(meta.userinfo_endpoint, "userinfo_endpoint");
  if (!userinfo) return std::move(userinfo).error();
  auto revocation = optional_endpoint(meta.revocation_endpoint, "revocation_endpoint");
  if (!revocation) return std::move(revocation).error();
  return Provider{std::move(meta), std::move(*token), std::move(*jwks), std::move(*userinfo), std::move(*revocation)};
}

ProviderClient::ProviderClient(ProviderClientOptions options) : options_(std::move(options)) {
  auto url = net::Url::parse(discovery_url(options_.issuer));
  if (!url) throw std::invalid_argument("issuer: " + url.error().message);
  discovery_url_ = std::move(*url);
}

Task<Result<net::Response>> ProviderClient::co_send(const net::Request& request, std::chrono::milliseconds timeout,
                                                    std::string_view what) {
  const auto deadline = steady_clock::now() + timeout;
  auto response = co_await options_.http->co_request(request, deadline);
  if (!response) {
    Error e = std::move(response).error();
    e.message = std::string(what) + " did not answer: " + e.message;
    co_return e;
  }
  co_return response;
}

Task<Result<net::Response>> ProviderClient::co_post_form(const net::Url& url, const FormRequest& form,
                                                         std::chrono::milliseconds timeout, std::string_view what) {
  std::vector<net::HeaderView> headers = {{"Content-Type", FormRequest::content_type}, {"Accept", kJson}};
  if (!form.authorization.empty()) headers.push_back({"Authorization", form.authorization});
  net::Request request;
  request.method = "POST";
  request.url = &url;
  request.headers = headers;
  request.body = form.body;
  co_return co_await co_send(request, timeout, what);
}

Task<Result<std::shared_ptr<const Provider>>> ProviderClient::co_fetch_provider() {
  constexpr std::string_view kWhat = "the provider's discovery document";
  const std::array<net::HeaderView, 1> headers = {net::HeaderView{"Accept", kJson}};
  net::Request request;
  request.url = &discovery_url_;
  request.headers = headers;
  auto response = co_await co_send(request, options_.request_timeout, kWhat);
  if (!response) co_return std::move(response).error();
  if (response->status != 200) co_return unexpected_status(kWhat, response->status);
  auto meta = parse_provider_metadata(response->body, options_.issuer);
  if (!meta) co_return Error(ErrorCode::internal, meta.error().message, meta.error().service_type);
  auto provider = make_provider(std::move(*meta));
  if (!provider) co_return std::move(provider).error();
  co_return std::make_shared<const Provider>(std::move(*provider));
}

Task<Result<std::shared_ptr<const Provider>>> ProviderClient::co_provider() {
  std::shared_ptr<const Provider> cached;
  {
    std::lock_guard lock(mu_);
    cached = provider_;
    if (cached && steady_clock::now() - provider_at_ < options_.metadata_ttl) co_return cached;
  }
  auto fetched = co_await co_fetch_provider();
  if (!fetched) {
    // A provider that does not answer for a while keeps working with what it said last.
    if (cached) co_return cached;
    co_return std::move(fetched).error();
  }
  std::lock_guard lock(mu_);
  provider_ = *fetched;
  provider_at_ = steady_clock::now();
  co_return std::move(*fetched);
}

Task<Result<std::shared_ptr<const Jwks>>> ProviderClient::co_fetch_jwks(const Provider& provider) {
  constexpr std::string_view kWhat = "the provider's JWKS";
  const std::array<net::HeaderView, 1> headers = {net::HeaderView{"Accept", kJson}};
  net::Request request;
  request.url = &provider.jwks_url;
  request.headers = headers;
  auto response = co_await co_send(request, options_.request_timeout, kWhat);
  if (!response) co_return std::move(response).error();
  if (response->status != 200) co_return unexpected_status(kWhat, response->status);
  auto jwks = Jwks::parse(response->body);
  if (!jwks) co_return Error(ErrorCode::internal, jwks.error().message, jwks.error().service_type);
  co_return std::make_shared<const Jwks>(std::move(*jwks));
}

Task<Result<std::shared_ptr<const Jwks>>> ProviderClient::co_jwks(const Provider& provider, bool unknown_key) {
  std::shared_ptr<const Jwks> cached;
  {
    std::lock_guard lock(mu_);
    cached = jwks_;
    const auto now = steady_clock::now();
    if (unknown_key) {
      // Keys rotate, so an unknown kid is worth one more look, but not more often than the
      // interval: a flood of made-up kids must not become a flood of requests to the provider.
      if (jwks_refetched_at_ && now - *jwks_refetched_at_ < options_.jwks_refetch_interval) co_return cached;
      jwks_refetched_at_ = now;
    } else if (cached && now - jwks_at_ < options_.metadata_ttl) {
      co_return cached;
    }
  }
  auto fetched = co_await co_fetch_jwks(provider);
  if (!fetched) {
    if (cached) co_return cached;
    co_return std::move(fetched).error();
  }
  std::lock_guard lock(mu_);
  jwks_ = *fetched;
  jwks_at_ = steady_clock::now();
  co_return std::move(*fetched);
}

Task<Result<IdTokenClaims>> ProviderClient::co_validate_id_token(const Provider& provider, const std::string& token,
                                                                 const IdTokenCheck& check) {
  auto jwks = co_await co_jwks(provider, false);
  if (!jwks) co_return std::move(jwks).error();
  auto claims = validate_id_token(token, **jwks, check, options_.clock());
  if (claims || claims.error().service_type != kUnknownKey) co_return claims;
  auto again = co_await co_jwks(provider, true);
  if (!again || *again == *jwks) co_return claims;
  co_return validate_id_token(token, **again, check, options_.clock());
}

Task<Result<LogoutTokenClaims>> ProviderClient::co_validate_logout_token(const Provider& provider,
                                                                         const std::string& token,
                                                                         const LogoutTokenCheck& check) {
  auto jwks = co_await co_jwks(provider, false);
  if (!jwks) co_return std::move(jwks).error();
  auto claims = validate_logout_token(token, **jwks, check, options_.clock());
  if (claims || claims.error().service_type != kUnknownKey) co_return claims;
  auto again = co_await co_jwks(provider, true);
  if (!again || *again == *jwks) co_return claims;
  co_return validate_logout_token(token, **again, check, options_.clock());
}

Task<Result<TokenResponse>> ProviderClient::co_token(const Provider& provider, const FormRequest& form) {
  auto response = co_await co_post_form(provider.token_url, form, options_.token_timeout, "the token endpoint");
  if (!response) co_return std::move(response).error();
  co_return parse_token_response(response->status, response->body);
}

Task<Result<boost::json::object>> ProviderClient::co_userinfo(const Provider& provider,
                                                              const std::string& access_token,
                                                              const std::string& subject) {
  if (!provider.userinfo_url) co_return Error(ErrorCode::internal, "the provider has no UserInfo endpoint");
  const std::string authorization = "Bearer " + access_token;
  const std::array<net::HeaderView, 2> headers = {net::HeaderView{"Accept", kJson},
                                                  net::HeaderView{"Authorization", authorization}};
  net::Request request;
  request.url = &*provider.userinfo_url;
  request.headers = headers;
  auto response = co_await co_send(request, options_.request_timeout, "the UserInfo endpoint");
  if (!response) co_return std::move(response).error();
  const std::string* type = response->header("content-type");
  const std::string_view content_type = type != nullptr ? std::string_view(*type) : std::string_view();
  co_return parse_userinfo_response(response->status, content_type, response->body, subject);
}

Task<Status> ProviderClient::co_revoke(const Provider& provider, const FormRequest& form) {
  if (!provider.revocation_url) co_return Error(ErrorCode::internal, "the provider has no revocation endpoint");
  auto response =
      co_await co_post_form(*provider.revocation_url, form, options_.request_timeout, "the revocation endpoint");
  if (!response) co_return std::move(response).error();
  co_return parse_revocation_response(response->status, response->body);
}

}  // namespace websession::oidc::detail
