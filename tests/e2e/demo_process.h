// Test support for the end-to-end tests: the demo server (or dynalite) as a child process, free
// ports, and a small HTTP client (websession::net's).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/child_process.h"

namespace e2e {

/// A TCP port that was free a moment ago on 127.0.0.1.
std::uint16_t free_port();

/// A child process (see websession::testing::ChildProcess) whose environment never carries the
/// test's own values of the demo's variables (PORT, SERVER, SESSION_*, ...).
class ChildProcess : public websession::testing::ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
               const std::string& log_path);
};

struct HttpResponse {
  long status = 0;  // 0: no answer (connection failed or timed out)
  std::multimap<std::string, std::string> headers;  // lower-case names
  std::string body;
  double seconds = 0;

  [[nodiscard]] std::vector<std::string> all(const std::string& name) const;
  [[nodiscard]] std::string header(const std::string& name) const;
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::optional<std::string> body;
  std::vector<std::string> headers;  // "Name: value"
  long timeout_ms = 15'000;
};

HttpResponse http(const HttpRequest& request);
HttpResponse get(const std::string& url, long timeout_ms = 15'000, std::vector<std::string> headers = {});
HttpResponse post(const std::string& url, std::optional<std::string> body = std::nullopt,
                  std::vector<std::string> headers = {});

/// The demo under test, on a free port, ready (GET /healthz answered) when constructed.
class Demo {
 public:
  explicit Demo(std::map<std::string, std::string> env);
  /// The demo on `port` (one that free_port() gave, for a configuration that must name the port
  /// before the demo starts, as an OpenID provider's registered redirect URI does).
  Demo(std::map<std::string, std::string> env, std::uint16_t port);
  [[nodiscard]] std::string url(const std::string& path) const;
  [[nodiscard]] std::uint16_t port() const { return port_; }
  ChildProcess& process() { return *process_; }

 private:
  std::uint16_t port_;
  std::unique_ptr<ChildProcess> process_;
};

/// dynalite on a free port, ready when constructed; data under `data_dir` when given.
class Dynalite {
 public:
  Dynalite();
  [[nodiscard]] std::string endpoint() const;
  ChildProcess& process() { return *process_; }

 private:
  std::uint16_t port_;
  std::unique_ptr<ChildProcess> process_;
};

/// The value of the session cookie in a Set-Cookie header ("" if it is not one).
std::string cookie_value(const std::string& set_cookie);

}  // namespace e2e
