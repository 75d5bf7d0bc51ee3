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

#include <curl/curl.h>

namespace e2e {
namespace {

std::string temp_log_path() { return websession::testing::ChildProcess::temp_log_path("websession-e2e"); }

// Variables the demo reads: a test's environment must not leak into the demo under test.
const std::set<std::string>& demo_variables() {
  static const std::set<std::string> vars = {
      "PORT", "SERVER", "SESSION_STORE", "SESSION_TABLE", "SESSION_SECRET", "APP_ENV", "SESSION_MAX_AGE",
      "SESSION_MAX_LOCK_TIME", "REFRESH_DELAY_MS", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"};
  return vars;
}

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* headers = static_cast<std::multimap<std::string, std::string>*>(user);
  std::string line(data, size * n);
  const auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    const auto first = value.find_first_not_of(" \t");
    const auto last = value.find_last_not_of(" \t\r\n");
    value = first == std::string::npos ? std::string() : value.substr(first, last - first + 1);
    headers->emplace(std::move(name), std::move(value));
  }
  return size * n;
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
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return response;
  curl_slist* headers = nullptr;
  for (const auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.body) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body->data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body->size()));
  } else if (request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t{0});
  }
  if (request.method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, request.timeout_ms);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  const auto start = std::chrono::steady_clock::now();
  if (curl_easy_perform(curl) == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  }
  response.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
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

Demo::Demo(std::map<std::string, std::string> env) : port_(free_port()) {
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
