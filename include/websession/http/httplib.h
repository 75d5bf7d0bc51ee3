// The cpp-httplib adapter. cpp-httplib 0.11 has no per-request user data, so the session travels as a
// handler argument: with_session() wraps a handler that takes a Session& into an ordinary
// httplib::Server::Handler that runs Middleware::begin(), the handler, then finish(), and adds the
// Set-Cookie header.
//
// Threading: cpp-httplib serves each connection on one thread of its task queue, for as long as the
// connection is open, and the wrapped handler (store calls included) runs there, blocking that thread.
// Size the queue above the number of connections expected at once (ServerOptions::threads): a
// connection that is idle, or that has sent only part of a request, holds its thread too. See
// docs/http.md for what to put in front of it on the open internet.
//
//   auto mw = std::make_shared<websession::http::Middleware>(options);
//   httplib::Server server;
//   auto graceful = websession::http::httplib::configure(server, {.threads = 128});
//   server.Post("/api/login", websession::http::httplib::with_session(mw,
//       [](const httplib::Request& req, httplib::Response& res, websession::Session& s) {
//         s.sign_in({.owner = "alice", .user_agent = req.get_header_value("User-Agent")});
//         s.set("user", "alice");
//         res.set_content(R"({"ok":true})", "application/json");
//       }));
//   websession::http::httplib::bind(server, "127.0.0.1", 8080);
//   std::thread listener([&] { server.listen_after_bind(); });
//   ...                        // on SIGTERM:
//   graceful.shutdown();       // stop accepting, finish the requests in flight, close the rest
//   listener.join();
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include <httplib.h>

#include "websession/http/middleware.h"
#include "websession/session.h"

namespace websession::http::httplib {

namespace detail {
class ConnectionTracker;
}

/// A request handler that gets the request's session.
using SessionHandler = std::function<void(const ::httplib::Request&, ::httplib::Response&, Session&)>;

/// Wraps `handler` so it runs with the request's session. Before the handler: the session is loaded
/// from the Cookie header(s); a store failure answers 503 (or the status http_status() gives) with a
/// JSON error body and the handler does not run. After it: what changed is saved and Set-Cookie is
/// added when needed; a failed save replaces the handler's response with the 503 JSON error, since
/// the handler's outcome was not persisted. A handler that throws gives 500 with a JSON body and
/// nothing is saved.
::httplib::Server::Handler with_session(std::shared_ptr<const Middleware> middleware, SessionHandler handler);

/// Every Cookie header of the request, joined with "; " (HTTP/1.1 clients send one; proxies may
/// split it).
std::string cookie_header(const ::httplib::Request& request);

struct ServerOptions {
  /// Request bodies above this get 413.
  std::size_t max_body_bytes = 1024 * 1024;
  /// Worker threads (cpp-httplib runs one connection per thread at a time); 0: cpp-httplib's default.
  std::size_t threads = 0;
  /// Seconds an idle keep-alive connection stays open.
  long keep_alive_timeout_seconds = 5;
  /// Requests served on one connection before it is closed. cpp-httplib's default is 5, which makes
  /// busy clients reconnect every fifth request.
  std::size_t keep_alive_max_requests = 10'000;
  /// Called after each response is written (cpp-httplib's logger, which configure() takes over to
  /// know which requests are in flight; do not call Server::set_logger() afterwards).
  ::httplib::Logger logger;
};

/// Graceful shutdown of a server set up by configure(), which returns it. Copies control the same
/// server, which must outlive them.
///
/// cpp-httplib 0.11's own Server::stop() closes the listening socket and lets each connection's
/// thread finish its current request, but listen() returns only when every thread is done, and a
/// thread notices the stop only between requests: one holding an idle keep-alive connection after
/// its keep-alive timeout (keep_alive_timeout_seconds), one whose client sent part of a request after
/// the read timeout (5 s). shutdown() ends those connections at once.
class GracefulShutdown {
 public:
  /// Stops accepting (Server::stop()), then at once shuts down every connection of the server that is
  /// not serving a request (idle keep-alive, or a request whose header is incomplete), so that its
  /// thread returns; the requests being served finish, their responses are written, and their
  /// connections close. Waits at most `drain_timeout` for them; then shuts down the connections left
  /// (their handlers run to their end, but their responses are lost). Returns when no request is in
  /// flight or the drain timeout has passed; the thread in listen() returns as soon as the handlers
  /// still running have. Thread-safe and idempotent; called from a handler of this server, it does
  /// not wait for that handler's own request. Connections still queued for a thread are closed
  /// unanswered (cpp-httplib's behaviour). Finds the server's connections through /proc/self/fd
  /// (Linux); without it, idle connections end at their keep-alive timeout. Like Server::stop(), it
  /// does not stop a server whose listen() has not started yet (Server::is_running()).
  void shutdown(std::chrono::milliseconds drain_timeout = std::chrono::seconds(10)) const;
  /// Requests being served now: from their complete header to their response written.
  [[nodiscard]] std::size_t requests_in_flight() const;

 private:
  friend GracefulShutdown configure(::httplib::Server& server, const ServerOptions& options);
  explicit GracefulShutdown(std::shared_ptr<detail::ConnectionTracker> tracker) : tracker_(std::move(tracker)) {}
  std::shared_ptr<detail::ConnectionTracker> tracker_;
};

/// Applies sensible server settings: TCP_NODELAY (without it, delayed ACKs cap a keep-alive client
/// at a few hundred requests per second), the body limit, the thread count, JSON bodies for every
/// 4xx/5xx response that has none ({"error": "<reason>", "message": ...}), a JSON 500 for
/// exceptions escaping handlers, and a pre-routing handler that treats a request without
/// Content-Length or Transfer-Encoding as bodiless (RFC 9112), which cpp-httplib 0.11 would otherwise
/// read until the client closes (`curl -X POST` sends such requests). It replaces any pre-routing,
/// error or exception handler and logger set before (see ServerOptions::logger), and returns the
/// server's graceful shutdown.
GracefulShutdown configure(::httplib::Server& server, const ServerOptions& options = {});

/// Binds `server` to host:port (port 0: any free port) and listens with a backlog of SOMAXCONN rather
/// than cpp-httplib 0.11's 5, with which a burst of new connections overflows the kernel's queue and
/// the clients' TCP retries after 1 s, 3 s, 7 s. Then call server.listen_after_bind(). Returns the
/// port, or -1 when the address cannot be bound.
int bind(::httplib::Server& server, const std::string& host, int port);

}  // namespace websession::http::httplib
