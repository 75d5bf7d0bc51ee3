#include "websession/aws/credentials.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <charconv>
#include <fstream>
#include <sstream>
#include <utility>

#include "aws/detail/http_client.h"

namespace websession::aws {
namespace {

using std::chrono::steady_clock;
using std::chrono::system_clock;

std::optional<std::string> non_empty(const GetEnv& getenv, std::string_view name) {
  auto v = getenv(name);
  if (v && !v->empty()) return v;
  return std::nullopt;
}

Error not_configured(std::string message) { return Error(ErrorCode::not_found, std::move(message)); }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The hosts to which the SDKs allow plain-http AWS_CONTAINER_CREDENTIALS_FULL_URI: loopback and
// the ECS / EKS Pod Identity link-local addresses.
bool allowed_plain_http_host(std::string_view host) {
  if (host == "localhost" || host == "::1" || host == "[::1]" || host == "169.254.170.2" ||
      host == "169.254.170.23" || host == "fd00:ec2::23" || host == "[fd00:ec2::23]") {
    return true;
  }
  // 127.0.0.0/8 as an address literal only: a name such as "127.example.com" may resolve anywhere,
  // and the authorization token must not travel in clear to it.
  in_addr addr{};
  const std::string text(host);
  return ::inet_pton(AF_INET, text.c_str(), &addr) == 1 && (ntohl(addr.s_addr) >> 24) == 127;
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Sends one request with the provider's short timeout; any non-200 answer is an error that names
// the status only (bodies may echo tokens).
Result<std::string> fetch(detail::HttpClient& http, std::string_view method, const std::string& url,
                          const std::vector<std::string>& headers, std::chrono::milliseconds timeout,
                          std::string_view what) {
  detail::HttpRequest request;
  request.method = method;
  request.url = url;
  request.headers = headers;
  auto response = http.perform(request, steady_clock::now() + timeout);
  if (!response) {
    return Error(ErrorCode::unavailable, std::string(what) + ": " + response.error().message,
                 response.error().service_type);
  }
  if (response->status != 200) {
    return Error(ErrorCode::unavailable,
                 std::string(what) + ": HTTP status " + std::to_string(response->status));
  }
  return std::move(response->body);
}

}  // namespace

// ---- parsing --------------------------------------------------------------------------------

std::optional<system_clock::time_point> parse_iso8601(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SS[.fff][Z|+00:00]
  auto num = [&](std::size_t pos, std::size_t len, int& out) {
    if (pos + len > t.size()) return false;
    // Digits only: from_chars would also take a sign ("T-1:00:00").
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (t[i] < '0' || t[i] > '9') return false;
    }
    auto [p, ec] = std::from_chars(t.data() + pos, t.data() + pos + len, out);
    return ec == std::errc() && p == t.data() + pos + len;
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (t.size() < 19 || t[4] != '-' || t[7] != '-' || (t[10] != 'T' && t[10] != 't' && t[10] != ' ') ||
      t[13] != ':' || t[16] != ':') {
    return std::nullopt;
  }
  if (!num(0, 4, y) || !num(5, 2, mo) || !num(8, 2, d) || !num(11, 2, h) || !num(14, 2, mi) ||
      !num(17, 2, s)) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  if (pos < t.size() && t[pos] == '.') {
    ++pos;
    while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') ++pos;
  }
  std::string_view zone = t.substr(pos);
  if (!(zone.empty() || zone == "Z" || zone == "z" || zone == "+00:00")) return std::nullopt;
  using namespace std::chrono;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;
  const sys_seconds when = sys_days{ymd} + hours{h} + minutes{mi} + seconds{s};
  // system_clock counts nanoseconds in 64 bits: years before 1678 or after 2261 do not fit.
  if (when < floor<seconds>(system_clock::time_point::min()) ||
      when > floor<seconds>(system_clock::time_point::max())) {
    return std::nullopt;
  }
  return when;
}

Result<Credentials> parse_credentials_document(std::string_view json) {
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(json, ec);
  if (ec || !doc.is_object()) {
    return Error(ErrorCode::unavailable, "credentials endpoint returned a malformed document");
  }
  const auto& obj = doc.get_object();
  auto str = [&](std::string_view key) -> std::optional<std::string> {
    auto it = obj.find(key);
    if (it == obj.end() || !it->value().is_string()) return std::nullopt;
    return std::string(it->value().get_string());
  };
  if (auto code = str("Code"); code && *code != "Success") {
    return Error(ErrorCode::permission_denied, "credentials endpoint answered Code=" + *code);
  }
  auto key = str("AccessKeyId");
  auto secret = str("SecretAccessKey");
  if (!key || !secret || key->empty() || secret->empty()) {
    return Error(ErrorCode::unavailable, "credentials document lacks AccessKeyId or SecretAccessKey");
  }
  Credentials c;
  c.access_key_id = std::move(*key);
  c.secret_access_key = std::move(*secret);
  if (auto token = str("Token")) c.session_token = std::move(*token);
  if (auto exp = str("Expiration")) {
    c.expiration = parse_iso8601(*exp);
    if (!c.expiration) return Error(ErrorCode::unavailable, "credentials document has a bad Expiration");
  }
  return c;
}

// ---- static & environment --------------------------------------------------------------------

StaticCredentialsProvider::StaticCredentialsProvider(Credentials credentials)
    : credentials_(std::make_shared<const Credentials>(std::move(credentials))) {}

Result<CredentialsPtr> StaticCredentialsProvider::credentials() {
  if (credentials_->access_key_id.empty() || credentials_->secret_access_key.empty()) {
    return Error(ErrorCode::invalid_argument, "explicit credentials lack an access key ID or secret key");
  }
  return credentials_;
}

EnvironmentCredentialsProvider::EnvironmentCredentialsProvider(GetEnv getenv)
    : getenv_(or_process_environment(std::move(getenv))) {}

Result<CredentialsPtr> EnvironmentCredentialsProvider::credentials() {
  auto key = non_empty(getenv_, "AWS_ACCESS_KEY_ID");
  auto secret = non_empty(getenv_, "AWS_SECRET_ACCESS_KEY");
  if (!key && !secret) return not_configured("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY not set");
  if (!key || !secret) {
    return Error(ErrorCode::permission_denied,
                 std::string(key ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID") + " is not set");
  }
  auto c = std::make_shared<Credentials>();
  c->access_key_id = std::move(*key);
  c->secret_access_key = std::move(*secret);
  if (auto token = non_empty(getenv_, "AWS_SESSION_TOKEN")) c->session_token = std::move(*token);
  return CredentialsPtr(std::move(c));
}

// ---- shared files ----------------------------------------------------------------------------

ProfileCredentialsProvider::ProfileCredentialsProvider(GetEnv getenv, std::optional<std::string> profile)
    : getenv_(or_process_environment(std::move(getenv))), profile_(std::move(profile)) {}

Result<CredentialsPtr> ProfileCredentialsProvider::credentials() {
  std::string name = profile_ ? *profile_ : active_profile(getenv_);
  // The credentials file wins over the config file, key by key as the SDKs merge them.
  Profiles creds = load_shared_file(shared_credentials_path(getenv_), SharedFileKind::credentials);
  Profiles config = load_shared_file(shared_config_path(getenv_), SharedFileKind::config);
  const ProfileProperties* from_creds = nullptr;
  const ProfileProperties* from_config = nullptr;
  if (auto it = creds.find(name); it != creds.end()) from_creds = &it->second;
  if (auto it = config.find(name); it != config.end()) from_config = &it->second;
  if (from_creds == nullptr && from_config == nullptr) {
    return not_configured("profile '" + name + "' not found in the shared files");
  }
  auto get = [&](std::string_view key) -> std::optional<std::string> {
    for (const ProfileProperties* p : {from_creds, from_config}) {
      if (p == nullptr) continue;
      if (auto it = p->find(key); it != p->end() && !it->second.empty()) return it->second;
    }
    return std::nullopt;
  };
  auto key = get("aws_access_key_id");
  auto secret = get("aws_secret_access_key");
  if (!key && !secret) return not_configured("profile '" + name + "' has no static credentials");
  if (!key || !secret) {
    return Error(ErrorCode::permission_denied,
                 "profile '" + name + "' lacks " + (key ? "aws_secret_access_key" : "aws_access_key_id"));
  }
  auto c = std::make_shared<Credentials>();
  c->access_key_id = std::move(*key);
  c->secret_access_key = std::move(*secret);
  if (auto token = get("aws_session_token")) c->session_token = std::move(*token);
  return CredentialsPtr(std::move(c));
}

// ---- container -------------------------------------------------------------------------------

ContainerCredentialsProvider::ContainerCredentialsProvider(GetEnv getenv, RemoteProviderOptions options)
    : getenv_(or_process_environment(std::move(getenv))), options_(options) {}

Result<CredentialsPtr> ContainerCredentialsProvider::credentials() {
  std::string url;
  if (auto relative = non_empty(getenv_, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
    url = "http://169.254.170.2" + *relative;
  } else if (auto full = non_empty(getenv_, "AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
    auto endpoint = parse_endpoint(*full);
    if (!endpoint) {
      return Error(ErrorCode::invalid_argument, "AWS_CONTAINER_CREDENTIALS_FULL_URI: " + endpoint.error().message);
    }
    if (endpoint->scheme == "http" && !allowed_plain_http_host(lower(endpoint->host))) {
      return Error(ErrorCode::invalid_argument,
                   "AWS_CONTAINER_CREDENTIALS_FULL_URI must use https unless it points at a loopback "
                   "or the ECS/EKS container credentials address");
    }
    url = *full;
  } else {
    return not_configured("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI not set");
  }

  std::vector<std::string> headers;
  std::optional<std::string> token;
  if (auto file = non_empty(getenv_, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
    // Re-read on every fetch: EKS rotates the file.
    token = read_file(*file);
    if (!token) return Error(ErrorCode::permission_denied, "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    while (!token->empty() && (token->back() == '\n' || token->back() == '\r')) token->pop_back();
  } else {
    token = non_empty(getenv_, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
  }
  if (token) {
    if (token->find_first_of("\r\n") != std::string::npos) {
      return Error(ErrorCode::invalid_argument, "container authorization token contains a line break");
    }
    headers.push_back("Authorization: " + *token);
  }
  headers.emplace_back("Accept: application/json");

  detail::HttpClient http({options_.timeout, 1});
  auto body = fetch(http, "GET", url, headers, options_.timeout, "container credentials");
  if (!body) return std::move(body).error();
  auto parsed = parse_credentials_document(*body);
  if (!parsed) return std::move(parsed).error();
  return CredentialsPtr(std::make_shared<const Credentials>(std::move(*parsed)));
}

// ---- instance metadata -----------------------------------------------------------------------

InstanceMetadataCredentialsProvider::InstanceMetadataCredentialsProvider(GetEnv getenv,
                                                                         RemoteProviderOptions options)
    : getenv_(or_process_environment(std::move(getenv))), options_(options) {}

Result<CredentialsPtr> InstanceMetadataCredentialsProvider::credentials() {
  if (auto disabled = getenv_("AWS_EC2_METADATA_DISABLED"); disabled && lower(*disabled) == "true") {
    return not_configured("AWS_EC2_METADATA_DISABLED is true");
  }
  std::string base = non_empty(getenv_, "AWS_EC2_METADATA_SERVICE_ENDPOINT").value_or("http://169.254.169.254");
  while (!base.empty() && base.back() == '/') base.pop_back();

  detail::HttpClient http({options_.timeout, 1});
  // IMDSv2: a session token first (IMDSv1 is not used: it is the SSRF-prone variant).
  auto token = fetch(http, "PUT", base + "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds: 21600"},
                     options_.timeout, "instance metadata token");
  if (!token) return std::move(token).error();
  if (token->empty() || token->find_first_of("\r\n") != std::string::npos) {
    return Error(ErrorCode::unavailable, "instance metadata returned a malformed token");
  }
  std::vector<std::string> headers{"X-aws-ec2-metadata-token: " + *token};
  const std::string path = base + "/latest/meta-data/iam/security-credentials/";
  auto roles = fetch(http, "GET", path, headers, options_.timeout, "instance metadata role");
  if (!roles) return std::move(roles).error();
  std::string_view role(*roles);
  role = role.substr(0, role.find('\n'));
  while (!role.empty() && (role.back() == '\r' || role.back() == ' ')) role.remove_suffix(1);
  if (role.empty()) return Error(ErrorCode::permission_denied, "the instance has no IAM role attached");
  auto body = fetch(http, "GET", path + std::string(role), headers, options_.timeout, "instance metadata credentials");
  if (!body) return std::move(body).error();
  auto parsed = parse_credentials_document(*body);
  if (!parsed) return std::move(parsed).error();
  return CredentialsPtr(std::make_shared<const Credentials>(std::move(*parsed)));
}

// ---- caching & chain -------------------------------------------------------------------------

CachedCredentialsProvider::CachedCredentialsProvider(std::shared_ptr<CredentialsProvider> inner,
                                                     std::chrono::seconds refresh_before, SystemClock clock)
    : inner_(std::move(inner)), refresh_before_(refresh_before), clock_(std::move(clock)) {}

Result<CredentialsPtr> CachedCredentialsProvider::credentials() {
  // How long a failed fetch is remembered before the source is asked again.
  constexpr std::chrono::seconds kFailureBackoff{10};
  std::unique_lock lock(mutex_);
  for (;;) {
    const auto now = clock_ ? clock_() : system_clock::now();
    const bool usable = cached_ && (!cached_->expiration || *cached_->expiration > now);
    if (usable && (!cached_->expiration || *cached_->expiration - refresh_before_ > now)) return cached_;
    // Within the refresh window: one caller refreshes, the rest go on with what still works.
    if (usable && (refreshing_ || now < retry_after_)) return cached_;
    if (!usable && last_error_ && now < retry_after_) return *last_error_;
    if (!refreshing_) break;
    refreshed_.wait(lock, [this] { return !refreshing_; });
  }
  refreshing_ = true;
  lock.unlock();
  auto fresh = inner_->credentials();  // may block on the network: never under the lock
  lock.lock();
  refreshing_ = false;
  refreshed_.notify_all();
  const auto now = clock_ ? clock_() : system_clock::now();
  if (!fresh) {
    last_error_ = fresh.error();
    retry_after_ = now + kFailureBackoff;
    // A failed refresh while the old credentials still work is not fatal: keep serving them.
    if (cached_ && cached_->expiration && *cached_->expiration > now) return cached_;
    return fresh;
  }
  cached_ = *fresh;
  last_error_.reset();
  retry_after_ = {};
  return cached_;
}

void CachedCredentialsProvider::invalidate() noexcept {
  std::lock_guard lock(mutex_);
  cached_.reset();
  last_error_.reset();
  retry_after_ = {};
  inner_->invalidate();
}

CredentialsProviderChain::CredentialsProviderChain(std::vector<std::shared_ptr<CredentialsProvider>> providers)
    : providers_(std::move(providers)) {}

Result<CredentialsPtr> CredentialsProviderChain::credentials() {
  std::shared_ptr<CredentialsProvider> chosen;
  {
    std::lock_guard lock(mutex_);
    chosen = chosen_;
  }
  if (chosen) return chosen->credentials();
  std::string tried;
  for (const auto& p : providers_) {
    auto c = p->credentials();
    if (c) {
      std::lock_guard lock(mutex_);
      chosen_ = p;
      return c;
    }
    if (!tried.empty()) tried.append("; ");
    tried.append(p->name()).append(": ").append(c.error().message);
  }
  return Error(ErrorCode::permission_denied, "no AWS credentials found (" + tried + ")");
}

void CredentialsProviderChain::invalidate() noexcept {
  std::shared_ptr<CredentialsProvider> chosen;
  {
    std::lock_guard lock(mutex_);
    chosen = chosen_;
  }
  if (chosen) chosen->invalidate();
}

std::shared_ptr<CredentialsProvider> default_credentials_chain(DefaultChainOptions options) {
  GetEnv env = or_process_environment(std::move(options.getenv));
  std::vector<std::shared_ptr<CredentialsProvider>> providers;
  providers.push_back(std::make_shared<EnvironmentCredentialsProvider>(env));
  providers.push_back(std::make_shared<ProfileCredentialsProvider>(env, options.profile));
  providers.push_back(std::make_shared<CachedCredentialsProvider>(
      std::make_shared<ContainerCredentialsProvider>(env, options.remote), std::chrono::minutes(5), options.clock));
  providers.push_back(std::make_shared<CachedCredentialsProvider>(
      std::make_shared<InstanceMetadataCredentialsProvider>(env, options.remote), std::chrono::minutes(5),
      options.clock));
  // The environment and profile providers are cached too: their answer never expires, so they are
  // read once instead of on every call.
  providers[0] = std::make_shared<CachedCredentialsProvider>(providers[0], std::chrono::minutes(5), options.clock);
  providers[1] = std::make_shared<CachedCredentialsProvider>(providers[1], std::chrono::minutes(5), options.clock);
  return std::make_shared<CredentialsProviderChain>(std::move(providers));
}

}  // namespace websession::aws
