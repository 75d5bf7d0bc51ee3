#include "websession/http/beast.h"

#include <atomic>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace websession::http::beast {
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::beast::error_code;

namespace {

Response error_response(const Request& request, const Error& error) {
  Response res = make_response(request, static_cast<unsigned>(http_status(error)), error_body(error));
  if (res.result_int() == 503) res.set(bhttp::field::retry_after, "1");
  return res;
}

Response internal_error(const Request& request) {
  return make_response(request, 500, error_body("internal", "the request handler failed"));
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
  return [middleware = std::move(middleware), handler = std::move(handler)](const Request& req) -> Response {
    Result<RequestSession> rs = middleware->begin(cookie_header(req));
    if (!rs) return error_response(req, rs.error());
    Response res;
    try {
      res = handler(req, rs->session());
    } catch (const std::exception&) {
      return internal_error(req);
    }
    Result<std::optional<std::string>> cookie = rs->finish();
    if (!cookie) return error_response(req, cookie.error());
    if (*cookie) {
      res.insert(bhttp::field::set_cookie, **cookie);
      res.set(bhttp::field::cache_control, "no-store");
    }
    return res;
  };
}

namespace {

// What connections need from the server; outlives them (Server::stop() joins every thread first).
struct ServerCore {
  ServerOptions options;
  RequestHandler handler;
  std::optional<asio::thread_pool> handler_pool;

  unsigned io_thread_count() const {
    if (options.io_threads > 0) return options.io_threads;
    const unsigned hw = std::thread::hardware_concurrency();
    return hw > 0 ? hw : 1;
  }

  Response handle(const Request& req) noexcept {
    try {
      Response res = handler(req);
      if (!res.has_content_length() && !res.chunked()) res.prepare_payload();
      if (!req.keep_alive()) res.keep_alive(false);
      if (req.method() == bhttp::verb::head) {
        // A HEAD response announces the body's length but carries none: bytes after the header
        // would be read as the next response on a keep-alive connection.
        const std::size_t size = res.body().size();
        res.body().clear();
        res.content_length(size);
      }
      return res;
    } catch (...) {
      Response res = internal_error(req);
      res.keep_alive(false);
      return res;
    }
  }
};

}  // namespace

namespace {

// One connection: read a request, hand it to the handler (inline or on the handler pool), write the
// response on the connection's strand, repeat while keep-alive.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, ServerCore& server) : stream_(std::move(socket)), server_(server) {}

  void start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_read(); });
  }

 private:
  void do_read() {
    parser_.emplace();
    parser_->body_limit(server_.options.max_body_bytes);
    parser_->header_limit(server_.options.max_header_bytes);
    stream_.expires_after(server_.options.idle_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(error_code ec) {
    if (ec == bhttp::error::end_of_stream) return do_close();
    if (ec) {
      // Answer what the client can act on; anything else (a timeout, a reset) just closes.
      Request dummy;
      dummy.version(11);
      dummy.keep_alive(false);
      if (ec == bhttp::error::body_limit) {
        return send(make_response(dummy, 413, error_body("payload_too_large", "the request body is too large")));
      }
      if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
        return send(make_response(dummy, 431, error_body("request_header_fields_too_large",
                                                         "the request headers are too large")));
      }
      if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category()) {
        return send(make_response(dummy, 400, error_body("bad_request", "the request is malformed")));
      }
      return do_close();
    }
    Request req = parser_->release();
    if (server_.handler_pool && (!server_.options.offload || server_.options.offload(req))) {
      asio::post(*server_.handler_pool, [self = shared_from_this(), req = std::move(req)]() mutable {
        Response res = self->server_.handle(req);
        asio::post(self->stream_.get_executor(),
                   [self, res = std::move(res)]() mutable { self->send(std::move(res)); });
      });
    } else {
      send(server_.handle(req));
    }
  }

  void send(Response res) {
    response_ = std::make_shared<Response>(std::move(res));
    const bool keep_alive = response_->keep_alive();
    stream_.expires_after(server_.options.idle_timeout);
    bhttp::async_write(stream_, *response_,
                       [self = shared_from_this(), keep_alive](error_code ec, std::size_t) {
                         self->on_write(ec, keep_alive);
                       });
  }

  void on_write(error_code ec, bool keep_alive) {
    response_.reset();
    if (ec) return do_close();
    if (!keep_alive) return do_close();
    do_read();
  }

  void do_close() {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  boost::beast::tcp_stream stream_;
  ServerCore& server_;
  boost::beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<Response> response_;
};

}  // namespace

struct Server::Impl {
  ServerCore core;
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  asio::steady_timer accept_pause{ioc};
  std::vector<std::thread> threads;
  std::mutex stop_mutex;
  bool started = false;
  bool stopped = false;

  Impl(ServerOptions o, RequestHandler h)
      : core{std::move(o), std::move(h), std::nullopt}, ioc(static_cast<int>(core.io_thread_count())) {}

  void do_accept();
};

void Server::Impl::do_accept() {
  acceptor.async_accept(asio::make_strand(ioc), [this](error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (ec) {
      // Out of descriptors (or another transient failure): accepting again at once would spin.
      accept_pause.expires_after(std::chrono::milliseconds(100));
      accept_pause.async_wait([this](error_code wait_ec) {
        if (!wait_ec && acceptor.is_open()) do_accept();
      });
      return;
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    std::make_shared<Connection>(std::move(socket), core)->start();
    do_accept();
  });
}

Server::Server(ServerOptions options, RequestHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

Server::~Server() { stop(); }

Result<std::uint16_t> Server::start() {
  std::lock_guard lock(impl_->stop_mutex);
  if (impl_->started) return Error(ErrorCode::invalid_argument, "the server was already started");
  error_code ec;
  const auto address = asio::ip::make_address(impl_->core.options.address, ec);
  if (ec) return Error(ErrorCode::invalid_argument, "invalid listen address: " + impl_->core.options.address);
  const tcp::endpoint endpoint{address, impl_->core.options.port};
  auto& acceptor = impl_->acceptor;
  if (acceptor.open(endpoint.protocol(), ec); !ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Error(ErrorCode::unavailable, "cannot listen on " + impl_->core.options.address + ":" +
                                             std::to_string(impl_->core.options.port) + ": " + ec.message());
  }
  const std::uint16_t port = acceptor.local_endpoint().port();
  if (impl_->core.options.handler_threads > 0) impl_->core.handler_pool.emplace(impl_->core.options.handler_threads);
  impl_->do_accept();
  const unsigned n = impl_->core.io_thread_count();
  for (unsigned i = 0; i < n; ++i) impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  impl_->started = true;
  return port;
}

void Server::stop() {
  std::lock_guard lock(impl_->stop_mutex);
  if (!impl_->started || impl_->stopped) return;
  impl_->stopped = true;
  // Stop the I/O first, so that no new request reaches the handler pool; then let the handlers that
  // are running finish, and drop the queued ones. Open connections are dropped.
  impl_->ioc.stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  error_code ignored;
  impl_->acceptor.close(ignored);
  if (impl_->core.handler_pool) {
    impl_->core.handler_pool->stop();
    impl_->core.handler_pool->join();
  }
}

}  // namespace websession::http::beast
