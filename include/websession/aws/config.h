// AWS configuration as the SDKs resolve it: the environment, the shared config and credentials
// files, regions and endpoints.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "websession/result.h"

namespace websession::aws {

/// Looks up an environment variable; nullopt when unset. Injected so that tests never depend on
/// the process environment.
using GetEnv = std::function<std::optional<std::string>(std::string_view)>;

/// The real process environment (std::getenv).
[[nodiscard]] GetEnv process_environment();

/// `getenv` if set, else process_environment().
[[nodiscard]] GetEnv or_process_environment(GetEnv getenv);

/// One profile's properties, keys lowercased.
using ProfileProperties = std::map<std::string, std::string, std::less<>>;
/// Profiles by name.
using Profiles = std::map<std::string, ProfileProperties, std::less<>>;

/// Which shared file a text comes from: they name sections differently.
enum class SharedFileKind {
  /// ~/.aws/config: `[default]`, `[profile name]` (other section kinds such as `[sso-session x]`
  /// are ignored).
  config,
  /// ~/.aws/credentials: `[name]`.
  credentials,
};

/// Parses a shared config or credentials file (INI as the SDKs read it: `#` and `;` comments,
/// `key = value`, indented sub-properties ignored). Never fails: unparsable lines are skipped.
[[nodiscard]] Profiles parse_shared_file(std::string_view text, SharedFileKind kind);

/// Path of the credentials file: AWS_SHARED_CREDENTIALS_FILE, else $HOME/.aws/credentials
/// (a leading "~/" is expanded with HOME). nullopt if neither is known.
[[nodiscard]] std::optional<std::string> shared_credentials_path(const GetEnv& getenv);
/// Path of the config file: AWS_CONFIG_FILE, else $HOME/.aws/config.
[[nodiscard]] std::optional<std::string> shared_config_path(const GetEnv& getenv);

/// The active profile's name: AWS_PROFILE, else "default".
[[nodiscard]] std::string active_profile(const GetEnv& getenv);

/// Reads and parses a shared file; an absent file gives no profiles (not an error).
[[nodiscard]] Profiles load_shared_file(const std::optional<std::string>& path, SharedFileKind kind);

/// Everything the config file holds that credentials and endpoints need: profiles, the
/// `[sso-session name]` sections and the `[services name]` sections. In services sections an
/// indented sub-property is kept as "<parent>.<key>" ("sts.endpoint_url"); elsewhere sub-properties
/// are ignored, as in parse_shared_file().
struct SharedConfig {
  Profiles profiles;
  Profiles sso_sessions;
  Profiles services;
};

/// Parses a config file's text (see SharedConfig). Never fails: unparsable lines are skipped.
[[nodiscard]] SharedConfig parse_config_file(std::string_view text);

/// Reads and parses the config file at `path`; an absent file gives an empty SharedConfig.
[[nodiscard]] SharedConfig load_config_file(const std::optional<std::string>& path);

/// True for a well-formed region name ("us-east-1"): 1 to 63 lower-case letters, digits and '-',
/// not starting or ending with '-'. Regions become host names, so nothing else is accepted.
[[nodiscard]] bool valid_region(std::string_view region) noexcept;

/// The region: AWS_REGION, then AWS_DEFAULT_REGION, then the `region` of the active profile in the
/// config file. nullopt when none is set.
[[nodiscard]] std::optional<std::string> resolve_region(const GetEnv& getenv,
                                                        const std::optional<std::string>& profile = std::nullopt);

/// A parsed endpoint URL.
struct Endpoint {
  std::string scheme;  ///< "http" or "https"
  std::string host;    ///< without brackets for IPv6
  std::uint16_t port = 0;  ///< explicit or the scheme's default
  std::string path;    ///< "/" when empty
  /// The Host header value (and the signed `host`): host, plus ":port" when not the default.
  std::string host_header;
  /// scheme://host[:port]path, normalized.
  std::string url;
};

/// Parses "http(s)://host[:port][/path]". invalid_argument for anything else.
[[nodiscard]] Result<Endpoint> parse_endpoint(std::string_view url);

/// The service endpoint: AWS_ENDPOINT_URL_<SERVICE> (e.g. AWS_ENDPOINT_URL_DYNAMODB), then
/// AWS_ENDPOINT_URL, else https://<service>.<region>.amazonaws.com (.amazonaws.com.cn for cn-
/// regions). `service_env` is the upper-case suffix ("DYNAMODB"), `service` the host prefix.
[[nodiscard]] std::string resolve_endpoint(const GetEnv& getenv, std::string_view service_env,
                                           std::string_view service, std::string_view region);

/// How a service is named in the places that configure its endpoint.
struct ServiceNames {
  std::string_view env_suffix;   ///< AWS_ENDPOINT_URL_<env_suffix>: "STS", "SSO", "DYNAMODB"
  std::string_view config_key;   ///< its key in a `[services name]` section: "sts", "sso", "dynamodb"
  std::string_view host_prefix;  ///< the default host's first labels: "sts", "portal.sso", "dynamodb"
};

/// The endpoint of a service as the SDKs resolve it with the shared config, first that is set:
/// AWS_ENDPOINT_URL_<SERVICE>, the `endpoint_url` under the service's key in the `[services x]`
/// section that `profile` names with `services = x`, AWS_ENDPOINT_URL, the profile's own
/// `endpoint_url`; else default_endpoint(). AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true (or the
/// profile's `ignore_configured_endpoint_urls = true`) skips all but the default. `profile` may be
/// null (no profile).
[[nodiscard]] std::string resolve_service_endpoint(const GetEnv& getenv, const ServiceNames& service,
                                                   std::string_view region, const ProfileProperties* profile,
                                                   const SharedConfig& config);

/// https://<service>.<region>.amazonaws.com, or .amazonaws.com.cn for China regions.
[[nodiscard]] std::string default_endpoint(std::string_view service, std::string_view region);

}  // namespace websession::aws
