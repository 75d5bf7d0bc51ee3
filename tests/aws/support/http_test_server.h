// A small real HTTP/1.1 server on 127.0.0.1 (ephemeral port) for tests, which can misbehave on
// purpose: answer, drop the connection, hang, or send a truncated body. Keep-alive is supported,
// so tests can check that clients reuse connections.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace websession::testing {

/// A request as the server saw it.
struct TestRequest {
  std::string method;
  std::string target;
  /// Names lower-cased.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  /// 1-based index of the connection it arrived on.
  int connection = 0;

  [[nodiscard]] std::string header(std::string_view name) const;
};

/// What the server does with a request.
struct TestAction {
  enum class Kind {
    respond,   ///< write `raw`, keep the connection open unless `close_after`
    reset,     ///< close the connection abruptly (RST), answering nothing
    hang,      ///< answer nothing for `delay` (or until the server stops), then close
  };
  Kind kind = Kind::respond;
  std::string raw;
  bool close_after = false;
  std::chrono::milliseconds delay{0};

  /// A complete response. `crc32` adds x-amz-crc32 of the body (or `crc_override` if nonzero).
  static TestAction respond(int status, std::string body, std::string content_type = "application/x-amz-json-1.0",
                            bool crc32 = true, std::uint32_t crc_override = 0,
                            std::vector<std::pair<std::string, std::string>> extra_headers = {});
  /// A response whose Content-Length promises more than the body it sends; then closes.
  static TestAction truncated(int status, std::string body_prefix, std::size_t claimed_length);
  static TestAction reset();
  static TestAction hang(std::chrono::milliseconds delay);
};

/// Serve HTTPS with this certificate (PEM) and key (PEM) instead of plain HTTP.
struct TestTlsOptions {
  std::string cert_pem;
  std::string key_pem;
};

class HttpTestServer {
 public:
  using Handler = std::function<TestAction(const TestRequest&)>;

  explicit HttpTestServer(Handler handler, std::optional<TestTlsOptions> tls = std::nullopt);
  ~HttpTestServer();
  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  /// "http://127.0.0.1:<port>" ("https://" with TLS)
  [[nodiscard]] std::string url() const;
  /// The same with another host name ("localhost", a name of this machine).
  [[nodiscard]] std::string url(const std::string& host) const;
  [[nodiscard]] int requests() const { return requests_.load(); }
  [[nodiscard]] int connections() const { return connections_.load(); }
  /// Every request received so far.
  [[nodiscard]] std::vector<TestRequest> received() const;

 private:
  void accept_loop();
  void serve(int fd, int connection);
  void serve_stream(int fd, void* tls_stream, int connection);

  Handler handler_;
  void* tls_ = nullptr;  // SSL_CTX*, kept out of this header
  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  std::uint16_t port_ = 0;
  std::atomic<int> requests_{0};
  std::atomic<int> connections_{0};
  mutable std::mutex mutex_;
  std::vector<TestRequest> received_;
  std::vector<std::thread> workers_;
  std::thread acceptor_;
};

}  // namespace websession::testing
