// The cpp-httplib adapter. cpp-httplib 0.11 has no per-request user data, so the session travels as a
// handler argument: with_session() wraps a handler that takes a Session& into an ordinary
// httplib::Server::Handler that runs Middleware::begin(), the handler, then finish(), and adds the
// Set-Cookie header.
//
// Threading: cpp-httplib runs each connection on a thread of its task queue, and the wrapped handler
// (store calls included) runs there, blocking that thread. Size the queue for the store's latency
// (configure() does, through ServerOptions::threads).
//
//   auto mw = std::make_shared<websession::http::Middleware>(options);
//   httplib::Server server;
//   websession::http::httplib::configure(server);
//   server.Post("/api/login", websession::http::httplib::with_session(mw,
//       [](const httplib::Request& req, httplib::Response& res, websession::Session& s) {
//         s.sign_in({.owner = "alice", .user_agent = req.get_header_value("User-Agent")});
//         s.set("user", "alice");
//         res.set_content(R"({"ok":true})", "application/json");
//       }));
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include <httplib.h>

#include "websession/http/middleware.h"
#include "websession/session.h"

namespace websession::http::httplib {

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
};

/// Applies sensible server settings: TCP_NODELAY (without it, delayed ACKs cap a keep-alive client
/// at a few hundred requests per second), the body limit, the thread count, JSON bodies for every
/// 4xx/5xx response that has none ({"error": "<reason>", "message": ...}), a JSON 500 for
/// exceptions escaping handlers, and a pre-routing handler that treats a request without
/// Content-Length or Transfer-Encoding as bodiless (RFC 9112), which cpp-httplib 0.11 would otherwise
/// read until the client closes (`curl -X POST` sends such requests). It replaces any pre-routing,
/// error or exception handler set before.
void configure(::httplib::Server& server, const ServerOptions& options = {});

}  // namespace websession::http::httplib
