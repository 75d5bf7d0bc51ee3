// AWS STS (the Security Token Service) for the credential sources that assume roles:
// AssumeRole, signed with the source's credentials, and AssumeRoleWithWebIdentity, unsigned, both
// over STS's query API (a form-encoded POST) with an XML answer. Building the request body and
// reading the answer are pure functions; StsClient only moves the bytes.
//
//   auto sts = *aws::StsClient::create("eu-west-1", aws::default_endpoint("sts", "eu-west-1"));
//   auto role = std::make_shared<aws::AssumeRoleCredentialsProvider>(
//       source, aws::AssumeRoleParams{.role_arn = "arn:aws:iam::123456789012:role/sessions"}, sts);
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "websession/async.h"
#include "websession/aws/config.h"
#include "websession/aws/credentials.h"
#include "websession/result.h"

namespace websession::aws {

/// What AssumeRole asks for.
struct AssumeRoleParams {
  std::string role_arn;
  /// Empty: default_role_session_name() at the time of the call.
  std::string role_session_name;
  /// The role's trust policy may require it (sts:ExternalId).
  std::optional<std::string> external_id;
  /// 900 to 43200; nullopt: STS's default (one hour).
  std::optional<int> duration_seconds;
};

/// What AssumeRoleWithWebIdentity asks for.
struct WebIdentityParams {
  std::string role_arn;
  /// Empty: default_role_session_name() at the time of the call.
  std::string role_session_name;
  /// The OpenID Connect token (for EKS, the service account's projected token). A secret.
  std::string token;
  std::optional<int> duration_seconds;
};

/// The form body of AssumeRole: Action, Version=2011-06-15, RoleArn, RoleSessionName and, when
/// set, ExternalId and DurationSeconds, each percent-encoded.
[[nodiscard]] std::string assume_role_body(const AssumeRoleParams& params);

/// The form body of AssumeRoleWithWebIdentity (RoleArn, RoleSessionName, WebIdentityToken,
/// DurationSeconds).
[[nodiscard]] std::string assume_role_with_web_identity_body(const WebIdentityParams& params);

/// "websession-<epoch seconds>": a session name within STS's pattern ([\w+=,.@-]{2,64}), as the
/// SDKs make one when none is configured.
[[nodiscard]] std::string default_role_session_name(std::chrono::system_clock::time_point now);

/// True when `name` is a valid role session name: 2 to 64 of letters, digits and `_+=,.@-`.
[[nodiscard]] bool valid_role_session_name(std::string_view name) noexcept;

/// Interprets STS's answer to `action` ("AssumeRole", "AssumeRoleWithWebIdentity"). A 200 answer
/// gives its Credentials (AccessKeyId, SecretAccessKey, SessionToken, Expiration). Otherwise the
/// error: unavailable for 5xx, 429, throttling and IDPCommunicationError (worth retrying), else
/// permission_denied; service_type is STS's error code (AccessDenied, InvalidIdentityToken,
/// ExpiredToken, ...) and the message carries STS's message with each of `secrets` removed. A 200
/// answer without credentials is unavailable ("malformed").
[[nodiscard]] Result<Credentials> parse_sts_response(std::string_view action, unsigned status, std::string_view body,
                                                     std::span<const std::string_view> secrets = {});

/// STS's endpoint for `region` (resolve_service_endpoint with AWS_ENDPOINT_URL_STS, the profile's
/// services section key `sts`, AWS_ENDPOINT_URL, the profile's endpoint_url), else
/// https://sts.<region>.amazonaws.com (.amazonaws.com.cn for cn- regions).
[[nodiscard]] std::string sts_endpoint(const GetEnv& getenv, std::string_view region,
                                       const ProfileProperties* profile = nullptr, const SharedConfig& config = {});

/// A small STS client for the credential sources. Thread-safe; shared by the providers of one
/// chain. Each call is one attempt within ServiceCallOptions::timeout: retries are the callers'
/// (the credentials cache's backoff and the DynamoDB client's retries).
class StsClient {
 public:
  /// A client of STS at `endpoint` (an http or https URL) signing for `region`. permission_denied
  /// for a malformed endpoint or region (configuration). `getenv` gives AWS_CA_BUNDLE and the
  /// proxy variables; `clock` the signing time.
  [[nodiscard]] static Result<std::shared_ptr<StsClient>> create(std::string region, std::string endpoint,
                                                                 ServiceCallOptions options = {}, GetEnv getenv = {},
                                                                 SystemClock clock = {});
  ~StsClient();
  StsClient(const StsClient&) = delete;
  StsClient& operator=(const StsClient&) = delete;

  /// AssumeRole, signed (SigV4, service "sts") with `source`. Errors as parse_sts_response(), and
  /// the transport's (unavailable, cancelled). `source` and `params` are read before the first
  /// suspension.
  [[nodiscard]] Task<Result<Credentials>> co_assume_role(const Credentials& source, const AssumeRoleParams& params);
  /// AssumeRoleWithWebIdentity (unsigned: the token is the proof). Errors as co_assume_role().
  [[nodiscard]] Task<Result<Credentials>> co_assume_role_with_web_identity(const WebIdentityParams& params);

  [[nodiscard]] const std::string& region() const noexcept;
  /// The endpoint's normalized URL.
  [[nodiscard]] const std::string& endpoint() const noexcept;

 private:
  struct Impl;
  explicit StsClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Temporary credentials of a role, from STS AssumeRole signed with the credentials of `source`
/// (a profile's source_profile or credential_source). Not cached by itself: wrap it in
/// CachedCredentialsProvider (the profile provider does). When STS answers ExpiredToken for the
/// source's credentials, the source is invalidated and asked once more.
class AssumeRoleCredentialsProvider final : public CredentialsProvider {
 public:
  AssumeRoleCredentialsProvider(std::shared_ptr<CredentialsProvider> source, AssumeRoleParams params,
                                std::shared_ptr<StsClient> sts);
  [[nodiscard]] Result<CredentialsPtr> credentials() override;
  [[nodiscard]] Task<Result<CredentialsPtr>> co_credentials() override;
  [[nodiscard]] std::string_view name() const noexcept override { return "assume-role"; }

 private:
  std::shared_ptr<CredentialsProvider> source_;
  AssumeRoleParams params_;
  std::shared_ptr<StsClient> sts_;
};

/// Where a web identity's token and role come from.
struct WebIdentityConfig {
  /// Read on every fetch: EKS rotates the projected token.
  std::string token_file;
  std::string role_arn;
  /// Empty: default_role_session_name().
  std::string role_session_name;
  std::optional<int> duration_seconds;
};

/// Temporary credentials of a role, from STS AssumeRoleWithWebIdentity with a token read from a
/// file (EKS IAM roles for service accounts, GitHub Actions, any OpenID Connect provider that the
/// role trusts). Not cached by itself.
///
/// Errors: from the environment, not_found while AWS_WEB_IDENTITY_TOKEN_FILE is unset;
/// permission_denied when AWS_ROLE_ARN is missing or the token file cannot be read; STS's errors as
/// parse_sts_response() (an invalid or expired token is permission_denied, an identity provider that
/// STS cannot reach is unavailable).
class WebIdentityCredentialsProvider final : public CredentialsProvider {
 public:
  /// From the environment, read on every call: AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN and the
  /// optional AWS_ROLE_SESSION_NAME. STS's region is options.region, else resolve_region() (for
  /// `profile`, default AWS_PROFILE), else us-east-1; its endpoint sts_endpoint().
  explicit WebIdentityCredentialsProvider(GetEnv getenv = process_environment(), CredentialSourceOptions options = {},
                                          std::optional<std::string> profile = std::nullopt);
  /// A fixed configuration (a profile's web_identity_token_file and role_arn) and STS client.
  WebIdentityCredentialsProvider(WebIdentityConfig config, std::shared_ptr<StsClient> sts);

  [[nodiscard]] Result<CredentialsPtr> credentials() override;
  [[nodiscard]] Task<Result<CredentialsPtr>> co_credentials() override;
  [[nodiscard]] std::string_view name() const noexcept override { return "web-identity"; }

 private:
  // The configuration and STS client to use now; not_found when the environment has none.
  Result<WebIdentityConfig> configuration() const;
  Result<std::shared_ptr<StsClient>> sts();

  std::optional<WebIdentityConfig> fixed_;
  GetEnv getenv_;
  CredentialSourceOptions options_;
  std::optional<std::string> profile_;
  std::mutex mutex_;
  std::shared_ptr<StsClient> sts_;
};

}  // namespace websession::aws
