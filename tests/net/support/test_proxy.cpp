#include "net/support/test_proxy.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <string_view>

namespace websession::testing {
namespace {

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

int connect_to(const std::string& host, const std::string& port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string h = host;
  if (h.size() > 2 && h.front() == '[') h = h.substr(1, h.size() - 2);
  if (::getaddrinfo(h.c_str(), port.c_str(), &hints, &found) != 0) return -1;
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd >= 0 && ::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  return fd;
}

// Copies bytes both ways until either side closes or the stop pipe fires.
void relay(int a, int b, int stop) {
  char buf[16384];
  for (;;) {
    pollfd fds[3] = {{a, POLLIN, 0}, {b, POLLIN, 0}, {stop, POLLIN, 0}};
    if (::poll(fds, 3, 10000) <= 0 || (fds[2].revents & POLLIN) != 0) return;
    for (int i = 0; i < 2; ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      ssize_t n = ::recv(fds[i].fd, buf, sizeof buf, 0);
      if (n <= 0 || !send_all(i == 0 ? b : a, std::string_view(buf, static_cast<std::size_t>(n)))) return;
    }
  }
}

// "host:port" split at the last colon outside brackets.
std::pair<std::string, std::string> split_authority(std::string_view authority, std::string_view default_port) {
  auto colon = authority.rfind(':');
  if (colon == std::string_view::npos || authority.find(']', colon) != std::string_view::npos) {
    return {std::string(authority), std::string(default_port)};
  }
  return {std::string(authority.substr(0, colon)), std::string(authority.substr(colon + 1))};
}

std::string header_value(std::string_view head, std::string_view lower_name) {
  std::size_t pos = 0;
  while ((pos = head.find("\r\n", pos)) != std::string_view::npos) {
    pos += 2;
    std::size_t end = head.find("\r\n", pos);
    std::string_view line = head.substr(pos, end - pos);
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    if (name == lower_name) {
      std::string_view v = line.substr(colon + 1);
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      return std::string(v);
    }
  }
  return {};
}

}  // namespace

std::optional<std::string> loopback_host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return std::nullopt;
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (lower == "localhost" || lower.ends_with(".localhost")) return std::nullopt;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(name, "80", &hints, &found) != 0) return std::nullopt;
  bool loopback = found != nullptr;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    loopback = loopback && a->ai_family == AF_INET &&
               (ntohl(reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr.s_addr) >> 24) == 127;
  }
  ::freeaddrinfo(found);
  if (!loopback) return std::nullopt;
  return lower;
}

TestProxy::TestProxy() {
  if (::pipe(stop_pipe_) != 0) throw std::runtime_error("pipe failed");
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 64) != 0 || ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error("test proxy: cannot listen");
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

TestProxy::~TestProxy() {
  char x = 'x';
  (void)!::write(stop_pipe_[1], &x, 1);
  acceptor_.join();
  for (auto& t : workers_) t.join();
  ::close(listen_fd_);
  ::close(stop_pipe_[0]);
  ::close(stop_pipe_[1]);
}

std::string TestProxy::url(const std::string& userinfo) const {
  return "http://" + (userinfo.empty() ? "" : userinfo + "@") + "127.0.0.1:" + std::to_string(port_);
}

std::vector<std::string> TestProxy::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

std::vector<std::string> TestProxy::authorizations() const {
  std::lock_guard lock(mutex_);
  return authorizations_;
}

void TestProxy::accept_loop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if ((fds[1].revents & POLLIN) != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard lock(mutex_);
    workers_.emplace_back([this, fd] { serve(fd); });
  }
}

void TestProxy::serve(int fd) {
  std::string head;
  char buf[4096];
  while (head.find("\r\n\r\n") == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    ssize_t n = ::poll(&p, 1, 10000) > 0 ? ::recv(fd, buf, sizeof buf, 0) : -1;
    if (n <= 0) {
      ::close(fd);
      return;
    }
    head.append(buf, static_cast<std::size_t>(n));
  }
  const std::string line = head.substr(0, head.find("\r\n"));
  {
    std::lock_guard lock(mutex_);
    requests_.push_back(line);
    authorizations_.push_back(header_value(head, "proxy-authorization"));
  }
  const auto sp1 = line.find(' ');
  const auto sp2 = line.rfind(' ');
  const std::string method = line.substr(0, sp1);
  std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  int upstream = -1;
  if (method == "CONNECT") {
    auto [host, port] = split_authority(target, "443");
    upstream = connect_to(host, port);
    if (upstream < 0 || !send_all(fd, "HTTP/1.1 200 Connection established\r\n\r\n")) {
      (void)send_all(fd, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
    } else {
      head.erase(0, head.find("\r\n\r\n") + 4);  // anything after the CONNECT head is tunnel data
      if (!head.empty()) (void)send_all(upstream, head);
      relay(fd, upstream, stop_pipe_[0]);
    }
  } else if (target.starts_with("http://")) {
    std::string rest = target.substr(7);
    auto slash = rest.find('/');
    auto [host, port] = split_authority(rest.substr(0, slash), "80");
    upstream = connect_to(host, port);
    std::string origin_form = slash == std::string::npos ? "/" : rest.substr(slash);
    head.replace(sp1 + 1, target.size(), origin_form);
    if (upstream >= 0 && send_all(upstream, head)) relay(fd, upstream, stop_pipe_[0]);
  }
  if (upstream >= 0) ::close(upstream);
  ::close(fd);
}

}  // namespace websession::testing
