// A hello-world server on cpp-httplib or Boost.Beast, answering GET /api/session with a fixed JSON
// body: the ceiling the demo's adapters are measured against (bench/load.sh, targets hello-*).
//
//   PORT=8080 SERVER=httplib|beast [THREADS=n] websession-hello
//
// THREADS: the Beast server's io_context threads (default: the hardware concurrency).
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <httplib.h>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

const std::string kBody =
    R"({"authenticated":true,"user":"alice","views":0,"refresh_count":0,"access_valid":false})";

asio::awaitable<void> serve(tcp::socket socket) {
  beast::flat_buffer buffer;
  beast::error_code ec;
  for (;;) {
    http::request<http::string_body> req;
    co_await http::async_read(socket, buffer, req, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::content_type, "application/json");
    res.keep_alive(req.keep_alive());
    res.body() = kBody;
    res.prepare_payload();
    co_await http::async_write(socket, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !res.keep_alive()) break;
  }
  socket.shutdown(tcp::socket::shutdown_send, ec);
}

asio::awaitable<void> accept(tcp::acceptor& acceptor) {
  for (;;) {
    tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
    socket.set_option(tcp::no_delay(true));
    asio::co_spawn(socket.get_executor(), serve(std::move(socket)), asio::detached);
  }
}

int run_beast(unsigned short port, unsigned threads) {
  asio::io_context ioc(static_cast<int>(threads));
  tcp::acceptor acceptor(ioc, {asio::ip::make_address("127.0.0.1"), port});
  asio::co_spawn(ioc, accept(acceptor), asio::detached);
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();
  return 0;
}

int run_httplib(int port) {
  httplib::Server server;
  server.set_tcp_nodelay(true);
  server.set_keep_alive_max_count(10'000);
  // One worker per connection, as the demo runs it: cpp-httplib serves a connection on one thread.
  server.new_task_queue = [] { return new httplib::ThreadPool(64); };
  server.Get("/api/session", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(kBody, "application/json");
  });
  return server.listen("127.0.0.1", port) ? 0 : 1;
}

}  // namespace

int main() {
  const char* port_env = std::getenv("PORT");
  const char* server_env = std::getenv("SERVER");
  const int port = port_env != nullptr ? std::atoi(port_env) : 8080;
  const std::string server = server_env != nullptr ? server_env : "httplib";
  if (port <= 0 || port > 65535) {
    std::cerr << "websession-hello: PORT must be 1 to 65535\n";
    return 2;
  }
  const char* threads_env = std::getenv("THREADS");
  const int threads = threads_env != nullptr ? std::atoi(threads_env) : 0;
  const unsigned io_threads = threads > 0 ? static_cast<unsigned>(threads) : std::max(1u, std::thread::hardware_concurrency());
  if (server == "beast") return run_beast(static_cast<unsigned short>(port), io_threads);
  if (server == "httplib") return run_httplib(port);
  std::cerr << "websession-hello: SERVER must be httplib or beast\n";
  return 2;
}
