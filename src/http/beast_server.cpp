// The Beast server: one coroutine per connection on its own strand, an accept loop, and a graceful
// shutdown that drains the connections. No thread but the io_context's.
#include <algorithm>
#include <array>
#include <atomic>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "websession/http/beast.h"

namespace websession::http::beast {
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::beast::error_code;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable_t<Executor>{});
// After the last response of a connection, when the client may still be sending (a request refused
// before it was read whole, or pipelined requests), what it sends is read and dropped for up to this
// long (and this much): closing with unread data would reset the connection and could destroy that
// response in the client's receive buffer before the client reads it.
constexpr std::chrono::seconds kLingerTime{1};
constexpr std::size_t kLingerBytes = 64 * 1024;
// How long accepting pauses after an accept error (out of descriptors), or when max_connections are
// open.
constexpr std::chrono::milliseconds kAcceptErrorPause{100};
constexpr std::chrono::milliseconds kFullPause{10};

Response closing_response(unsigned status, std::string_view code, std::string_view message) {
  Request dummy;
  dummy.version(11);
  dummy.keep_alive(false);
  return make_response(dummy, status, error_body(code, message));
}

// What to answer a request that could not be read; nothing (just close) for a timeout, a reset, or a
// client that went away.
std::optional<Response> read_error_answer(const error_code& ec) {
  if (ec == bhttp::error::body_limit) {
    return closing_response(413, "payload_too_large", "the request body is too large");
  }
  if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
    return closing_response(431, "request_header_fields_too_large", "the request headers are too large");
  }
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) return std::nullopt;
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category()) {
    return closing_response(400, "bad_request", "the request is malformed");
  }
  return std::nullopt;
}

Response internal_error(const Request& request) {
  Response res = make_response(request, 500, error_body("internal", "the request handler failed"));
  res.keep_alive(false);
  return res;
}

// What Server adds to every response: its length when the handler left it out, Connection: close
// when the connection ends after it, and no body for HEAD. `keep_alive` is the request's, as its
// parser found it.
void finalize(const Request& req, bool keep_alive, Response& res, bool closing) {
  bool framed = false;  // a response has a handful of fields: a scan by field code beats two lookups
  for (const auto& f : res) {
    if (f.name() == bhttp::field::content_length || f.name() == bhttp::field::transfer_encoding) framed = true;
  }
  if (!framed) res.prepare_payload();
  if (!keep_alive || closing) res.keep_alive(false);
  if (req.method() == bhttp::verb::head) {
    // A HEAD response announces the body's length but carries none: bytes after the header would be
    // read as the next response on a keep-alive connection.
    const std::size_t size = res.body().size();
    res.body().clear();
    res.content_length(size);
  }
}

class Connection;

// The open connections, for shutdown and max_connections. Thread-safe.
class Registry {
 public:
  /// Adds a connection; false once draining (the caller drops it).
  bool add(Connection* connection) {
    std::lock_guard lock(mutex_);
    if (draining_) return false;
    open_.insert(connection);
    return true;
  }
  void remove(Connection* connection);
  /// From now on add() refuses; returns the connections open now. `on_drained` runs (on whichever
  /// thread closes the last connection) when none is left.
  std::vector<std::shared_ptr<Connection>> begin_drain(std::function<void()> on_drained);
  /// After the threads have stopped: no more callbacks; closes what is still open.
  void close_remaining();
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return open_.size();
  }

 private:
  std::vector<std::shared_ptr<Connection>> snapshot_locked() const;

  mutable std::mutex mutex_;
  std::unordered_set<Connection*> open_;
  bool draining_ = false;
  std::function<void()> on_drained_;
};

// What connections need from the server. It outlives them: Server::Impl declares it before the
// io_context, whose destruction destroys any connection coroutine still suspended.
struct ServerCore {
  ServerOptions options;
  RequestHandler handler;
  AsyncRequestHandler async_handler;
  Registry registry;
  /// Set when a shutdown is requested, before the connections hear of it on their strands: a response
  /// finished meanwhile already says Connection: close.
  std::atomic<bool> stopping{false};

  [[nodiscard]] bool is_stopping() const { return stopping.load(std::memory_order_relaxed); }
};

using SteadyClock = std::chrono::steady_clock;

// One connection: a coroutine that reads a request, runs the handler, writes the response, and loops
// while keep-alive. Everything here runs on the connection's strand.
//
// Timeouts: each read or write must end by deadline_. A watchdog timer checks it, armed lazily: an
// operation only moves deadline_, and the timer, when it fires early, waits again for the new
// deadline. (Beast's tcp_stream arms a timer for every operation and wraps every buffer, which cost
// more than the rest of the server's own work per request.)
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, ServerCore& core)
      : socket_(std::move(socket)), watchdog_(socket_.get_executor()), core_(core) {}
  ~Connection() { core_.registry.remove(this); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  static Task<void> run(std::shared_ptr<Connection> self) { co_await self->serve(); }
  [[nodiscard]] Executor executor() { return socket_.get_executor(); }
  /// The server is shutting down: answer the request in progress with Connection: close, then close;
  /// an idle connection (nothing of a request received) closes at once.
  void drain();
  /// Closes the socket; only once no thread runs the io_context.
  void close_now() {
    error_code ignored;
    socket_.close(ignored);
  }

 private:
  enum class Phase { reading, handling, writing, lingering, closing };

  Task<void> serve();
  Task<void> linger_and_close(bool drain_input);
  bool client_may_be_sending();
  void close();
  void start_parser();
  Response respond_blocking(const Request& req);
  void set_deadline(SteadyClock::duration timeout);
  void arm_watchdog(SteadyClock::time_point at);
  void on_watchdog(std::uint64_t generation);

  tcp::socket socket_;
  asio::steady_timer watchdog_;
  ServerCore& core_;
  boost::beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  SteadyClock::time_point deadline_ = SteadyClock::time_point::max();
  SteadyClock::time_point armed_until_ = SteadyClock::time_point::max();
  std::uint64_t watchdog_generation_ = 0;
  bool watchdog_armed_ = false;
  Phase phase_ = Phase::reading;
  bool draining_ = false;
};

void Registry::remove(Connection* connection) {
  std::function<void()> drained;
  {
    std::lock_guard lock(mutex_);
    if (open_.erase(connection) == 0) return;
    if (draining_ && open_.empty()) drained = std::move(on_drained_);
  }
  if (drained) drained();
}

std::vector<std::shared_ptr<Connection>> Registry::snapshot_locked() const {
  std::vector<std::shared_ptr<Connection>> out;
  out.reserve(open_.size());
  for (Connection* c : open_) {
    // A connection being destroyed (its count already zero) waits on mutex_ in remove(): skip it.
    if (auto alive = c->weak_from_this().lock()) out.push_back(std::move(alive));
  }
  return out;
}

std::vector<std::shared_ptr<Connection>> Registry::begin_drain(std::function<void()> on_drained) {
  std::lock_guard lock(mutex_);
  draining_ = true;
  on_drained_ = std::move(on_drained);
  return snapshot_locked();
}

void Registry::close_remaining() {
  std::vector<std::shared_ptr<Connection>> left;
  {
    std::lock_guard lock(mutex_);
    draining_ = true;
    on_drained_ = nullptr;
    left = snapshot_locked();
  }
  for (auto& c : left) c->close_now();
}

void Connection::drain() {
  draining_ = true;
  // Nothing of a next request has arrived: the connection is idle, close it now. (Beast's parser
  // leaves a partial header in the buffer, so a request on its way shows there.)
  const bool idle = phase_ == Phase::reading && buffer_.size() == 0 && !(parser_ && parser_->got_some());
  if (idle) {
    error_code ignored;
    socket_.cancel(ignored);
  }
}

void Connection::set_deadline(SteadyClock::duration timeout) {
  deadline_ = SteadyClock::now() + timeout;
  // An armed watchdog that fires before the new deadline re-arms itself then.
  if (watchdog_armed_ && armed_until_ <= deadline_) return;
  arm_watchdog(deadline_);
}

void Connection::arm_watchdog(SteadyClock::time_point at) {
  // Re-arming cancels the pending wait, whose handler then sees an old generation.
  watchdog_armed_ = true;
  armed_until_ = at;
  watchdog_.expires_at(at);
  watchdog_.async_wait([self = shared_from_this(), generation = ++watchdog_generation_](error_code) {
    self->on_watchdog(generation);
  });
}

void Connection::on_watchdog(std::uint64_t generation) {
  if (generation != watchdog_generation_ || phase_ == Phase::closing) return;
  watchdog_armed_ = false;
  if (phase_ == Phase::handling) return;  // no I/O pending; the next operation arms it again
  if (deadline_ > SteadyClock::now()) return arm_watchdog(deadline_);
  // Too slow: the pending read or write ends with operation_aborted, and the connection closes.
  error_code ignored;
  socket_.cancel(ignored);
}

void Connection::start_parser() {
  parser_.emplace();
  parser_->body_limit(core_.options.max_body_bytes);
  parser_->header_limit(core_.options.max_header_bytes);
}

Response Connection::respond_blocking(const Request& req) {
  try {
    return core_.handler(req);
  } catch (...) {
    return internal_error(req);
  }
}

Task<void> Connection::serve() {
  for (;;) {
    if (draining_ || core_.is_stopping()) co_return close();
    start_parser();
    phase_ = Phase::reading;
    set_deadline(core_.options.idle_timeout);
    auto [ec, read] = co_await bhttp::async_read(socket_, buffer_, *parser_, kTuple);
    if (ec) {
      std::optional<Response> answer = read_error_answer(ec);
      if (!answer) co_return close();
      phase_ = Phase::writing;
      set_deadline(core_.options.idle_timeout);
      auto [write_ec, written] = co_await bhttp::async_write(socket_, *answer, kTuple);
      if (write_ec) co_return close();
      co_return co_await linger_and_close(true);
    }
    phase_ = Phase::handling;
    const Request& req = parser_->get();
    Response res;
    if (core_.handler) {
      res = respond_blocking(req);
    } else {
      // Calls the coroutine handler directly: no frame of our own per request.
      bool failed = false;
      try {
        res = co_await core_.async_handler(req);
      } catch (...) {
        failed = true;
      }
      if (failed) res = internal_error(req);
    }
    finalize(req, parser_->keep_alive(), res, draining_ || core_.is_stopping());
    phase_ = Phase::writing;
    set_deadline(core_.options.idle_timeout);
    auto [write_ec, written] = co_await bhttp::async_write(socket_, res, kTuple);
    if (write_ec) co_return close();
    if (!res.keep_alive()) co_return co_await linger_and_close(client_may_be_sending());
  }
}

bool Connection::client_may_be_sending() {
  error_code ec;
  return buffer_.size() > 0 || socket_.available(ec) > 0;
}

Task<void> Connection::linger_and_close(bool drain_input) {
  phase_ = Phase::lingering;
  error_code ec;
  socket_.shutdown(tcp::socket::shutdown_send, ec);
  if (!ec && drain_input) {
    set_deadline(kLingerTime);
    std::array<char, 2048> sink{};
    for (std::size_t dropped = 0; dropped < kLingerBytes;) {
      auto [read_ec, n] = co_await socket_.async_read_some(asio::buffer(sink), kTuple);
      if (read_ec) break;
      dropped += n;
    }
  }
  close();
}

void Connection::close() {
  phase_ = Phase::closing;
  error_code ignored;
  watchdog_.cancel();
  socket_.close(ignored);
}

}  // namespace

struct Server::Impl {
  // Declared first, destroyed last: connections refer to it until the io_context destroys them.
  ServerCore core;
  asio::io_context ioc;
  // A strand for the acceptor, the drain and the signals.
  Executor control;
  tcp::acceptor acceptor;
  asio::steady_timer accept_pause;
  asio::steady_timer drain_timer;
  std::optional<asio::signal_set> signals;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::vector<std::thread::id> thread_ids;
  mutable std::mutex mutex;  // started, shutdown_requested, joined, thread_ids, signals
  std::mutex join_mutex;     // one joiner at a time
  bool started = false;
  bool shutdown_requested = false;
  bool joined = false;

  Impl(ServerOptions options, RequestHandler handler, AsyncRequestHandler async_handler);

  unsigned io_thread_count() const;
  Executor connection_executor();
  Result<std::uint16_t> listen();
  Task<void> accept_loop();
  Task<bool> pause_accepting(std::chrono::milliseconds how_long);
  void start_connection(tcp::socket socket);
  void request_shutdown(std::chrono::milliseconds drain_timeout);
  void drain(std::chrono::milliseconds drain_timeout);
  void wait_for_signal();
  bool on_own_thread() const;
  void join();
};

namespace {

ServerOptions checked(ServerOptions options) {
  if (options.max_connections == 0) throw std::invalid_argument("max_connections must be at least 1");
  if (options.idle_timeout.count() <= 0) throw std::invalid_argument("idle_timeout must be positive");
  if (options.drain_timeout.count() < 0) throw std::invalid_argument("drain_timeout must not be negative");
  if (options.io_threads == 0) {
    const unsigned hw = std::thread::hardware_concurrency();
    options.io_threads = hw > 0 ? hw : 1;
  }
  return options;
}

}  // namespace

Server::Impl::Impl(ServerOptions options, RequestHandler handler, AsyncRequestHandler async_handler)
    : core{checked(std::move(options)), std::move(handler), std::move(async_handler), {}},
      ioc(static_cast<int>(core.options.io_threads)),
      control(core.options.io_threads == 1 ? Executor(ioc.get_executor()) : Executor(asio::make_strand(ioc))),
      acceptor(control),
      accept_pause(control),
      drain_timer(control) {
  if (!core.handler && !core.async_handler) throw std::invalid_argument("Server: the handler is empty");
}

Executor Server::Impl::connection_executor() {
  // With one thread the io_context is an implicit strand; a real one would only cost.
  if (core.options.io_threads == 1) return ioc.get_executor();
  return asio::make_strand(ioc);
}

Result<std::uint16_t> Server::Impl::listen() {
  const auto& o = core.options;
  error_code ec;
  const auto address = asio::ip::make_address(o.address, ec);
  if (ec) return Error(ErrorCode::invalid_argument, "invalid listen address: " + o.address);
  const tcp::endpoint endpoint{address, o.port};
  if (acceptor.open(endpoint.protocol(), ec); !ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error_code ignored;
    acceptor.close(ignored);
    return Error(ErrorCode::unavailable,
                 "cannot listen on " + o.address + ":" + std::to_string(o.port) + ": " + ec.message());
  }
  return acceptor.local_endpoint().port();
}

Task<bool> Server::Impl::pause_accepting(std::chrono::milliseconds how_long) {
  accept_pause.expires_after(how_long);
  auto [ec] = co_await accept_pause.async_wait(kTuple);
  co_return !ec && acceptor.is_open();
}

Task<void> Server::Impl::accept_loop() {
  for (;;) {
    if (core.registry.size() >= core.options.max_connections) {
      if (!co_await pause_accepting(kFullPause)) co_return;
      continue;
    }
    auto [ec, socket] = co_await acceptor.async_accept(connection_executor(), kTuple);
    if (!acceptor.is_open()) co_return;
    if (ec) {
      // Out of descriptors (or another transient failure): accepting again at once would spin.
      if (!co_await pause_accepting(kAcceptErrorPause)) co_return;
      continue;
    }
    start_connection(std::move(socket));
  }
}

void Server::Impl::start_connection(tcp::socket socket) {
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  auto connection = std::make_shared<Connection>(std::move(socket), core);
  // Refused while draining: the connection closes as it goes out of scope.
  if (!core.registry.add(connection.get())) return;
  const Executor ex = connection->executor();
  // An exception escaping a connection (bad_alloc) ends that connection only.
  asio::co_spawn(ex, Connection::run(std::move(connection)), [](const std::exception_ptr&) {});
}

void Server::Impl::request_shutdown(std::chrono::milliseconds drain_timeout) {
  std::lock_guard lock(mutex);
  if (!started || shutdown_requested) return;
  shutdown_requested = true;
  core.stopping = true;
  asio::post(control, [this, drain_timeout] { drain(drain_timeout); });
}

void Server::Impl::drain(std::chrono::milliseconds drain_timeout) {
  error_code ignored;
  acceptor.close(ignored);
  accept_pause.cancel();
  work.reset();
  // The last connection to close stops the io_context; so does the drain timeout, abandoning what
  // is left (Server::wait() then closes those sockets).
  auto open = core.registry.begin_drain([this] { ioc.stop(); });
  for (auto& c : open) {
    const Executor ex = c->executor();
    asio::post(ex, [c = std::move(c)] { c->drain(); });
  }
  if (open.empty() || drain_timeout.count() <= 0) {
    ioc.stop();
    return;
  }
  drain_timer.expires_after(drain_timeout);
  drain_timer.async_wait([this](error_code ec) {
    if (!ec) ioc.stop();
  });
}

void Server::Impl::wait_for_signal() {
  signals->async_wait([this](error_code ec, int) {
    if (ec) return;
    bool first = false;
    {
      std::lock_guard lock(mutex);
      first = !shutdown_requested;
    }
    if (!first) {
      ioc.stop();  // a second signal: stop waiting for the requests in flight
      return;
    }
    request_shutdown(core.options.drain_timeout);
    wait_for_signal();
  });
}

bool Server::Impl::on_own_thread() const {
  std::lock_guard lock(mutex);
  return std::find(thread_ids.begin(), thread_ids.end(), std::this_thread::get_id()) != thread_ids.end();
}

void Server::Impl::join() {
  std::lock_guard join_lock(join_mutex);
  {
    std::lock_guard lock(mutex);
    if (!started || joined) return;
  }
  for (auto& t : threads) t.join();
  // No thread runs the io_context now: close what the drain timeout left open, so that clients learn
  // at once. Their coroutines are destroyed with the io_context.
  core.registry.close_remaining();
  std::lock_guard lock(mutex);
  joined = true;
}

Server::Server(ServerOptions options, RequestHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler), nullptr)) {}

Server::Server(ServerOptions options, AsyncRequestHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), nullptr, std::move(handler))) {}

Server::~Server() { shutdown(impl_->core.options.drain_timeout); }

Result<std::uint16_t> Server::start() {
  std::lock_guard lock(impl_->mutex);
  if (impl_->started || impl_->shutdown_requested) {
    return Error(ErrorCode::invalid_argument, "the server was already started");
  }
  Result<std::uint16_t> port = impl_->listen();
  if (!port) return port;
  impl_->work.emplace(impl_->ioc.get_executor());
  asio::co_spawn(impl_->control, impl_->accept_loop(), [](const std::exception_ptr&) {});
  for (unsigned i = 0; i < impl_->core.options.io_threads; ++i) {
    impl_->threads.emplace_back([impl = impl_.get()] { impl->ioc.run(); });
    impl_->thread_ids.push_back(impl_->threads.back().get_id());
  }
  impl_->started = true;
  return port;
}

void Server::shutdown(std::chrono::milliseconds drain_timeout) {
  impl_->request_shutdown(drain_timeout);
  wait();
}

void Server::stop() { shutdown(impl_->core.options.drain_timeout); }

void Server::request_shutdown(std::chrono::milliseconds drain_timeout) { impl_->request_shutdown(drain_timeout); }

void Server::wait() {
  if (impl_->on_own_thread()) return;
  impl_->join();
}

void Server::shutdown_on_signals(std::vector<int> signals) {
  std::lock_guard lock(impl_->mutex);
  if (impl_->shutdown_requested || impl_->signals) return;
  impl_->signals.emplace(impl_->control);
  for (int s : signals) impl_->signals->add(s);
  asio::dispatch(impl_->control, [impl = impl_.get()] { impl->wait_for_signal(); });
}

Executor Server::executor() const { return impl_->ioc.get_executor(); }

std::size_t Server::connections() const { return impl_->core.registry.size(); }

}  // namespace websession::http::beast
