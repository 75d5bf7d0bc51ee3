// The shared files' profiles, resolved into the providers they describe: static keys, assumed
// roles (chains of source profiles, credential_source), web identity, SSO and credential_process.
#include <algorithm>
#include <charconv>
#include <map>
#include <utility>

#include "aws/detail/util.h"
#include "websession/aws/credentials.h"
#include "websession/aws/process_credentials.h"
#include "websession/aws/sso.h"
#include "websession/aws/sts.h"

namespace websession::aws {
namespace {

using detail::with_context;

Error config_error(std::string message) { return Error(ErrorCode::permission_denied, std::move(message)); }

using ProviderResult = Result<std::shared_ptr<CredentialsProvider>>;

// Resolves one profile and the profiles it sources from, into cached providers. Messages name the profile concerned
// (the caller prefixes the top profile's name).
class Resolver {
 public:
  Resolver(const GetEnv& env, const CredentialSourceOptions& options, const std::string& top)
      : env_(env), options_(options), top_(top) {
    const auto creds_path = shared_credentials_path(env_);
    const auto config_path = shared_config_path(env_);
    credentials_ = load_shared_file(creds_path, SharedFileKind::credentials);
    config_ = load_config_file(config_path);
    where_ = config_path.value_or("(no config file)") + " or " + creds_path.value_or("(no credentials file)");
    visited_.push_back(top);
  }

  [[nodiscard]] bool exists(const std::string& name) const {
    return credentials_.contains(name) || config_.profiles.contains(name);
  }
  [[nodiscard]] const std::string& where() const { return where_; }

  // `first`: the profile asked for, where role_arn wins over static keys; in a source profile,
  // static keys win (as in the SDKs).
  ProviderResult resolve(const std::string& name, bool first) {
    if (!first && has_static(name)) return static_keys(name);
    if (get(name, "role_arn")) return assume_role(name);
    if (get(name, "web_identity_token_file")) return config_error("web_identity_token_file needs role_arn");
    if (get(name, "sso_session") || get(name, "sso_start_url") || get(name, "sso_account_id") ||
        get(name, "sso_role_name")) {
      return sso(name);
    }
    if (get(name, "aws_access_key_id") || get(name, "aws_secret_access_key")) return static_keys(name);
    if (auto command = get(name, "credential_process")) {
      return cached(std::make_shared<ProcessCredentialsProvider>(*command, options_.process_timeout, options_.clock));
    }
    return Error(ErrorCode::not_found, "profile '" + name + "' configures no credentials");
  }

 private:
  // The profile's key; the credentials file wins over the config file.
  [[nodiscard]] std::optional<std::string> get(const std::string& name, std::string_view key) const {
    for (const Profiles* file : {&credentials_, &config_.profiles}) {
      auto p = file->find(name);
      if (p == file->end()) continue;
      if (auto it = p->second.find(key); it != p->second.end() && !it->second.empty()) return it->second;
    }
    return std::nullopt;
  }

  [[nodiscard]] bool has_static(const std::string& name) const {
    return get(name, "aws_access_key_id") && get(name, "aws_secret_access_key");
  }

  [[nodiscard]] const ProfileProperties* top_config() const {
    auto it = config_.profiles.find(top_);
    return it == config_.profiles.end() ? nullptr : &it->second;
  }

  std::shared_ptr<CredentialsProvider> cached(std::shared_ptr<CredentialsProvider> inner) const {
    return std::make_shared<CachedCredentialsProvider>(std::move(inner), std::chrono::minutes(5), options_.clock);
  }

  ProviderResult static_keys(const std::string& name) const;
  ProviderResult assume_role(const std::string& name);
  ProviderResult source_profile(const std::string& name, const std::string& source);
  ProviderResult credential_source(const std::string& value) const;
  ProviderResult web_identity(const std::string& name, const std::string& role_arn);
  ProviderResult sso(const std::string& name) const;
  Result<std::shared_ptr<StsClient>> sts_for(const std::string& name);
  Result<std::optional<int>> duration(const std::string& name) const;

  const GetEnv& env_;
  const CredentialSourceOptions& options_;
  std::string top_;
  Profiles credentials_;
  SharedConfig config_;
  std::string where_;
  std::vector<std::string> visited_;
  std::map<std::string, std::shared_ptr<StsClient>> sts_clients_;
};

ProviderResult Resolver::static_keys(const std::string& name) const {
  auto key = get(name, "aws_access_key_id");
  auto secret = get(name, "aws_secret_access_key");
  if (!key || !secret) return config_error(key ? "lacks aws_secret_access_key" : "lacks aws_access_key_id");
  Credentials c{std::move(*key), std::move(*secret), get(name, "aws_session_token").value_or(""), std::nullopt};
  return cached(std::make_shared<StaticCredentialsProvider>(std::move(c)));
}

Result<std::optional<int>> Resolver::duration(const std::string& name) const {
  auto text = get(name, "duration_seconds");
  if (!text) return std::optional<int>();
  int value = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || ptr != text->data() + text->size() || value < 900 || value > 43200) {
    return config_error("duration_seconds must be a number of seconds from 900 to 43200");
  }
  return std::optional<int>(value);
}

ProviderResult Resolver::assume_role(const std::string& name) {
  const std::string role_arn = *get(name, "role_arn");
  if (get(name, "mfa_serial")) {
    return config_error(
        "mfa_serial is not supported: a server cannot prompt for an MFA code (use a role whose trust policy "
        "does not require MFA for this principal, an SSO profile, or credential_process)");
  }
  auto source = get(name, "source_profile");
  auto credential = get(name, "credential_source");
  if (source && credential) return config_error("has both source_profile and credential_source: set only one");
  if (!source && !credential) {
    if (get(name, "web_identity_token_file")) return web_identity(name, role_arn);
    return config_error("role_arn needs source_profile, credential_source or web_identity_token_file");
  }
  AssumeRoleParams params;
  params.role_arn = role_arn;
  params.role_session_name = get(name, "role_session_name").value_or("");
  if (!params.role_session_name.empty() && !valid_role_session_name(params.role_session_name)) {
    return config_error("role_session_name must be 2 to 64 of letters, digits and _+=,.@-");
  }
  params.external_id = get(name, "external_id");
  auto seconds = duration(name);
  if (!seconds) return std::move(seconds).error();
  params.duration_seconds = *seconds;
  auto from = source ? source_profile(name, *source) : credential_source(*credential);
  if (!from) return std::move(from).error();
  auto sts = sts_for(name);
  if (!sts) return std::move(sts).error();
  return cached(std::make_shared<AssumeRoleCredentialsProvider>(std::move(*from), std::move(params), std::move(*sts)));
}

ProviderResult Resolver::source_profile(const std::string& name, const std::string& source) {
  const std::string what = "source_profile '" + source + "'";
  if (!exists(source)) return config_error(what + " not found in " + where_);
  if (std::find(visited_.begin(), visited_.end(), source) != visited_.end()) {
    // A profile may name itself to take its own static keys as the source; anything else loops.
    if (source == name && has_static(source)) return static_keys(source);
    std::string path;
    for (const auto& v : visited_) path += v + " -> ";
    return config_error("source profiles form a cycle: " + path + source);
  }
  visited_.push_back(source);
  auto provider = resolve(source, false);
  if (!provider) {
    Error e = std::move(provider).error();
    if (e.code == ErrorCode::not_found) e.code = ErrorCode::permission_denied;
    return with_context(std::move(e), what);
  }
  return provider;
}

ProviderResult Resolver::credential_source(const std::string& value) const {
  if (value == "Environment") return cached(std::make_shared<EnvironmentCredentialsProvider>(env_));
  if (value == "Ec2InstanceMetadata") {
    return cached(std::make_shared<InstanceMetadataCredentialsProvider>(env_, options_.remote));
  }
  if (value == "EcsContainer") return cached(std::make_shared<ContainerCredentialsProvider>(env_, options_.remote));
  return config_error("credential_source must be Environment, Ec2InstanceMetadata or EcsContainer");
}

ProviderResult Resolver::web_identity(const std::string& name, const std::string& role_arn) {
  WebIdentityConfig config;
  config.token_file = *get(name, "web_identity_token_file");
  config.role_arn = role_arn;
  config.role_session_name = get(name, "role_session_name").value_or("");
  if (!config.role_session_name.empty() && !valid_role_session_name(config.role_session_name)) {
    return config_error("role_session_name must be 2 to 64 of letters, digits and _+=,.@-");
  }
  auto seconds = duration(name);
  if (!seconds) return std::move(seconds).error();
  config.duration_seconds = *seconds;
  auto sts = sts_for(name);
  if (!sts) return std::move(sts).error();
  return cached(std::make_shared<WebIdentityCredentialsProvider>(std::move(config), std::move(*sts)));
}

ProviderResult Resolver::sso(const std::string& name) const {
  SsoConfig c;
  c.profile = name;
  auto start_url = get(name, "sso_start_url");
  auto region = get(name, "sso_region");
  if (auto session = get(name, "sso_session")) {
    auto section = config_.sso_sessions.find(*session);
    if (section == config_.sso_sessions.end()) {
      return config_error("sso_session '" + *session + "' has no [sso-session " + *session + "] section in " + where_);
    }
    auto read = [&](const char* key) -> std::string {
      auto it = section->second.find(key);
      return it == section->second.end() ? std::string() : it->second;
    };
    c.session_name = *session;
    c.start_url = read("sso_start_url");
    c.region = read("sso_region");
    if (c.start_url.empty() || c.region.empty()) {
      return config_error("[sso-session " + *session + "] needs sso_start_url and sso_region");
    }
    if ((start_url && *start_url != c.start_url) || (region && *region != c.region)) {
      return config_error("sso_start_url or sso_region differs from its [sso-session " + *session + "]");
    }
  } else {
    if (!start_url || !region) return config_error("needs sso_session, or sso_start_url and sso_region");
    c.start_url = *start_url;
    c.region = *region;
  }
  auto account = get(name, "sso_account_id");
  auto role = get(name, "sso_role_name");
  if (!account || !role) return config_error("an SSO profile needs sso_account_id and sso_role_name");
  if (!valid_region(c.region)) return config_error("malformed sso_region '" + c.region + "'");
  c.account_id = std::move(*account);
  c.role_name = std::move(*role);
  c.endpoint = sso_endpoint(env_, c.region, top_config(), config_);
  return cached(std::make_shared<SsoCredentialsProvider>(std::move(c), env_, options_.services, options_.clock));
}

Result<std::shared_ptr<StsClient>> Resolver::sts_for(const std::string& name) {
  std::string region = options_.region.value_or("");
  if (region.empty()) {
    region = detail::non_empty(env_, "AWS_REGION")
                 .value_or(detail::non_empty(env_, "AWS_DEFAULT_REGION")
                               .value_or(get(name, "region").value_or(get(top_, "region").value_or("us-east-1"))));
  }
  const std::string endpoint = sts_endpoint(env_, region, top_config(), config_);
  auto& client = sts_clients_[region + " " + endpoint];
  if (client) return client;
  auto created = StsClient::create(region, endpoint, options_.services, env_, options_.clock);
  if (!created) return std::move(created).error();
  client = *created;
  return client;
}

}  // namespace

ProfileCredentialsProvider::ProfileCredentialsProvider(GetEnv getenv, std::optional<std::string> profile,
                                                       CredentialSourceOptions options)
    : getenv_(or_process_environment(std::move(getenv))), profile_(std::move(profile)), options_(std::move(options)) {}

Result<std::shared_ptr<CredentialsProvider>> ProfileCredentialsProvider::resolved(std::string& name) {
  auto from_env = detail::non_empty(getenv_, "AWS_PROFILE");
  name = profile_ ? *profile_ : from_env.value_or("default");
  std::lock_guard lock(mutex_);
  if (resolved_) return resolved_;
  const bool named = profile_.has_value() || from_env.has_value();
  Resolver resolver(getenv_, options_, name);
  if (!resolver.exists(name)) {
    std::string message = "profile '" + name + "' not found in " + resolver.where();
    // A profile asked for by name never gives way to another identity; "default" may be absent.
    return Error(named ? ErrorCode::permission_denied : ErrorCode::not_found, std::move(message));
  }
  auto provider = resolver.resolve(name, true);
  if (!provider) {
    Error e = std::move(provider).error();
    if (e.code == ErrorCode::not_found) return e;  // only a region, say: the chain goes on
    return with_context(std::move(e), "profile '" + name + "'");
  }
  resolved_ = *provider;
  return resolved_;
}

Result<CredentialsPtr> ProfileCredentialsProvider::finish(Result<CredentialsPtr> answer, const std::string& name) const {
  if (answer) return answer;
  Error e = std::move(answer).error();
  // The profile's source was configured: its absence is a configuration problem, never "no
  // credentials here" (the chain must not move on to another identity).
  if (e.code == ErrorCode::not_found) e.code = ErrorCode::permission_denied;
  return with_context(std::move(e), "profile '" + name + "'");
}

Result<CredentialsPtr> ProfileCredentialsProvider::credentials() {
  std::string name;
  auto provider = resolved(name);
  if (!provider) return std::move(provider).error();
  return finish((*provider)->credentials(), name);
}

Task<Result<CredentialsPtr>> ProfileCredentialsProvider::co_credentials() {
  std::string name;
  auto provider = resolved(name);
  if (!provider) co_return std::move(provider).error();
  auto answer = co_await (*provider)->co_credentials();
  co_return finish(std::move(answer), name);
}

void ProfileCredentialsProvider::invalidate() noexcept {
  std::shared_ptr<CredentialsProvider> provider;
  {
    std::lock_guard lock(mutex_);
    provider = resolved_;
  }
  if (provider) provider->invalidate();
}

}  // namespace websession::aws
