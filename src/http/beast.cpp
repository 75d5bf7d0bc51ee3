// The Beast adapter's request functions: with_session() in its blocking and coroutine forms. The
// server that runs them is in beast_server.cpp.
#include "websession/http/beast.h"

#include <exception>
#include <optional>
#include <stdexcept>
#include <utility>

#include <boost/beast/http/field.hpp>

namespace websession::http::beast {
namespace bhttp = boost::beast::http;

namespace {

Response error_response(const Request& request, const Error& error) {
  Response res = make_response(request, static_cast<unsigned>(http_status(error)), error_body(error));
  if (res.result_int() == 503) res.set(bhttp::field::retry_after, "1");
  return res;
}

Response internal_error(const Request& request) {
  return make_response(request, 500, error_body("internal", "the request handler failed"));
}

// The request's Cookie header as one string: a view of its only Cookie field (the usual case, no
// copy), or every field joined into `storage`. A request has a handful of fields: scanning them by
// their field code costs less than the fields' case-insensitive search tree.
std::string_view cookies_of(const Request& request, std::string& storage) {
  std::string_view found;
  int count = 0;
  for (const auto& f : request) {
    if (f.name() != bhttp::field::cookie) continue;
    if (++count == 1) found = {f.value().data(), f.value().size()};
  }
  if (count <= 1) return found;
  storage = cookie_header(request);
  return storage;
}

// Adds the session cookie that finish() asked for, or turns a failed save into its error response.
Response with_cookie(const Request& request, Response response, Result<std::optional<std::string>> cookie) {
  if (!cookie) return error_response(request, cookie.error());
  if (*cookie) {
    response.insert(bhttp::field::set_cookie, **cookie);
    response.set(bhttp::field::cache_control, "no-store");
  }
  return response;
}

Response run_with_session(const Middleware& middleware, const SessionHandler& handler, const Request& req) {
  std::string storage;
  Result<RequestSession> rs = middleware.begin(cookies_of(req, storage));
  if (!rs) return error_response(req, rs.error());
  Response res;
  try {
    res = handler(req, rs->session());
  } catch (const std::exception&) {
    return internal_error(req);
  }
  return with_cookie(req, std::move(res), rs->finish());
}

// The coroutine form. Its parameters are copies, so the Task does not depend on the std::function
// that started it.
Task<Response> co_run_with_session(std::shared_ptr<const Middleware> middleware,
                                   std::shared_ptr<const AsyncSessionHandler> handler, const Request& req) {
  std::string storage;
  const std::string_view cookies = cookies_of(req, storage);
  // A store that answers from memory is called directly: no coroutine frames for begin and finish.
  // (No co_await inside a conditional expression: GCC 12 mishandles the temporaries there.)
  const bool inline_store = middleware->store().answers_inline();
  std::optional<Result<RequestSession>> begun;
  if (inline_store) {
    begun.emplace(middleware->begin(cookies));
  } else {
    begun.emplace(co_await middleware->co_begin(cookies));
  }
  Result<RequestSession>& rs = *begun;
  if (!rs) co_return error_response(req, rs.error());
  std::optional<Response> res;
  try {
    res.emplace(co_await (*handler)(req, rs->session()));
  } catch (const std::exception&) {
    // Nothing is saved: the handler's changes may be half done.
  }
  if (!res) co_return internal_error(req);
  if (inline_store) co_return with_cookie(req, std::move(*res), rs->finish());
  co_return with_cookie(req, std::move(*res), co_await rs->co_finish());
}

}  // namespace

std::string cookie_header(const Request& request) {
  std::string joined;
  auto [first, last] = request.equal_range(bhttp::field::cookie);
  for (auto it = first; it != last; ++it) {
    if (!joined.empty()) joined.append("; ");
    joined.append(it->value().data(), it->value().size());
  }
  return joined;
}

Response make_response(const Request& request, unsigned status, std::string body, std::string_view content_type) {
  Response res{static_cast<bhttp::status>(status), request.version()};
  res.set(bhttp::field::content_type, content_type);
  res.keep_alive(request.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

RequestHandler with_session(std::shared_ptr<const Middleware> middleware, SessionHandler handler) {
  if (!middleware || !handler) throw std::invalid_argument("with_session: middleware and handler are required");
  return [middleware = std::move(middleware), handler = std::move(handler)](const Request& req) {
    return run_with_session(*middleware, handler, req);
  };
}

AsyncRequestHandler with_session(std::shared_ptr<const Middleware> middleware, AsyncSessionHandler handler) {
  if (!middleware || !handler) throw std::invalid_argument("with_session: middleware and handler are required");
  return [middleware = std::move(middleware),
          handler = std::make_shared<const AsyncSessionHandler>(std::move(handler))](const Request& req) {
    return co_run_with_session(middleware, handler, req);
  };
}

}  // namespace websession::http::beast
