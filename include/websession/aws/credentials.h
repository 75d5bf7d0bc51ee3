// AWS credentials and the providers that find them, following the AWS SDKs' default chain.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "websession/async.h"
#include "websession/aws/config.h"
#include "websession/net/http_client.h"
#include "websession/result.h"

namespace websession::aws {

/// A set of AWS credentials. Never log or print one: describe() deliberately does not exist.
struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  /// Empty for long-term credentials.
  std::string session_token;
  /// When temporary credentials stop working; nullopt for long-term credentials.
  std::optional<std::chrono::system_clock::time_point> expiration;
};

/// Shared, immutable credentials: providers hand out the same object until they refresh, so the
/// hot path copies a pointer, not three strings.
using CredentialsPtr = std::shared_ptr<const Credentials>;

/// A source of credentials. Implementations are thread-safe.
///
/// Errors: not_found when the source is not configured at all (the chain then asks the next one);
/// permission_denied or invalid_argument when it is configured wrongly; unavailable when it is
/// configured but failed for now (worth retrying). Messages never contain secrets.
class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  /// Current credentials. May block on I/O (container or instance metadata), bounded by short
  /// timeouts; cached providers answer from memory until shortly before expiry.
  [[nodiscard]] virtual Result<CredentialsPtr> credentials() = 0;
  /// credentials() for coroutines: the providers that do I/O do it asynchronously on the calling
  /// coroutine's executor, and the cache never blocks a thread while another caller refreshes.
  /// The default answers credentials() (right for providers that only read memory or files).
  [[nodiscard]] virtual Task<Result<CredentialsPtr>> co_credentials() { co_return credentials(); }
  /// Forgets cached credentials, for example after the service answered ExpiredToken.
  virtual void invalidate() noexcept {}
  /// A short name for messages and docs ("environment", "profile", "container", "imds", ...).
  [[nodiscard]] virtual std::string_view name() const noexcept = 0;
};

/// Returns the credentials it was given ("explicit" in the SDKs' chain).
class StaticCredentialsProvider final : public CredentialsProvider {
 public:
  explicit StaticCredentialsProvider(Credentials credentials);
  [[nodiscard]] Result<CredentialsPtr> credentials() override;
  [[nodiscard]] std::string_view name() const noexcept override { return "static"; }

 private:
  CredentialsPtr credentials_;
};

/// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and the optional AWS_SESSION_TOKEN, read on each call
/// (the default chain caches the answer, so in practice once).
class EnvironmentCredentialsProvider final : public CredentialsProvider {
 public:
  explicit EnvironmentCredentialsProvider(GetEnv getenv = process_environment());
  [[nodiscard]] Result<CredentialsPtr> credentials() override;
  [[nodiscard]] std::string_view name() const noexcept override { return "environment"; }

 private:
  GetEnv getenv_;
};

/// Options for the providers that fetch credentials over HTTP.
/// Their requests never go through an HTTP proxy, whatever HTTPS_PROXY or HTTP_PROXY say: the
/// metadata endpoints are on the host or the instance, and a proxy must not see their tokens.
struct RemoteProviderOptions {
  /// Both connect and total timeout of each HTTP request. The SDKs use one second so that a
  /// machine outside ECS or EC2 is not slowed down.
  std::chrono::milliseconds timeout{1000};
  /// TLS for an https AWS_CONTAINER_CREDENTIALS_FULL_URI (a private CA, for example).
  net::TlsOptions tls;
};

/// Options for the credential sources that call AWS services: STS (assumed roles, web identity)
/// and the SSO portal. Unlike the metadata endpoints, these go through the HTTP proxies of the
/// environment (HTTPS_PROXY, NO_PROXY), as every AWS call does.
struct ServiceCallOptions {
  /// Each request's deadline, connecting included.
  std::chrono::milliseconds timeout{3000};
  /// TLS; an empty ca_file means AWS_CA_BUNDLE when set, else the system's CAs.
  net::TlsOptions tls;
  net::ProxyOptions proxy;
};

/// The clock the caches and signers read; injectable for tests.
using SystemClock = std::function<std::chrono::system_clock::time_point()>;

/// What the shared-file and web identity sources need to reach their own sources.
struct CredentialSourceOptions {
  /// Container and instance metadata (credential_source = EcsContainer, Ec2InstanceMetadata).
  RemoteProviderOptions remote{};
  /// STS and the SSO portal.
  ServiceCallOptions services{};
  /// How long a credential_process may run before it is killed.
  std::chrono::milliseconds process_timeout{60'000};
  /// The region of STS calls. Default: AWS_REGION, AWS_DEFAULT_REGION, the role profile's
  /// `region`, the named profile's `region`, else us-east-1.
  std::optional<std::string> region{};
  /// empty: system_clock::now (expiry checks of SSO tokens and signing of STS calls).
  SystemClock clock{};
};

/// The shared files (AWS_CONFIG_FILE, default ~/.aws/config, and AWS_SHARED_CREDENTIALS_FILE,
/// default ~/.aws/credentials; the credentials file wins key by key). The profile is `profile` if
/// given, else AWS_PROFILE, else "default". The profile's form decides the source, in the SDKs'
/// order:
/// - `role_arn` with `source_profile` (a chain of profiles, cycles refused) or `credential_source`
///   (Environment, Ec2InstanceMetadata, EcsContainer): STS AssumeRole signed with the source's
///   credentials; `external_id`, `duration_seconds`, `role_session_name` apply. `mfa_serial` is
///   not supported (nothing can prompt for a code) and is an error;
/// - `role_arn` with `web_identity_token_file`: STS AssumeRoleWithWebIdentity;
/// - `sso_session` (with its `[sso-session name]` section) or the legacy `sso_start_url` and
///   `sso_region`, with `sso_account_id` and `sso_role_name`: the SSO portal's role credentials,
///   with the access token that `aws sso login` left in ~/.aws/sso/cache;
/// - `aws_access_key_id`, `aws_secret_access_key`, `aws_session_token`: static keys;
/// - `credential_process`: the command's JSON output (see ProcessCredentialsProvider).
/// In a source profile, static keys win over `role_arn`, as in the SDKs.
///
/// The profile is resolved once, on the first call; temporary credentials come from its sources
/// (cached, refreshed ahead of expiry) each time this provider is asked.
///
/// Errors: not_found when the profile is not named (neither `profile` nor AWS_PROFILE) and does
/// not exist, or when it exists but configures no credentials at all (it may hold only a region);
/// then the chain asks the next source. A named profile that does not exist, or a profile whose
/// configuration is wrong, is permission_denied; a source that fails keeps its error (unavailable
/// when STS or the SSO portal is down). Every message names the profile.
class ProfileCredentialsProvider final : public CredentialsProvider {
 public:
  explicit ProfileCredentialsProvider(GetEnv getenv = process_environment(),
                                      std::optional<std::string> profile = std::nullopt,
                                      CredentialSourceOptions options = {});
  [[nodiscard]] Result<CredentialsPtr> credentials() override;
  [[nodiscard]] Task<Result<CredentialsPtr>> co_credentials() override;
  void invalidate() noexcept override;
  [[nodiscard]] std::string_view name() const noexcept override { return "profile"; }

 private:
  // The provider the profile resolves to (once), or why it does not; `name` is the profile's.
  Result<std::shared_ptr<CredentialsProvider>> resolved(std::string& name);
  Result<CredentialsPtr> finish(Result<CredentialsPtr> answer, const std::string& name) const;

  GetEnv getenv_;
  std::optional<std::string> profile_;
  CredentialSourceOptions options_;
  std::mutex mutex_;
  std::shared_ptr<CredentialsProvider> resolved_;
};

/// ECS (and EKS Pod Identity) container credentials: GET http://169.254.170.2 +
/// AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, or AWS_CONTAINER_CREDENTIALS_FULL_URI (plain http only to
/// a loopback or the ECS/EKS link-local addresses), with the Authorization header from
/// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (read on every fetch) or AWS_CONTAINER_AUTHORIZATION_TOKEN.
/// Not cached by itself; wrap it in CachedCredentialsProvider (the default chain does).
class ContainerCredentialsProvider final : public CredentialsProvider {
 public:
  explicit ContainerCredentialsProvider(GetEnv getenv = process_environment(),
                                        RemoteProviderOptions options = {});
  [[nodiscard]] Result<CredentialsPtr> credentials() override;
  [[nodiscard]] Task<Result<CredentialsPtr>> co_credentials() override;
  [[nodiscard]] std::string_view name() const noexcept override { return "container"; }

 private:
  GetEnv getenv_;
  RemoteProviderOptions options_;
  net::HttpClient http_;
};

/// EC2 instance metadata, IMDSv2 only: PUT /latest/api/token (TTL header), then GET
/// /latest/meta-data/iam/security-credentials/ for the role and /<role> for the credentials.
/// Endpoint AWS_EC2_METADATA_SERVICE_ENDPOINT, else by AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE:
/// http://169.254.169.254 (IPv4, the default) or http://[fd00:ec2::254] (IPv6).
/// AWS_EC2_METADATA_DISABLED=true turns it off (not_found). An instance metadata service that was
/// never reached is not_found (this is not an EC2 instance); once it has answered, its failures are
/// unavailable. Not cached by itself.
class InstanceMetadataCredentialsProvider final : public CredentialsProvider {
 public:
  explicit InstanceMetadataCredentialsProvider(GetEnv getenv = process_environment(),
                                               RemoteProviderOptions options = {});
  [[nodiscard]] Result<CredentialsPtr> credentials() override;
  [[nodiscard]] Task<Result<CredentialsPtr>> co_credentials() override;
  [[nodiscard]] std::string_view name() const noexcept override { return "imds"; }

 private:
  GetEnv getenv_;
  RemoteProviderOptions options_;
  net::HttpClient http_;
  std::atomic<bool> reached_{false};
};

/// The instance metadata endpoint the provider uses for `getenv` (see above), or an error for an
/// unknown AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE.
[[nodiscard]] Result<std::string> instance_metadata_endpoint(const GetEnv& getenv);

/// Caches another provider's answer. Credentials without an expiration are kept forever; temporary
/// ones are refreshed `refresh_before` ahead of their expiration. Within that window the cached
/// credentials keep being served while one caller refreshes, and a refresh is tried at most once
/// per backoff (10 s; 200 ms after a transient failure), whether the last one failed or brought
/// credentials that are themselves already inside the window. Once no cached credentials work, a
/// failed refresh is the answer until the backoff ends. Thread-safe: one caller refreshes at a
/// time; the others use what still works, or wait for the refresh (asynchronously in
/// co_credentials(): a timer, never a blocked thread).
class CachedCredentialsProvider final : public CredentialsProvider {
 public:
  explicit CachedCredentialsProvider(std::shared_ptr<CredentialsProvider> inner,
                                     std::chrono::seconds refresh_before = std::chrono::minutes(5),
                                     SystemClock clock = {});
  [[nodiscard]] Result<CredentialsPtr> credentials() override;
  [[nodiscard]] Task<Result<CredentialsPtr>> co_credentials() override;
  void invalidate() noexcept override;
  [[nodiscard]] std::string_view name() const noexcept override { return inner_->name(); }

 private:
  // What a caller does next, decided under the lock.
  enum class Next { serve, refresh, wait };
  class RefreshGuard;
  Next decide(std::chrono::system_clock::time_point now, Result<CredentialsPtr>& answer);
  Result<CredentialsPtr> finish(Result<CredentialsPtr> fresh);
  [[nodiscard]] std::chrono::system_clock::time_point now() const;

  std::shared_ptr<CredentialsProvider> inner_;
  std::chrono::seconds refresh_before_;
  SystemClock clock_;
  std::mutex mutex_;
  std::condition_variable refreshed_;
  CredentialsPtr cached_;
  // One caller refreshes at a time, outside the lock; the others keep using credentials that still
  // work, or wait for the refresh when none do.
  bool refreshing_ = false;
  // After a failed fetch, no new one before this time: a missing or failing source must not cost
  // every call its timeout.
  std::chrono::system_clock::time_point retry_after_{};
  std::optional<Error> last_error_;
};

/// Asks each provider in turn; the first that answers is remembered and asked directly from then
/// on, as the SDKs do. A provider that is configured but fails ends the search with its own error
/// (unavailable stays unavailable, so callers retry): the chain never falls through to another
/// identity. When no provider is configured: permission_denied, naming what was tried and why each
/// declined (never a secret).
class CredentialsProviderChain final : public CredentialsProvider {
 public:
  explicit CredentialsProviderChain(std::vector<std::shared_ptr<CredentialsProvider>> providers);
  [[nodiscard]] Result<CredentialsPtr> credentials() override;
  [[nodiscard]] Task<Result<CredentialsPtr>> co_credentials() override;
  void invalidate() noexcept override;
  [[nodiscard]] std::string_view name() const noexcept override { return "chain"; }

 private:
  std::shared_ptr<CredentialsProvider> chosen();
  // Records provider `p`'s answer `c`; true when the search ends with it.
  bool consider(const std::shared_ptr<CredentialsProvider>& p, Result<CredentialsPtr>& c, std::string& tried);

  std::vector<std::shared_ptr<CredentialsProvider>> providers_;
  std::mutex mutex_;
  std::shared_ptr<CredentialsProvider> chosen_;
};

/// Options of the default chain.
struct DefaultChainOptions {
  GetEnv getenv;  ///< empty: the process environment
  /// An explicit profile: overrides AWS_PROFILE and, as in the SDKs, takes the environment's keys
  /// out of the chain (the profile was asked for by name).
  std::optional<std::string> profile;
  RemoteProviderOptions remote;
  SystemClock clock;  ///< empty: system_clock::now
  /// STS and the SSO portal.
  ServiceCallOptions services{};
  /// How long a credential_process may run.
  std::chrono::milliseconds process_timeout{60'000};
  /// The region of STS calls (see CredentialSourceOptions::region).
  std::optional<std::string> region{};
};

/// The AWS SDKs' default chain, first that is configured:
/// 1. environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), unless an explicit
///    profile was given;
/// 2. the shared files' profile, in every form of ProfileCredentialsProvider (static keys, assumed
///    roles, web identity, SSO, credential_process);
/// 3. web identity from the environment (AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN,
///    AWS_ROLE_SESSION_NAME: EKS IRSA);
/// 4. ECS / EKS Pod Identity container credentials;
/// 5. EC2 instance metadata (IMDSv2).
/// Each is cached; temporary credentials are refreshed five minutes before they expire. A source
/// that is configured but fails ends the search with its error, and a named profile (explicit or
/// AWS_PROFILE) that does not exist is an error: the chain never falls through to another identity.
/// Never throws: bad options (an unreadable AWS_CA_BUNDLE) are errors of the first call.
[[nodiscard]] std::shared_ptr<CredentialsProvider> default_credentials_chain(
    DefaultChainOptions options = {});

/// Parses the JSON document that the container and instance metadata endpoints return
/// (AccessKeyId, SecretAccessKey, Token, Expiration in ISO 8601). Exposed for tests.
[[nodiscard]] Result<Credentials> parse_credentials_document(std::string_view json);

/// Parses an ISO 8601 UTC timestamp such as "2015-08-30T12:36:00Z" (fractional seconds allowed).
[[nodiscard]] std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view text);

}  // namespace websession::aws
