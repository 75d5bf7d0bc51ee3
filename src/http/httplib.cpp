#include "websession/http/httplib.h"

#include <dirent.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <array>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace websession::http::httplib {
namespace {

constexpr const char* kJson = "application/json";

std::string_view reason_code(int status) {
  switch (status) {
    case 400:
      return "bad_request";
    case 401:
      return "unauthorized";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 408:
      return "request_timeout";
    case 413:
      return "payload_too_large";
    case 414:
      return "uri_too_long";
    case 415:
      return "unsupported_media_type";
    case 416:
      return "range_not_satisfiable";
    case 431:
      return "request_header_fields_too_large";
    case 503:
      return "unavailable";
    default:
      return status >= 500 ? "internal" : "bad_request";
  }
}

void respond_error(::httplib::Response& res, const Error& error) {
  res.status = http_status(error);
  res.set_content(error_body(error), kJson);
  if (res.status == 503) res.set_header("Retry-After", "1");
}

}  // namespace

namespace detail {

// Which of the server's connections are serving a request, and the shutdown that uses it. A request
// is in flight from the pre-routing handler (its header is complete) to the logger (its response is
// written); it is known by its connection's peer address, as cpp-httplib formats it.
class ConnectionTracker {
 public:
  explicit ConnectionTracker(::httplib::Server& server) : server_(server) {}

  void started(const ::httplib::Request& req);
  void finished(const ::httplib::Request& req);
  void shutdown(std::chrono::milliseconds drain_timeout);
  std::size_t in_flight() const {
    std::lock_guard lock(mutex_);
    return in_flight_.size();
  }

 private:
  void stop_accepting();
  void shut_down_connections(bool idle_only);

  ::httplib::Server& server_;
  mutable std::mutex mutex_;
  std::condition_variable quiet_;
  std::unordered_multiset<std::string> in_flight_;
  bool stopping_ = false;
  std::optional<sockaddr_storage> listener_;
};

}  // namespace detail

namespace {

// The request this thread is serving, if any: shutdown() from a handler does not wait for itself.
thread_local const detail::ConnectionTracker* t_serving = nullptr;

std::string peer_key(const std::string& address, int port) { return address + ' ' + std::to_string(port); }

// cpp-httplib keeps the listening socket in a protected member; reading it is the only way to learn
// which address the server listens on (bind_to_any_port() and listen() do not keep it elsewhere).
struct ListenSocket : ::httplib::Server {
  static socket_t of(const ::httplib::Server& server) { return (server.*(&ListenSocket::svr_sock_)).load(); }
};

std::optional<sockaddr_storage> local_address(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return std::nullopt;
  return addr;
}

std::optional<std::string> peer_of(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return std::nullopt;
  int port = 0;
  if (addr.ss_family == AF_INET) {
    port = ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    port = ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
  } else {
    return std::nullopt;
  }
  // The same formatting as cpp-httplib's Request::remote_addr.
  std::array<char, NI_MAXHOST> host{};
  if (::getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, host.data(), static_cast<socklen_t>(host.size()),
                    nullptr, 0, NI_NUMERICHOST) != 0) {
    return std::nullopt;
  }
  return peer_key(host.data(), port);
}

// True when `local` is an address the listener at `listener` accepts on: same family and port, and
// the same address unless the listener is bound to the wildcard one.
bool same_endpoint(const sockaddr_storage& listener, const sockaddr_storage& local) {
  if (listener.ss_family != local.ss_family) return false;
  if (listener.ss_family == AF_INET) {
    const auto& l = reinterpret_cast<const sockaddr_in&>(listener);
    const auto& a = reinterpret_cast<const sockaddr_in&>(local);
    return l.sin_port == a.sin_port && (l.sin_addr.s_addr == htonl(INADDR_ANY) || l.sin_addr.s_addr == a.sin_addr.s_addr);
  }
  if (listener.ss_family == AF_INET6) {
    const auto& l = reinterpret_cast<const sockaddr_in6&>(listener);
    const auto& a = reinterpret_cast<const sockaddr_in6&>(local);
    const bool any = std::memcmp(&l.sin6_addr, &in6addr_any, sizeof l.sin6_addr) == 0;
    return l.sin6_port == a.sin6_port && (any || std::memcmp(&l.sin6_addr, &a.sin6_addr, sizeof l.sin6_addr) == 0);
  }
  return false;
}

// The process's connected TCP sockets accepted by the listener at `listener`, with their peers.
// cpp-httplib does not expose its connections, so they are found among the open descriptors.
std::vector<std::pair<int, std::string>> accepted_sockets(const sockaddr_storage& listener) {
  std::vector<std::pair<int, std::string>> found;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return found;
  while (const dirent* entry = ::readdir(dir)) {
    char* end = nullptr;
    const long n = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || n == ::dirfd(dir)) continue;
    const int fd = static_cast<int>(n);
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    int listening = 0;
    socklen_t len = sizeof listening;
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || listening != 0) continue;
    auto local = local_address(fd);
    if (!local || !same_endpoint(listener, *local)) continue;
    if (auto peer = peer_of(fd)) found.emplace_back(fd, std::move(*peer));
  }
  ::closedir(dir);
  return found;
}

}  // namespace

namespace detail {

void ConnectionTracker::started(const ::httplib::Request& req) {
  t_serving = this;
  std::lock_guard lock(mutex_);
  in_flight_.insert(peer_key(req.remote_addr, req.remote_port));
}

void ConnectionTracker::finished(const ::httplib::Request& req) {
  if (t_serving == this) t_serving = nullptr;
  std::lock_guard lock(mutex_);
  auto it = in_flight_.find(peer_key(req.remote_addr, req.remote_port));
  if (it == in_flight_.end()) return;  // rejected before routing: never counted
  in_flight_.erase(it);
  if (stopping_) quiet_.notify_all();
}

void ConnectionTracker::stop_accepting() {
  const socket_t listening = ListenSocket::of(server_);
  if (listening == INVALID_SOCKET) return;
  listener_ = local_address(listening);
  // Server::stop() asserts that the listening socket is still open when the server runs.
  if (server_.is_running()) server_.stop();
}

void ConnectionTracker::shut_down_connections(bool idle_only) {
  if (!listener_) return;
  std::unordered_multiset<std::string> busy;
  if (idle_only) {
    std::lock_guard lock(mutex_);
    busy = in_flight_;
  }
  for (const auto& [fd, peer] : accepted_sockets(*listener_)) {
    if (busy.contains(peer)) continue;
    // Shutting down the read side wakes the connection's thread, wherever it waits for the client,
    // with end-of-stream; a response being written still goes out.
    ::shutdown(fd, idle_only ? SHUT_RD : SHUT_RDWR);
  }
}

void ConnectionTracker::shutdown(std::chrono::milliseconds drain_timeout) {
  const auto deadline = std::chrono::steady_clock::now() + drain_timeout;
  std::unique_lock lock(mutex_);
  if (!stopping_) {
    stopping_ = true;
    lock.unlock();
    stop_accepting();
    // After stop(), a connection's thread ends it after its current request; those without one are
    // woken now.
    shut_down_connections(true);
    lock.lock();
  }
  const std::size_t own = t_serving == this ? 1 : 0;
  const bool drained = quiet_.wait_until(lock, deadline, [&] { return in_flight_.size() <= own; });
  lock.unlock();
  if (!drained) shut_down_connections(false);
}

}  // namespace detail

void GracefulShutdown::shutdown(std::chrono::milliseconds drain_timeout) const { tracker_->shutdown(drain_timeout); }

std::size_t GracefulShutdown::requests_in_flight() const { return tracker_->in_flight(); }

std::string cookie_header(const ::httplib::Request& request) {
  const std::size_t n = request.get_header_value_count("Cookie");
  if (n == 1) return request.get_header_value("Cookie");
  std::string joined;
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0) joined.append("; ");
    joined.append(request.get_header_value("Cookie", i));
  }
  return joined;
}

::httplib::Server::Handler with_session(std::shared_ptr<const Middleware> middleware, SessionHandler handler) {
  return [middleware = std::move(middleware), handler = std::move(handler)](const ::httplib::Request& req,
                                                                           ::httplib::Response& res) {
    Result<RequestSession> rs = middleware->begin(cookie_header(req));
    if (!rs) {
      respond_error(res, rs.error());
      return;
    }
    try {
      handler(req, res, rs->session());
    } catch (const std::exception&) {
      res = ::httplib::Response{};
      res.status = 500;
      res.set_content(error_body("internal", "the request handler failed"), kJson);
      return;
    }
    Result<std::optional<std::string>> cookie = rs->finish();
    if (!cookie) {
      res = ::httplib::Response{};
      respond_error(res, cookie.error());
      return;
    }
    if (*cookie) {
      res.set_header("Set-Cookie", **cookie);
      res.set_header("Cache-Control", "no-store");
    }
  };
}

namespace {

void set_error_handlers(::httplib::Server& server) {
  server.set_error_handler(::httplib::Server::HandlerWithResponse([](const ::httplib::Request&, ::httplib::Response& res) {
    if (!res.body.empty()) return ::httplib::Server::HandlerResponse::Unhandled;
    res.set_content(error_body(reason_code(res.status), "the request was rejected with status " + std::to_string(res.status)), kJson);
    return ::httplib::Server::HandlerResponse::Handled;
  }));
  server.set_exception_handler([](const ::httplib::Request&, ::httplib::Response& res, std::exception_ptr) {
    res.status = 500;
    res.set_content(error_body("internal", "the request handler failed"), kJson);
  });
}

void set_tracking_hooks(::httplib::Server& server, const std::shared_ptr<detail::ConnectionTracker>& tracker,
                        ::httplib::Logger logger) {
  server.set_pre_routing_handler([tracker](const ::httplib::Request& req, ::httplib::Response&) {
    tracker->started(req);
    // cpp-httplib 0.11 reads a POST without Content-Length or Transfer-Encoding until the client
    // closes (then answers 400), but RFC 9112 section 6.3 says such a request has no body, and
    // `curl -X POST` sends exactly that. Saying so lets the request through at once. The Request is
    // cpp-httplib's own non-const local, so writing to it is defined.
    if (!req.has_header("Content-Length") && !req.has_header("Transfer-Encoding")) {
      const_cast<::httplib::Request&>(req).headers.emplace("Content-Length", "0");
    }
    return ::httplib::Server::HandlerResponse::Unhandled;
  });
  server.set_logger([tracker, logger = std::move(logger)](const ::httplib::Request& req, const ::httplib::Response& res) {
    tracker->finished(req);
    if (logger) logger(req, res);
  });
}

}  // namespace

GracefulShutdown configure(::httplib::Server& server, const ServerOptions& options) {
  server.set_tcp_nodelay(true);
  server.set_payload_max_length(options.max_body_bytes);
  server.set_keep_alive_timeout(options.keep_alive_timeout_seconds);
  server.set_keep_alive_max_count(options.keep_alive_max_requests);
  if (options.threads > 0) {
    const std::size_t threads = options.threads;
    server.new_task_queue = [threads] { return new ::httplib::ThreadPool(threads); };
  }
  set_error_handlers(server);
  auto tracker = std::make_shared<detail::ConnectionTracker>(server);
  set_tracking_hooks(server, tracker, options.logger);
  return GracefulShutdown(std::move(tracker));
}

int bind(::httplib::Server& server, const std::string& host, int port) {
  const int bound = port == 0 ? server.bind_to_any_port(host) : (server.bind_to_port(host, port) ? port : -1);
  if (bound <= 0) return -1;
  // Listening again on a listening socket only changes its backlog (Linux, and the BSDs).
  const socket_t listening = ListenSocket::of(server);
  if (listening != INVALID_SOCKET) ::listen(listening, SOMAXCONN);
  return bound;
}

}  // namespace websession::http::httplib
