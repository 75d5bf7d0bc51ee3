#include "demo_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <set>
#include <stdexcept>
#include <thread>

#include "websession/net/http_client.h"

namespace e2e {
namespace {

std::string temp_log_path() { return websession::testing::ChildProcess::temp_log_path("websession-e2e"); }

// Variables the demo reads: a test's environment must not leak into the demo under test.
const std::set<std::string>& demo_variables() {
  // Every variable the demo or the AWS configuration reads: a test passes what it means explicitly.
  static const std::set<std::string> vars = {
      "PORT", "SERVER", "SESSION_STORE", "SESSION_TABLE", "SESSION_SECRET", "APP_ENV", "SESSION_MAX_AGE",
      "SESSION_MAX_LOCK_TIME", "REFRESH_DELAY_MS", "SESSION_ABSOLUTE_MAX_AGE", "SESSION_MAX_PER_USER",
      "SESSION_COOKIE_NAME", "OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "OIDC_REDIRECT_URI",
      "OIDC_POST_LOGOUT_REDIRECT_URI", "OIDC_SCOPES", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB",
      "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_SSO", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
      "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
      "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME", "AWS_CA_BUNDLE",
      "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
      "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
      "AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_EC2_METADATA_DISABLED", "OIDC_CA_FILE", "OIDC_TIMEOUT_MS",
      "OIDC_AUTHORIZATION_PARAMS", "OIDC_END_SESSION_PARAMS"};
  return vars;
}

// One client for every test request; it never reads proxies from the environment (the demo is local).
websession::net::HttpClient& client() {
  static websession::net::HttpClient c([] {
    websession::net::HttpClientOptions o;
    o.proxy.from_environment = false;
    return o;
  }());
  return c;
}

}  // namespace

std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("bind() failed");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                           const std::string& log_path)
    : websession::testing::ChildProcess(argv, env, log_path, demo_variables()) {}

std::vector<std::string> HttpResponse::all(const std::string& name) const {
  std::vector<std::string> out;
  auto [a, b] = headers.equal_range(name);
  for (auto it = a; it != b; ++it) out.push_back(it->second);
  return out;
}

std::string HttpResponse::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

HttpResponse http(const HttpRequest& request) {
  HttpResponse response;
  auto url = websession::net::Url::parse(request.url);
  if (!url) return response;
  std::vector<websession::net::HeaderView> headers;
  bool has_content_type = false;
  for (const auto& h : request.headers) {
    const auto colon = h.find(':');
    if (colon == std::string::npos) continue;
    std::string_view name = std::string_view(h).substr(0, colon);
    std::string_view value = std::string_view(h).substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    has_content_type = has_content_type || name == "Content-Type" || name == "content-type";
    headers.push_back({name, value});
  }
  // What curl sends with a body and no type, which the tests were written against.
  if (request.body && !has_content_type) headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
  websession::net::Request r;
  r.method = request.method;
  r.url = &*url;
  r.headers = headers;
  if (request.body) r.body = *request.body;
  const auto start = std::chrono::steady_clock::now();
  auto answer = client().request(r, start + std::chrono::milliseconds(request.timeout_ms));
  response.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!answer) return response;
  response.status = static_cast<long>(answer->status);
  for (auto& [name, value] : answer->headers) response.headers.emplace(name, value);
  response.body = std::move(answer->body);
  return response;
}

HttpResponse get(const std::string& url, long timeout_ms, std::vector<std::string> headers) {
  HttpRequest r;
  r.url = url;
  r.timeout_ms = timeout_ms;
  r.headers = std::move(headers);
  return http(r);
}

HttpResponse post(const std::string& url, std::optional<std::string> body, std::vector<std::string> headers) {
  HttpRequest r;
  r.method = "POST";
  r.url = url;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return http(r);
}

Demo::Demo(std::map<std::string, std::string> env) : Demo(std::move(env), free_port()) {}

Demo::Demo(std::map<std::string, std::string> env, std::uint16_t port) : port_(port) {
  env["PORT"] = std::to_string(port_);
  process_ = std::make_unique<ChildProcess>(std::vector<std::string>{WEBSESSION_DEMO_BINARY}, env, temp_log_path());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto code = process_->wait_exit(std::chrono::milliseconds(0))) {
      throw std::runtime_error("the demo exited with " + std::to_string(*code) + ": " + process_->log());
    }
    if (get(url("/healthz"), 2000).status != 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("the demo did not answer within 30 s: " + process_->log());
}

std::string Demo::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

Dynalite::Dynalite() : port_(free_port()) {
  const char* bin = std::getenv("WEBSESSION_DYNALITE");
  if (bin == nullptr || *bin == '\0') throw std::runtime_error("WEBSESSION_DYNALITE is not set");
  process_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{bin, "--port", std::to_string(port_), "--host", "127.0.0.1"},
      std::map<std::string, std::string>{}, temp_log_path());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto code = process_->wait_exit(std::chrono::milliseconds(0))) {
      throw std::runtime_error("dynalite exited with " + std::to_string(*code) + ": " + process_->log());
    }
    if (get(endpoint(), 1000).status != 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("dynalite did not answer within 30 s");
}

std::string Dynalite::endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::string cookie_value(const std::string& set_cookie) {
  const std::string prefix = "sessionId=";
  if (set_cookie.rfind(prefix, 0) != 0) return {};
  const auto end = set_cookie.find(';');
  return set_cookie.substr(prefix.size(), end == std::string::npos ? std::string::npos : end - prefix.size());
}

}  // namespace e2e
