#include "websession/aws/credentials.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <charconv>
#include <utility>

#include "aws/detail/util.h"
#include "websession/aws/sts.h"

namespace websession::aws {
namespace {

using detail::lower;
using detail::non_empty;
using detail::read_file;
using detail::to_pointer;
using detail::transient;
using std::chrono::steady_clock;
using std::chrono::system_clock;

Error not_configured(std::string message) { return Error(ErrorCode::not_found, std::move(message)); }

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

// Sends one request with the provider's short timeout. Transport errors keep their code
// (unavailable, cancelled); a non-200 answer names the status only (bodies may echo tokens): 5xx
// and 429 are unavailable, anything else permission_denied.
Task<Result<std::string>> fetch(net::HttpClient& http, std::string_view method, const std::string& url_text,
                                std::span<const net::HeaderView> headers, std::chrono::milliseconds timeout,
                                std::string_view what) {
  auto url = net::Url::parse(url_text);
  if (!url) co_return Error(ErrorCode::invalid_argument, std::string(what) + ": " + url.error().message);
  net::Request request;
  request.method = method;
  request.url = &*url;
  request.headers = headers;
  auto response = co_await http.co_request(request, steady_clock::now() + timeout);
  if (!response) {
    co_return Error(response.error().code, std::string(what) + ": " + response.error().message,
                    response.error().service_type);
  }
  if (response->status != 200) {
    const bool transient = response->status >= 500 || response->status == 429;
    co_return Error(transient ? ErrorCode::unavailable : ErrorCode::permission_denied,
                    std::string(what) + ": HTTP status " + std::to_string(response->status));
  }
  co_return std::move(response->body);
}

// The metadata endpoints are local to the host or instance: never through a proxy.
net::HttpClientOptions remote_http_options(const RemoteProviderOptions& options) {
  net::HttpClientOptions o;
  o.connect_timeout = options.timeout;
  o.max_idle_per_origin = 2;
  o.tls = options.tls;
  o.proxy.from_environment = false;
  return o;
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

// ---- container -------------------------------------------------------------------------------

namespace {

// The container endpoint's URL from the environment; not_found when neither variable is set.
Result<std::string> container_url(const GetEnv& getenv) {
  if (auto relative = non_empty(getenv, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
    return "http://169.254.170.2" + *relative;
  }
  auto full = non_empty(getenv, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
  if (!full) return not_configured("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI not set");
  auto endpoint = parse_endpoint(*full);
  if (!endpoint) {
    return Error(ErrorCode::invalid_argument, "AWS_CONTAINER_CREDENTIALS_FULL_URI: " + endpoint.error().message);
  }
  if (endpoint->scheme == "http" && !allowed_plain_http_host(lower(endpoint->host))) {
    return Error(ErrorCode::invalid_argument,
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI must use https unless it points at a loopback "
                 "or the ECS/EKS container credentials address");
  }
  return std::move(*full);
}

// The Authorization value, if any: the token file (re-read on every fetch: EKS rotates it) wins
// over the variable.
Result<std::optional<std::string>> container_token(const GetEnv& getenv) {
  std::optional<std::string> token;
  if (auto file = non_empty(getenv, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
    token = read_file(*file);
    if (!token) return Error(ErrorCode::permission_denied, "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    while (!token->empty() && (token->back() == '\n' || token->back() == '\r')) token->pop_back();
  } else {
    token = non_empty(getenv, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
  }
  if (token && token->find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
    return Error(ErrorCode::invalid_argument, "container authorization token contains a line break");
  }
  return token;
}

}  // namespace

ContainerCredentialsProvider::ContainerCredentialsProvider(GetEnv getenv, RemoteProviderOptions options)
    : getenv_(or_process_environment(std::move(getenv))), options_(options), http_(remote_http_options(options_)) {}

Result<CredentialsPtr> ContainerCredentialsProvider::credentials() {
  return run_blocking([this] { return co_credentials(); });
}

Task<Result<CredentialsPtr>> ContainerCredentialsProvider::co_credentials() {
  auto url = container_url(getenv_);
  if (!url) co_return std::move(url).error();
  auto token = container_token(getenv_);
  if (!token) co_return std::move(token).error();
  std::vector<net::HeaderView> headers{{"Accept", "application/json"}};
  if (*token) headers.push_back({"Authorization", **token});
  auto body = co_await fetch(http_, "GET", *url, headers, options_.timeout, "container credentials");
  if (!body) co_return std::move(body).error();
  co_return to_pointer(parse_credentials_document(*body));
}

// ---- instance metadata -----------------------------------------------------------------------

Result<std::string> instance_metadata_endpoint(const GetEnv& getenv) {
  std::string base;
  if (auto endpoint = non_empty(getenv, "AWS_EC2_METADATA_SERVICE_ENDPOINT")) {
    base = std::move(*endpoint);
  } else {
    const std::string mode = lower(non_empty(getenv, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE").value_or("ipv4"));
    if (mode == "ipv4") {
      base = "http://169.254.169.254";
    } else if (mode == "ipv6") {
      base = "http://[fd00:ec2::254]";
    } else {
      return Error(ErrorCode::invalid_argument, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE must be IPv4 or IPv6");
    }
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

InstanceMetadataCredentialsProvider::InstanceMetadataCredentialsProvider(GetEnv getenv,
                                                                         RemoteProviderOptions options)
    : getenv_(or_process_environment(std::move(getenv))), options_(options), http_(remote_http_options(options_)) {}

Result<CredentialsPtr> InstanceMetadataCredentialsProvider::credentials() {
  return run_blocking([this] { return co_credentials(); });
}

Task<Result<CredentialsPtr>> InstanceMetadataCredentialsProvider::co_credentials() {
  if (auto disabled = getenv_("AWS_EC2_METADATA_DISABLED"); disabled && lower(*disabled) == "true") {
    co_return not_configured("AWS_EC2_METADATA_DISABLED is true");
  }
  auto base = instance_metadata_endpoint(getenv_);
  if (!base) co_return std::move(base).error();
  // IMDSv2: a session token first (IMDSv1 is not used: it is the SSRF-prone variant).
  const std::array<net::HeaderView, 1> ttl{{{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}}};
  // Named, never a temporary: GCC 12 mishandles temporaries bound to references across co_await.
  const std::string token_url = *base + "/latest/api/token";
  auto token = co_await fetch(http_, "PUT", token_url, ttl, options_.timeout, "instance metadata token");
  if (!token) {
    const std::string& type = token.error().service_type;
    if (!reached_ && (type == net::kNetworkError || type == net::kTimeout)) {
      co_return not_configured("no instance metadata service answered (" + token.error().message + ")");
    }
    co_return std::move(token).error();
  }
  reached_ = true;
  if (token->empty() || token->find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
    co_return Error(ErrorCode::unavailable, "instance metadata returned a malformed token");
  }
  const std::array<net::HeaderView, 1> headers{{{"X-aws-ec2-metadata-token", *token}}};
  const std::string path = *base + "/latest/meta-data/iam/security-credentials/";
  auto roles = co_await fetch(http_, "GET", path, headers, options_.timeout, "instance metadata role");
  if (!roles) co_return std::move(roles).error();
  std::string_view role(*roles);
  role = role.substr(0, role.find('\n'));
  while (!role.empty() && (role.back() == '\r' || role.back() == ' ')) role.remove_suffix(1);
  if (role.empty()) co_return Error(ErrorCode::permission_denied, "the instance has no IAM role attached");
  const std::string role_url = path + std::string(role);
  auto body = co_await fetch(http_, "GET", role_url, headers, options_.timeout, "instance metadata credentials");
  if (!body) co_return std::move(body).error();
  co_return to_pointer(parse_credentials_document(*body));
}

// ---- caching & chain -------------------------------------------------------------------------

CachedCredentialsProvider::CachedCredentialsProvider(std::shared_ptr<CredentialsProvider> inner,
                                                     std::chrono::seconds refresh_before, SystemClock clock)
    : inner_(std::move(inner)), refresh_before_(refresh_before), clock_(std::move(clock)) {}

namespace {

// After a failed fetch, or one that brought credentials already inside the refresh window, no new
// fetch before this: a missing or failing source must not cost every call its timeout.
constexpr std::chrono::seconds kRefreshBackoff{10};
// After a transient failure (unavailable), a shorter one: callers retry, and the source is
// probably back soon.
constexpr std::chrono::milliseconds kTransientBackoff{200};

}  // namespace

// A refresh in progress; releases the refresh even when its caller never finishes (an exception,
// a coroutine destroyed with its io_context), so the others do not wait for ever.
class CachedCredentialsProvider::RefreshGuard {
 public:
  explicit RefreshGuard(CachedCredentialsProvider& cache) : cache_(&cache) {}
  ~RefreshGuard() {
    if (cache_ == nullptr) return;
    std::lock_guard lock(cache_->mutex_);
    cache_->refreshing_ = false;
    cache_->refreshed_.notify_all();
  }
  RefreshGuard(const RefreshGuard&) = delete;
  RefreshGuard& operator=(const RefreshGuard&) = delete;
  /// The refresh is finished by finish() instead.
  void release() noexcept { cache_ = nullptr; }

 private:
  CachedCredentialsProvider* cache_;
};

system_clock::time_point CachedCredentialsProvider::now() const { return clock_ ? clock_() : system_clock::now(); }

CachedCredentialsProvider::Next CachedCredentialsProvider::decide(system_clock::time_point now,
                                                                  Result<CredentialsPtr>& answer) {
  const bool usable = cached_ && (!cached_->expiration || *cached_->expiration > now);
  const bool fresh = usable && (!cached_->expiration || *cached_->expiration - refresh_before_ > now);
  // Within the refresh window: one caller refreshes, at most once per backoff; the rest go on with
  // what still works.
  if (fresh || (usable && (refreshing_ || now < retry_after_))) {
    answer = cached_;
    return Next::serve;
  }
  if (!usable && last_error_ && now < retry_after_) {
    answer = *last_error_;
    return Next::serve;
  }
  if (refreshing_) return Next::wait;
  refreshing_ = true;
  return Next::refresh;
}

Result<CredentialsPtr> CachedCredentialsProvider::finish(Result<CredentialsPtr> fresh) {
  std::lock_guard lock(mutex_);
  refreshing_ = false;
  refreshed_.notify_all();
  const auto t = now();
  if (!fresh) {
    last_error_ = fresh.error();
    retry_after_ = t + (transient(fresh.error()) ? kTransientBackoff : kRefreshBackoff);
    // A failed refresh while the old credentials still work is not fatal: keep serving them.
    if (cached_ && cached_->expiration && *cached_->expiration > t) return cached_;
    return fresh;
  }
  cached_ = *fresh;
  last_error_.reset();
  retry_after_ = t + kRefreshBackoff;
  return cached_;
}

Result<CredentialsPtr> CachedCredentialsProvider::credentials() {
  {
    std::unique_lock lock(mutex_);
    for (;;) {
      Result<CredentialsPtr> answer = Error();
      const Next next = decide(now(), answer);
      if (next == Next::serve) return answer;
      if (next == Next::refresh) break;
      refreshed_.wait(lock, [this] { return !refreshing_; });
    }
  }
  RefreshGuard guard(*this);
  auto fresh = inner_->credentials();  // may block on the network: never under the lock
  guard.release();
  return finish(std::move(fresh));
}

Task<Result<CredentialsPtr>> CachedCredentialsProvider::co_credentials() {
  for (;;) {
    Result<CredentialsPtr> answer = Error();
    Next next = Next::wait;
    {
      std::lock_guard lock(mutex_);
      next = decide(now(), answer);
    }
    if (next == Next::serve) co_return answer;
    if (next == Next::refresh) break;
    // Another caller is refreshing and nothing cached works: wait on a timer, not on a thread.
    const Executor executor = co_await asio::this_coro::executor;
    asio::steady_timer timer(executor, std::chrono::milliseconds(5));
    constexpr auto token = asio::as_tuple(asio::use_awaitable_t<Executor>{});
    auto [ec] = co_await timer.async_wait(token);
    if (ec) co_return Error(ErrorCode::cancelled, "cancelled while waiting for credentials");
  }
  RefreshGuard guard(*this);
  auto fresh = co_await inner_->co_credentials();
  guard.release();
  co_return finish(std::move(fresh));
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

std::shared_ptr<CredentialsProvider> CredentialsProviderChain::chosen() {
  std::lock_guard lock(mutex_);
  return chosen_;
}

bool CredentialsProviderChain::consider(const std::shared_ptr<CredentialsProvider>& p, Result<CredentialsPtr>& c,
                                        std::string& tried) {
  if (c) {
    std::lock_guard lock(mutex_);
    chosen_ = p;
    return true;
  }
  if (c.code() != ErrorCode::not_found) {
    // Configured but failing: its error, never another identity.
    c = Error(c.code(), std::string(p->name()) + " credentials: " + c.error().message, c.error().service_type);
    return true;
  }
  if (!tried.empty()) tried.append("; ");
  tried.append(p->name()).append(": ").append(c.error().message);
  return false;
}

Result<CredentialsPtr> CredentialsProviderChain::credentials() {
  if (auto p = chosen()) return p->credentials();
  std::string tried;
  for (const auto& p : providers_) {
    auto c = p->credentials();
    if (consider(p, c, tried)) return c;
  }
  return Error(ErrorCode::permission_denied, "no AWS credentials found (" + tried + ")");
}

Task<Result<CredentialsPtr>> CredentialsProviderChain::co_credentials() {
  if (auto p = chosen()) co_return co_await p->co_credentials();
  std::string tried;
  for (const auto& p : providers_) {
    auto c = co_await p->co_credentials();
    if (consider(p, c, tried)) co_return c;
  }
  co_return Error(ErrorCode::permission_denied, "no AWS credentials found (" + tried + ")");
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
  CredentialSourceOptions sources{options.remote, options.services, options.process_timeout, options.region,
                                  options.clock};
  auto cached = [&](std::shared_ptr<CredentialsProvider> p) -> std::shared_ptr<CredentialsProvider> {
    return std::make_shared<CachedCredentialsProvider>(std::move(p), std::chrono::minutes(5), options.clock);
  };
  std::vector<std::shared_ptr<CredentialsProvider>> providers;
  // An explicit profile takes the environment's keys out, as in the SDKs: it was asked for by name.
  if (!options.profile) providers.push_back(cached(std::make_shared<EnvironmentCredentialsProvider>(env)));
  // The profile provider caches what its profile resolves to.
  providers.push_back(std::make_shared<ProfileCredentialsProvider>(env, options.profile, sources));
  providers.push_back(cached(std::make_shared<WebIdentityCredentialsProvider>(env, sources, options.profile)));
  providers.push_back(cached(std::make_shared<ContainerCredentialsProvider>(env, options.remote)));
  providers.push_back(cached(std::make_shared<InstanceMetadataCredentialsProvider>(env, options.remote)));
  return std::make_shared<CredentialsProviderChain>(std::move(providers));
}

}  // namespace websession::aws
