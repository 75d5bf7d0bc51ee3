#include "websession/http/httplib.h"

#include <exception>
#include <string_view>
#include <utility>

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

void configure(::httplib::Server& server, const ServerOptions& options) {
  server.set_tcp_nodelay(true);
  server.set_payload_max_length(options.max_body_bytes);
  server.set_keep_alive_timeout(options.keep_alive_timeout_seconds);
  server.set_keep_alive_max_count(options.keep_alive_max_requests);
  if (options.threads > 0) {
    const std::size_t threads = options.threads;
    server.new_task_queue = [threads] { return new ::httplib::ThreadPool(threads); };
  }
  server.set_error_handler(::httplib::Server::HandlerWithResponse([](const ::httplib::Request&, ::httplib::Response& res) {
    if (!res.body.empty()) return ::httplib::Server::HandlerResponse::Unhandled;
    res.set_content(error_body(reason_code(res.status), "the request was rejected with status " + std::to_string(res.status)), kJson);
    return ::httplib::Server::HandlerResponse::Handled;
  }));
  server.set_pre_routing_handler([](const ::httplib::Request& req, ::httplib::Response&) {
    // cpp-httplib 0.11 reads a POST without Content-Length or Transfer-Encoding until the client
    // closes (then answers 400), but RFC 9112 section 6.3 says such a request has no body, and
    // `curl -X POST` sends exactly that. Saying so lets the request through at once. The Request is
    // cpp-httplib's own non-const local, so writing to it is defined.
    if (!req.has_header("Content-Length") && !req.has_header("Transfer-Encoding")) {
      const_cast<::httplib::Request&>(req).headers.emplace("Content-Length", "0");
    }
    return ::httplib::Server::HandlerResponse::Unhandled;
  });
  server.set_exception_handler([](const ::httplib::Request&, ::httplib::Response& res, std::exception_ptr) {
    res.status = 500;
    res.set_content(error_body("internal", "the request handler failed"), kJson);
  });
}

}  // namespace websession::http::httplib
