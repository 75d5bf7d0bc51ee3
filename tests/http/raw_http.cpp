#include "raw_http.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

namespace raw_http {

Socket::Socket(std::uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  // A server that stops reading must not block the test for ever.
  timeval tv{5, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

Socket::~Socket() {
  if (fd_ >= 0) ::close(fd_);
}

bool Socket::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void Socket::shut_write() { ::shutdown(fd_, SHUT_WR); }

std::string Socket::read_until_close(std::chrono::milliseconds timeout, bool* timed_out) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string out = std::move(pending_);
  pending_.clear();
  if (timed_out != nullptr) *timed_out = false;
  char buf[8192];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd_, POLLIN, 0};
    const int ready = left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      if (timed_out != nullptr) *timed_out = true;
      return out;
    }
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return out;  // closed or reset
    out.append(buf, static_cast<std::size_t>(n));
  }
}

namespace {

std::optional<std::size_t> content_length_of(std::string_view head) {
  std::string lower(head);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  const auto at = lower.find("\r\ncontent-length:");
  if (at == std::string::npos) return std::nullopt;
  return static_cast<std::size_t>(std::strtoull(lower.c_str() + at + 17, nullptr, 10));
}

// The length of the first whole response in `bytes`, if it holds one.
std::optional<std::size_t> first_response_size(std::string_view bytes) {
  const auto end = bytes.find("\r\n\r\n");
  if (end == std::string_view::npos) return std::nullopt;
  const std::size_t body = content_length_of(bytes.substr(0, end + 2)).value_or(0);
  if (bytes.size() < end + 4 + body) return std::nullopt;
  return end + 4 + body;
}

}  // namespace

std::optional<std::string> Socket::read_response(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[8192];
  for (;;) {
    if (auto size = first_response_size(pending_)) {
      std::string one = pending_.substr(0, *size);
      pending_.erase(0, *size);
      return one;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd_, POLLIN, 0};
    const int ready = left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return std::nullopt;
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    pending_.append(buf, static_cast<std::size_t>(n));
  }
}

std::optional<std::vector<ParsedResponse>> parse_responses(std::string_view bytes) {
  std::vector<ParsedResponse> out;
  while (!bytes.empty()) {
    if (!bytes.starts_with("HTTP/1.1 ") && !bytes.starts_with("HTTP/1.0 ")) return std::nullopt;
    const auto size = first_response_size(bytes);
    if (!size || bytes.size() < 12) return std::nullopt;
    ParsedResponse r;
    r.status = std::atoi(std::string(bytes.substr(9, 3)).c_str());
    const auto head_end = bytes.find("\r\n\r\n");
    r.head = std::string(bytes.substr(0, head_end));
    r.body = std::string(bytes.substr(head_end + 4, *size - head_end - 4));
    out.push_back(std::move(r));
    bytes.remove_prefix(*size);
  }
  return out;
}

std::uint64_t raise_fd_limit(std::uint64_t wanted) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < wanted) {
    limit.rlim_cur = std::min<rlim_t>(wanted, limit.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &limit);
    ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  return limit.rlim_cur;
}

int thread_count() {
  DIR* dir = ::opendir("/proc/self/task");
  if (dir == nullptr) return -1;
  int n = 0;
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(dir);
  return n;
}

}  // namespace raw_http
