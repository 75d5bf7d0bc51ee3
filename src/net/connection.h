// One HTTP/1.1 connection (plain or TLS) with its deadline watchdog, and the per-io_context pool
// of idle keep-alive connections. Private to websession::net.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/execution_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include "websession/async.h"

namespace websession::net::detail {

using tcp = asio::ip::tcp;
namespace beast = boost::beast;

/// A connection. Shared so that its watchdog's handler can outlive a request that completed.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  explicit Connection(const Executor& executor) : socket_(executor), timer_(executor), resolver_(executor) {}

  /// Closes the connection when `deadline` passes before disarm(): whatever operation is pending
  /// then fails, and timed_out() says why. The closing runs on `executor`, the one of the coroutine
  /// using the connection now (a pooled connection may serve coroutines on different strands).
  void arm(std::chrono::steady_clock::time_point deadline, const Executor& executor);
  void disarm() noexcept;
  [[nodiscard]] bool timed_out() const noexcept { return timed_out_; }

  /// Wraps the connected socket in TLS (the stream takes it over).
  void start_tls(asio::ssl::context& context) { tls_.emplace(std::move(socket_), context); }
  [[nodiscard]] bool is_tls() const noexcept { return tls_.has_value(); }
  [[nodiscard]] asio::ssl::stream<tcp::socket>& tls() noexcept { return *tls_; }
  [[nodiscard]] tcp::socket& socket() noexcept { return tls_ ? tls_->next_layer() : socket_; }
  [[nodiscard]] tcp::resolver& resolver() noexcept { return resolver_; }
  [[nodiscard]] bool is_open() const noexcept { return tls_ ? tls_->next_layer().is_open() : socket_.is_open(); }
  /// Bytes read past the previous response (kept for the next one).
  beast::flat_buffer buffer;
  /// When the connection went idle.
  std::chrono::steady_clock::time_point idle_since;

  void close() noexcept;

 private:
  tcp::socket socket_;
  std::optional<asio::ssl::stream<tcp::socket>> tls_;
  asio::steady_timer timer_;
  tcp::resolver resolver_;
  std::uint64_t generation_ = 0;
  bool timed_out_ = false;
};

using ConnectionPtr = std::shared_ptr<Connection>;

/// The idle connections of one io_context, by origin key: an Asio service, so they are closed
/// when their io_context is destroyed (a thread's own context included).
class ConnectionPool final : public asio::execution_context::service {
 public:
  using key_type = ConnectionPool;
  static asio::execution_context::id id;  // NOLINT(readability-identifier-naming): Asio's protocol

  explicit ConnectionPool(asio::execution_context& context) : asio::execution_context::service(context) {}

  /// The most recently idled live connection for `key`, or nullptr; closes those idle too long.
  ConnectionPtr take(const std::string& origin, std::chrono::milliseconds idle_timeout);
  /// Keeps `connection` for reuse unless `max_idle` are already kept for `key`.
  void give(const std::string& origin, ConnectionPtr connection, std::size_t max_idle);
  [[nodiscard]] std::size_t idle(const std::string& origin);

 private:
  void shutdown() override;

  std::mutex mutex_;
  std::unordered_map<std::string, std::vector<ConnectionPtr>> idle_;
};

}  // namespace websession::net::detail
