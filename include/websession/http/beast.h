// The Boost.Beast adapter: with_session() wraps a handle_request-style function so it gets the
// request's session, and Server is a small keep-alive HTTP/1.1 server to run such functions with.
//
// Threading model. Server runs an io_context on `io_threads` threads; each connection lives on its own
// strand. Handlers run synchronously and store calls block, so:
// - handler_threads == 0 (the default): handlers run on the I/O threads. Lowest overhead; right when
//   the store answers from memory (MemorySessionStore), wrong for a remote store, where one slow call
//   stalls every connection served by that thread.
// - handler_threads > 0: every request is handed to a separate pool of that many threads and the
//   response is written back on the connection's strand. Use this for DynamoDB, sized for the number
//   of requests expected to wait on the store at once (they mostly sleep on the network).
//
//   auto mw = std::make_shared<websession::http::Middleware>(options);
//   namespace wb = websession::http::beast;
//   wb::Server server({.port = 8080, .handler_threads = 64},
//       wb::with_session(mw, [](const wb::Request& req, websession::Session& s) {
//         s.set("seen", true);
//         return wb::make_response(req, 200, R"({"ok":true})");
//       }));
//   auto port = server.start();
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "websession/http/middleware.h"
#include "websession/result.h"
#include "websession/session.h"

namespace websession::http::beast {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

/// A handle_request-style function: one request in, one response out. Server fills in the
/// response's keep-alive and Content-Length when the handler leaves them.
using RequestHandler = std::function<Response(const Request&)>;
/// A request handler that gets the request's session.
using SessionHandler = std::function<Response(const Request&, Session&)>;

/// Wraps `handler` so it runs with the request's session; the same contract as the cpp-httplib
/// adapter: a store failure before or after the handler gives 503 (http_status()) with a JSON
/// error body; Set-Cookie is added when needed; a throwing handler gives a JSON 500 and saves nothing.
RequestHandler with_session(std::shared_ptr<const Middleware> middleware, SessionHandler handler);

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
  /// Threads running the io_context; 0: std::thread::hardware_concurrency().
  unsigned io_threads = 0;
  /// Threads running handlers; 0: handlers run on the I/O threads (see the threading model above).
  unsigned handler_threads = 0;
  /// With handler_threads > 0: which requests go to the handler pool (for example only those that
  /// may wait on a lock); the others run on the I/O threads. Default (empty): every request.
  std::function<bool(const Request&)> offload;
  /// Larger bodies get 413 with a JSON error; larger headers 431.
  std::size_t max_body_bytes = 1024 * 1024;
  std::uint32_t max_header_bytes = 16 * 1024;
  /// An idle or stalled connection is closed after this long.
  std::chrono::seconds idle_timeout{30};
};

/// An HTTP/1.1 keep-alive server over Boost.Beast. Malformed requests get 400, oversized bodies 413
/// and oversized headers 431, each with a JSON body, and the connection is closed.
class Server {
 public:
  Server(ServerOptions options, RequestHandler handler);
  /// Stops the server if running.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds, listens and starts the threads; returns the port bound. unavailable when the address
  /// cannot be bound.
  Result<std::uint16_t> start();
  /// Stops accepting, drops open connections and joins the threads. Idempotent; thread-safe.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace websession::http::beast
