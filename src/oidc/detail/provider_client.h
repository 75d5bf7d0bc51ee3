// The relying party's calls to the provider over net::HttpClient: discovery and JWKS (cached, the
// JWKS fetched again on an unknown `kid` at most once per interval), the token endpoint, UserInfo and
// revocation, each with its deadline; and token validation with the cached keys.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "websession/async.h"
#include "websession/net/http_client.h"
#include "websession/oidc/discovery.h"
#include "websession/oidc/flow.h"
#include "websession/oidc/jose.h"
#include "websession/oidc/tokens.h"
#include "websession/result.h"
#include "websession/session_store.h"

namespace websession::oidc::detail {

/// The provider as discovered: its metadata, and the endpoints the client calls, parsed once.
struct Provider {
  ProviderMetadata meta;
  net::Url token_url;
  net::Url jwks_url;
  std::optional<net::Url> userinfo_url;
  std::optional<net::Url> revocation_url;
};

/// Builds a Provider from a validated configuration. internal if an endpoint does not parse.
Result<Provider> make_provider(ProviderMetadata meta);

struct ProviderClientOptions {
  std::string issuer;
  std::shared_ptr<net::HttpClient> http;
  std::chrono::seconds metadata_ttl{3600};
  std::chrono::seconds jwks_refetch_interval{60};
  std::chrono::milliseconds request_timeout{5000};
  std::chrono::milliseconds token_timeout{10'000};
  /// The wall clock, for token validation.
  Clock clock;
};

/// Thread-safe; the caches are shared by every caller, and no lock is held across a co_await.
class ProviderClient {
 public:
  explicit ProviderClient(ProviderClientOptions options);

  /// The discovered provider: cached for metadata_ttl; when a fetch fails, an earlier copy is
  /// used. unavailable (the provider did not answer, or answered 5xx/429), internal otherwise.
  Task<Result<std::shared_ptr<const Provider>>> co_provider();

  /// POSTs a form to the token endpoint within token_timeout and interprets the answer
  /// (parse_token_response()).
  Task<Result<TokenResponse>> co_token(const Provider& provider, const FormRequest& form);

  /// GETs UserInfo with the access token within request_timeout (parse_userinfo_response()).
  Task<Result<boost::json::object>> co_userinfo(const Provider& provider, const std::string& access_token,
                                                const std::string& subject);

  /// POSTs a revocation request within request_timeout (parse_revocation_response()).
  Task<Status> co_revoke(const Provider& provider, const FormRequest& form);

  /// validate_id_token() with the cached JWKS; on kUnknownKey, once more after fetching the JWKS
  /// again (when the last such fetch is older than jwks_refetch_interval).
  Task<Result<IdTokenClaims>> co_validate_id_token(const Provider& provider, const std::string& token,
                                                   const IdTokenCheck& check);
  /// The same for validate_logout_token().
  Task<Result<LogoutTokenClaims>> co_validate_logout_token(const Provider& provider, const std::string& token,
                                                           const LogoutTokenCheck& check);

 private:
  using SteadyTime = std::chrono::steady_clock::time_point;

  Task<Result<std::shared_ptr<const Jwks>>> co_jwks(const Provider& provider, bool unknown_key);
  Task<Result<std::shared_ptr<const Jwks>>> co_fetch_jwks(const Provider& provider);
  Task<Result<std::shared_ptr<const Provider>>> co_fetch_provider();
  Task<Result<net::Response>> co_send(const net::Request& request, std::chrono::milliseconds timeout,
                                      std::string_view what);
  Task<Result<net::Response>> co_post_form(const net::Url& url, const FormRequest& form,
                                           std::chrono::milliseconds timeout, std::string_view what);

  ProviderClientOptions options_;
  net::Url discovery_url_;
  std::mutex mu_;
  std::shared_ptr<const Provider> provider_;
  SteadyTime provider_at_{};
  std::shared_ptr<const Jwks> jwks_;
  SteadyTime jwks_at_{};
  std::optional<SteadyTime> jwks_refetched_at_;
};

}  // namespace websession::oidc::detail
