#include "aws/detail/util.h"

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace websession::aws::detail {

std::optional<std::string> non_empty(const GetEnv& getenv, std::string_view name) {
  auto v = getenv(name);
  if (v && !v->empty()) return v;
  return std::nullopt;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return s.str();
}

bool transient(const Error& e) noexcept { return e.code == ErrorCode::unavailable; }

Result<CredentialsPtr> to_pointer(Result<Credentials> parsed) {
  if (!parsed) return std::move(parsed).error();
  return CredentialsPtr(std::make_shared<const Credentials>(std::move(*parsed)));
}

std::string safe_excerpt(std::string_view text, std::span<const std::string_view> secrets, std::size_t max) {
  std::string out(text);
  for (std::string_view secret : secrets) {
    if (secret.empty()) continue;
    for (std::size_t at = out.find(secret); at != std::string::npos; at = out.find(secret, at + 3)) {
      out.replace(at, secret.size(), "***");
    }
  }
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  if (out.size() > max) {
    out.resize(max);
    out.append("...");
  }
  return out;
}

Error with_context(Error e, std::string_view prefix) {
  std::string message(prefix);
  message.append(": ").append(e.message);
  e.message = std::move(message);
  return e;
}

ServiceHttp::ServiceHttp(ServiceCallOptions options, GetEnv getenv)
    : options_(std::move(options)), getenv_(or_process_environment(std::move(getenv))) {}

Result<net::HttpClient*> ServiceHttp::client() {
  std::lock_guard lock(mutex_);
  if (http_) return http_.get();
  net::HttpClientOptions o;
  o.connect_timeout = options_.timeout;
  o.max_idle_per_origin = 4;
  o.tls = options_.tls;
  if (o.tls.ca_file.empty()) o.tls.ca_file = non_empty(getenv_, "AWS_CA_BUNDLE").value_or("");
  o.proxy = options_.proxy;
  o.getenv = [env = getenv_](const std::string& name) { return env(name); };
  try {
    http_ = std::make_unique<net::HttpClient>(std::move(o));
  } catch (const std::invalid_argument& e) {
    // An unreadable CA bundle or a malformed proxy: the configuration, not the service.
    return Error(ErrorCode::permission_denied, std::string("HTTP client options: ") + e.what());
  }
  return http_.get();
}

Task<Result<net::Response>> ServiceHttp::co_send(const net::Request& request) {
  auto http = client();
  if (!http) co_return std::move(http).error();
  const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
  co_return co_await (*http)->co_request(request, deadline);
}

}  // namespace websession::aws::detail
