// The Boost.Beast adapter: with_session() wraps a handle_request-style function so that it gets the
// request's session, and Server is a keep-alive HTTP/1.1 server that runs such functions on an
// io_context, with no handler thread pool.
//
// Threading model. Server runs one io_context on `io_threads` threads. Each connection is a coroutine
// on its own strand: it reads a request, runs the handler, writes the response, and loops while the
// connection is kept alive.
// - Asynchronous handlers (AsyncRequestHandler; with_session() over an AsyncSessionHandler) are
//   coroutines that run on the connection's strand. Store calls and lock waits are co_awaited, so a
//   request that waits (on DynamoDB, on another request's session lock) holds no thread: a few I/O
//   threads serve any number of waiting requests.
// - Blocking handlers (RequestHandler; with_session() over a SessionHandler) run inline on an I/O
//   thread. Right for quick work that never waits (the memory store); wrong for anything that does,
//   since a blocked I/O thread stalls every connection it serves.
//
//   namespace wb = websession::http::beast;
//   auto mw = std::make_shared<websession::http::Middleware>(options);
//   wb::Server server({.port = 8080},
//       wb::with_session(mw, [](const wb::Request& req, websession::Session& s)
//                                -> websession::Task<wb::Response> {
//         auto views = co_await s.co_increment("views");
//         if (!views) co_return wb::make_response(req, 503, R"({"error":"unavailable"})");
//         co_return wb::make_response(req, 200, "{\"views\":" + std::to_string(*views) + "}");
//       }));
//   auto port = server.start();
//   server.shutdown_on_signals();  // SIGINT, SIGTERM: drain, then stop
//   server.wait();
#pragma once

#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "websession/async.h"
#include "websession/http/middleware.h"
#include "websession/result.h"
#include "websession/session.h"

namespace websession::http::beast {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

/// A blocking handle_request-style function: one request in, one response out. Server runs it inline
/// on an I/O thread, and fills in the response's keep-alive and Content-Length when it leaves them.
using RequestHandler = std::function<Response(const Request&)>;
/// A coroutine handler: Server runs it on the connection's strand. The request stays valid until the
/// Task completes.
using AsyncRequestHandler = std::function<Task<Response>(const Request&)>;
/// A blocking request handler that gets the request's session.
using SessionHandler = std::function<Response(const Request&, Session&)>;
/// A coroutine request handler that gets the request's session: use the session's co_ operations
/// (co_increment, co_destroy, co_refresh_with_lock, ...), never the blocking ones, which would block
/// the I/O thread.
using AsyncSessionHandler = std::function<Task<Response>(const Request&, Session&)>;

/// Wraps a blocking `handler` so it runs with the request's session: Middleware::begin(), the handler,
/// then finish(), all on the calling thread. A store failure before or after the handler gives the
/// status http_status() names (503 for unavailable, with Retry-After: 1) and a JSON error body; a
/// failed save replaces the handler's response, whose outcome was not persisted. Set-Cookie (with
/// Cache-Control: no-store) is added when needed. A handler that throws a std::exception gives a JSON
/// 500 and nothing is saved. Throws std::invalid_argument for an empty middleware or handler.
RequestHandler with_session(std::shared_ptr<const Middleware> middleware, SessionHandler handler);

/// The same contract for a coroutine handler: co_begin(), co_await handler, co_finish(), on the
/// executor the returned Task runs on (in Server: the connection's strand). The returned function
/// keeps `middleware` and `handler` alive while any of its Tasks runs.
AsyncRequestHandler with_session(std::shared_ptr<const Middleware> middleware, AsyncSessionHandler handler);

/// Every Cookie field of the request, joined with "; ".
std::string cookie_header(const Request& request);

/// A response to `request` (same HTTP version and keep-alive) with the given status, body and
/// content type.
Response make_response(const Request& request, unsigned status, std::string body,
                       std::string_view content_type = "application/json");

struct ServerOptions {
  /// Address to listen on.
  std::string address = "127.0.0.1";
  /// Port; 0 picks a free one (Server::start() returns it).
  std::uint16_t port = 0;
  /// Threads running the io_context; 0: std::thread::hardware_concurrency(). These are all the
  /// threads the server starts.
  unsigned io_threads = 0;
  /// Larger bodies get 413 with a JSON error; larger request headers 431.
  std::size_t max_body_bytes = 1024 * 1024;
  std::uint32_t max_header_bytes = 16 * 1024;
  /// A connection must deliver each whole request within this long (from connecting, or from the
  /// previous response), and take each response within this long; otherwise it is closed.
  std::chrono::seconds idle_timeout{30};
  /// At most this many open connections; beyond it the server stops accepting (new connections wait
  /// in the kernel's listen backlog) until one closes.
  std::size_t max_connections = 10'000;
  /// How long stop(), the destructor and shutdown_on_signals() let requests in flight finish.
  std::chrono::milliseconds drain_timeout{10'000};
};

/// An HTTP/1.1 keep-alive server over Boost.Beast. Malformed requests get 400, oversized bodies 413
/// and oversized headers 431, each with a JSON body, and the connection is closed. A HEAD response
/// keeps its Content-Length but carries no body. Accept failures (out of file descriptors) pause
/// accepting for 100 ms instead of spinning.
///
/// Shutdown is graceful: shutdown() stops accepting, closes idle keep-alive connections at once, lets
/// every request in flight (including one still being received) finish and its response be written
/// (with Connection: close), then closes those connections. Whatever is left when the drain timeout
/// ends is closed, and its handlers are abandoned: a coroutine handler is destroyed where it waits
/// (when the Server is destroyed), a blocking one runs to its end on its I/O thread.
class Server {
 public:
  /// Throws std::invalid_argument for an empty handler or invalid options.
  Server(ServerOptions options, RequestHandler handler);
  Server(ServerOptions options, AsyncRequestHandler handler);
  /// shutdown(options.drain_timeout) if running. Must not run on one of the server's own threads.
  /// Whatever else uses the server's io_context (executor()) must be gone by then.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds, listens and starts the threads; returns the port bound. unavailable when the address
  /// cannot be bound; invalid_argument for an invalid address or a second start().
  Result<std::uint16_t> start();

  /// Shuts down gracefully (see the class comment), waiting at most `drain_timeout` for requests in
  /// flight, then joins the threads. Thread-safe and idempotent: every call returns once the server
  /// has stopped; a later call cannot lengthen the drain already under way. Called from one of the
  /// server's own threads (a handler), it only starts the shutdown and returns.
  void shutdown(std::chrono::milliseconds drain_timeout);
  /// shutdown(options.drain_timeout).
  void stop();
  /// Starts a graceful shutdown without waiting for it; safe from any thread, handlers included.
  void request_shutdown(std::chrono::milliseconds drain_timeout);
  /// Blocks until the server has stopped (after shutdown(), request_shutdown() or a signal), and
  /// joins its threads. Returns at once if the server was never started. Not from a handler.
  void wait();
  /// Starts a graceful shutdown (options.drain_timeout) on the first of these signals, through an
  /// asio::signal_set on the server's io_context; a second signal closes everything at once. The
  /// signals must not be blocked in every thread (a blocked signal is never delivered).
  void shutdown_on_signals(std::vector<int> signals = {SIGINT, SIGTERM});

  /// The io_context's executor, for I/O objects that handlers share (valid until the Server is
  /// destroyed). A coroutine handler already runs on a strand of it.
  [[nodiscard]] Executor executor() const;
  /// Connections open now.
  [[nodiscard]] std::size_t connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace websession::http::beast
