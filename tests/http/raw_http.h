// Raw-socket HTTP for the adapter tests: what an HTTP client library would hide or refuse to send
// (garbage, half requests, thousands of idle connections), and the process's limits.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace raw_http {

/// A socket connected to 127.0.0.1:port; closes on destruction.
class Socket {
 public:
  explicit Socket(std::uint16_t port);
  ~Socket();
  Socket(Socket&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Socket& operator=(Socket&&) = delete;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  [[nodiscard]] bool connected() const { return fd_ >= 0; }
  [[nodiscard]] int fd() const { return fd_; }
  /// Sends everything it can; false if the peer closed or reset first.
  bool send(std::string_view bytes);
  /// No more bytes from us (the server then sees end-of-stream after the request).
  void shut_write();
  /// Reads until the peer closes, resets, or `timeout` passes; sets timed_out in the last case.
  std::string read_until_close(std::chrono::milliseconds timeout, bool* timed_out = nullptr);
  /// Reads one whole response (status line, headers, Content-Length body); nullopt on close or
  /// timeout first.
  std::optional<std::string> read_response(std::chrono::milliseconds timeout);

 private:
  int fd_ = -1;
  std::string pending_;
};

/// One response as parsed from raw bytes.
struct ParsedResponse {
  int status = 0;
  std::string head;
  std::string body;
};

/// Splits `bytes` into the responses it holds (Content-Length framing); nullopt if anything in it is
/// not a well-formed response.
std::optional<std::vector<ParsedResponse>> parse_responses(std::string_view bytes);

/// Raises the soft RLIMIT_NOFILE to at least `wanted` (up to the hard limit); returns the soft limit.
std::uint64_t raise_fd_limit(std::uint64_t wanted);

/// Threads in this process now (entries of /proc/self/task).
int thread_count();

}  // namespace raw_http
