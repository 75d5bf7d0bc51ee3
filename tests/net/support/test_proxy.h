// A real HTTP proxy on 127.0.0.1 for tests: CONNECT tunnels (as for https URLs) and absolute-form
// requests (as for http URLs), relayed to their targets. It records what it was asked.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace websession::testing {

/// A name of this machine (gethostname, lower case) that resolves only to IPv4 loopback addresses
/// and is not "localhost": clients send requests for it through a proxy unless told otherwise, and
/// it still reaches local test servers. nullopt when the machine has no such name.
std::optional<std::string> loopback_host_name();

class TestProxy {
 public:
  TestProxy();
  ~TestProxy();
  TestProxy(const TestProxy&) = delete;
  TestProxy& operator=(const TestProxy&) = delete;

  /// "http://[userinfo@]127.0.0.1:<port>"
  [[nodiscard]] std::string url(const std::string& userinfo = "") const;
  /// Request lines received ("CONNECT host:443 HTTP/1.1", "GET http://host/x HTTP/1.1").
  [[nodiscard]] std::vector<std::string> requests() const;
  /// Proxy-Authorization values received, one per request ("" when absent).
  [[nodiscard]] std::vector<std::string> authorizations() const;

 private:
  void accept_loop();
  void serve(int fd);

  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  std::uint16_t port_ = 0;
  mutable std::mutex mutex_;
  std::vector<std::string> requests_;
  std::vector<std::string> authorizations_;
  std::vector<std::thread> workers_;
  std::thread acceptor_;
};

}  // namespace websession::testing
