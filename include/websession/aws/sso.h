// IAM Identity Center (SSO) profiles: role credentials from the SSO portal (GetRoleCredentials),
// with the access token that `aws sso login` keeps in ~/.aws/sso/cache. websession never signs
// in itself and never refreshes that token: when it has expired, the error says to run
// `aws sso login` again.
//
//   [profile dev]                      [sso-session corp]
//   sso_session = corp                 sso_start_url = https://corp.awsapps.com/start
//   sso_account_id = 111122223333      sso_region = eu-west-1
//   sso_role_name = SessionsDeveloper
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "websession/async.h"
#include "websession/aws/config.h"
#include "websession/aws/credentials.h"
#include "websession/result.h"

namespace websession {
namespace aws::detail {
class ServiceHttp;
}  // namespace aws::detail

namespace aws {

/// An SSO profile's settings.
struct SsoConfig {
  /// The profile's name, for messages ("run aws sso login --profile <profile>").
  std::string profile;
  /// The `sso_session` name; empty for a legacy profile (sso_start_url on the profile itself).
  std::string session_name;
  std::string start_url;
  /// The portal's region (sso_region).
  std::string region;
  std::string account_id;
  std::string role_name;
  /// The portal's base URL; empty: AWS_ENDPOINT_URL_SSO, ..., else
  /// https://portal.sso.<region>.amazonaws.com (see sso_endpoint()).
  std::string endpoint;
};

/// The token cache file's name without ".json": the lower-case hex SHA-1 of the session name, or
/// of the start URL for a legacy profile, as the AWS CLI and SDKs name it.
[[nodiscard]] std::string sso_cache_key(const SsoConfig& config);

/// ~/.aws/sso/cache/<sso_cache_key()>.json ($HOME from `getenv`); nullopt without HOME.
[[nodiscard]] std::optional<std::string> sso_token_cache_path(const GetEnv& getenv, const SsoConfig& config);

/// An SSO access token from the cache.
struct SsoToken {
  std::string access_token;  ///< a secret
  std::chrono::system_clock::time_point expires_at;
};

/// Parses a token cache file (accessToken, expiresAt in ISO 8601). permission_denied when either
/// is missing or malformed.
[[nodiscard]] Result<SsoToken> parse_sso_token(std::string_view json);

/// Parses GetRoleCredentials' answer: roleCredentials with accessKeyId, secretAccessKey,
/// sessionToken and expiration (epoch milliseconds). unavailable when malformed.
[[nodiscard]] Result<Credentials> parse_sso_role_credentials(std::string_view json);

/// The portal's endpoint for `region` (resolve_service_endpoint with AWS_ENDPOINT_URL_SSO, the
/// services section key `sso`, AWS_ENDPOINT_URL, the profile's endpoint_url), else
/// https://portal.sso.<region>.amazonaws.com.
[[nodiscard]] std::string sso_endpoint(const GetEnv& getenv, std::string_view region,
                                       const ProfileProperties* profile = nullptr, const SharedConfig& config = {});

/// Role credentials from the SSO portal: reads the cached token on every fetch (so a new
/// `aws sso login` is picked up), then GET <endpoint>/federation/credentials?role_name=&account_id=
/// with the header x-amz-sso_bearer_token. Not cached by itself.
///
/// Errors: permission_denied when the token is missing or expired, or the portal refuses it (401,
/// 403), with "run aws sso login --profile <profile>"; unavailable when the portal is down or
/// throttles.
class SsoCredentialsProvider final : public CredentialsProvider {
 public:
  /// `getenv` gives HOME, AWS_CA_BUNDLE and the proxy variables; `clock` the time the token's
  /// expiry is checked against.
  SsoCredentialsProvider(SsoConfig config, GetEnv getenv = process_environment(), ServiceCallOptions options = {},
                         SystemClock clock = {});
  ~SsoCredentialsProvider() override;
  SsoCredentialsProvider(const SsoCredentialsProvider&) = delete;
  SsoCredentialsProvider& operator=(const SsoCredentialsProvider&) = delete;

  [[nodiscard]] Result<CredentialsPtr> credentials() override;
  [[nodiscard]] Task<Result<CredentialsPtr>> co_credentials() override;
  [[nodiscard]] std::string_view name() const noexcept override { return "sso"; }

 private:
  // The cached token, or why there is none usable.
  [[nodiscard]] Result<SsoToken> token() const;

  SsoConfig config_;
  GetEnv getenv_;
  SystemClock clock_;
  std::unique_ptr<detail::ServiceHttp> http_;
};

}  // namespace aws
}  // namespace websession
