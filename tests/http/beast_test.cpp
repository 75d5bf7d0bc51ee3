#include "websession/http/beast.h"

#include <csignal>
#include <iostream>
#include <future>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <httplib.h>

#include <gtest/gtest.h>

#include "adapter_support.h"
#include "malformed_requests.h"
#include "raw_http.h"

namespace {
using namespace adapter_test;
using namespace std::chrono_literals;
namespace wb = websession::http::beast;
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using websession::Session;
using websession::Task;
using Clock = std::chrono::steady_clock;

constexpr auto kAwait = asio::use_awaitable_t<websession::Executor>{};

// Latency bounds hold for optimized builds; an unoptimized sanitizer build runs the same scenarios
// (for what the sanitizers catch) some ten times slower.
#if defined(NDEBUG) && !defined(__SANITIZE_ADDRESS__)
constexpr int kSlowdown = 1;
#else
constexpr int kSlowdown = 10;
#endif

Task<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(kAwait);
}

std::string user_json(const Session& s) {
  auto user = s.get_string("user");
  return user ? R"({"user":")" + *user + R"("})" : R"({"user":null})";
}

// The test application, once blocking and once as a coroutine: /count increments, /read reads,
// /throw throws after a change, POST /api/login and GET /api/session as in malformed_requests.h,
// anything else 404.
wb::Response blocking_app(const wb::Request& req, Session& s) {
  if (req.target() == "/count") {
    auto n = s.increment("n");
    return wb::make_response(req, 200, std::to_string(n.ok() ? *n : -1), "text/plain");
  }
  if (req.target() == "/throw") {
    s.set("never", true);
    throw std::runtime_error("boom");
  }
  if (req.target() == "/read") return wb::make_response(req, 200, std::to_string(s.get_int("n").value_or(0)), "text/plain");
  if (req.method() == bhttp::verb::post && req.target() == "/api/login") {
    auto [status, body] = malformed::login_answer(req.body(), s);
    return wb::make_response(req, status, body);
  }
  if (req.method() == bhttp::verb::get && req.target() == "/api/session") return wb::make_response(req, 200, user_json(s));
  return wb::make_response(req, 404, R"({"error":"not_found"})");
}

Task<wb::Response> coroutine_app(const wb::Request& req, Session& s) {
  if (req.target() == "/count") {
    auto n = co_await s.co_increment("n");
    co_return wb::make_response(req, 200, std::to_string(n.ok() ? *n : -1), "text/plain");
  }
  if (req.target() == "/throw") {
    s.set("never", true);
    co_await sleep_for(1ms);
    throw std::runtime_error("boom");
  }
  co_return blocking_app(req, s);  // the rest never waits
}

enum class Kind { blocking, coroutine };

std::string kind_name(const ::testing::TestParamInfo<Kind>& p) {
  return p.param == Kind::blocking ? "Blocking" : "Coroutine";
}

wb::ServerOptions threads(unsigned n) {
  wb::ServerOptions o;
  o.io_threads = n;
  return o;
}

std::unique_ptr<wb::Server> make_server(Kind kind, const std::shared_ptr<websession::http::Middleware>& mw,
                                        const wb::ServerOptions& options) {
  if (kind == Kind::blocking) return std::make_unique<wb::Server>(options, wb::with_session(mw, blocking_app));
  return std::make_unique<wb::Server>(options, wb::with_session(mw, coroutine_app));
}

std::string request(std::string_view method, std::string_view target, std::string_view cookie = {},
                    std::string_view body = {}) {
  std::string r = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: t\r\n";
  if (!cookie.empty()) r += "Cookie: " + std::string(cookie) + "\r\n";
  if (!body.empty() || method == "POST") r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return r + "\r\n" + std::string(body);
}

// Signs `user` in through the login route; returns the cookie to send.
std::string sign_in(std::uint16_t port, const std::string& user) {
  raw_http::Socket s(port);
  EXPECT_TRUE(s.send(request("POST", "/api/login", {}, R"({"user":")" + user + R"("})")));
  auto answer = s.read_response(5s);
  EXPECT_TRUE(answer && answer->starts_with("HTTP/1.1 200")) << (answer ? *answer : "no answer");
  return answer ? cookie_pair(set_cookie_of(*answer)) : std::string();
}

class BeastAdapter : public ::testing::TestWithParam<Kind> {
 protected:
  void SetUp() override {
    (void)store->init();
    wb::ServerOptions options;
    options.io_threads = 2;
    options.max_body_bytes = 1024;
    server = make_server(GetParam(), make_middleware(store), options);
    auto p = server->start();
    ASSERT_TRUE(p.ok());
    port = *p;
  }
  void TearDown() override { server->stop(); }

  std::shared_ptr<FlakyStore> store = std::make_shared<FlakyStore>();
  std::unique_ptr<wb::Server> server;
  std::uint16_t port = 0;
};

TEST_P(BeastAdapter, SessionRoundTripOverRealSocketWithKeepAlive) {
  httplib::Client client("127.0.0.1", port);
  client.set_keep_alive(true);
  auto first = client.Post("/count");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->body, "1");
  const std::string set_cookie = first->get_header_value("Set-Cookie");
  ASSERT_FALSE(set_cookie.empty());
  httplib::Headers h = {{"Cookie", cookie_pair(set_cookie)}};
  for (int i = 2; i < 20; ++i) {
    auto r = client.Post("/count", h, "", "text/plain");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, std::to_string(i));
  }
  auto read = client.Get("/read", h);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->body, "19");
  EXPECT_FALSE(read->has_header("Set-Cookie"));
}

TEST_P(BeastAdapter, HeadAnswersCarryNoBodyOnAKeepAliveConnection) {
  // A raw socket: an HTTP client library might read the stray body itself and hide the bug.
  raw_http::Socket s(port);
  ASSERT_TRUE(s.send("HEAD /read HTTP/1.1\r\nHost: t\r\n\r\nGET /read HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
  const std::string answer = s.read_until_close(5s);
  const auto head_end = answer.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos) << answer;
  EXPECT_NE(answer.substr(0, head_end).find("Content-Length: 1"), std::string::npos) << answer;
  EXPECT_EQ(answer.compare(head_end + 4, 9, "HTTP/1.1 "), 0) << "bytes after the HEAD response's header:\n"
                                                             << answer.substr(head_end + 4);
}

TEST_P(BeastAdapter, StoreFailureIs503JsonAndHandlerExceptionIs500) {
  httplib::Client client("127.0.0.1", port);
  auto t = client.Get("/throw");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->status, 500);
  EXPECT_FALSE(t->has_header("Set-Cookie"));
  EXPECT_EQ(store->size(), 0u);
  store->fail = true;
  auto r = client.Post("/count");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->get_header_value("Retry-After"), "1");
  EXPECT_NE(r->body.find("\"error\":\"unavailable\""), std::string::npos);
}

TEST_P(BeastAdapter, OversizedBodyAndHeadersGetJson4xx) {
  httplib::Client client("127.0.0.1", port);
  auto big = client.Post("/count", std::string(4096, 'x'), "text/plain");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  EXPECT_NE(big->body.find("payload_too_large"), std::string::npos);
  httplib::Client client2("127.0.0.1", port);
  auto hdr = client2.Get("/read", {{"X-Big", std::string(64 * 1024, 'a')}});
  ASSERT_TRUE(hdr);
  EXPECT_EQ(hdr->status, 431);
}

INSTANTIATE_TEST_SUITE_P(Handlers, BeastAdapter, ::testing::Values(Kind::blocking, Kind::coroutine),
                         kind_name);

// Malformed requests over raw sockets: a 4xx or a closed connection, never a crash or a 5xx, and the
// store sees nothing (no cookie in them is validly signed, and no body is one the routes accept).
class BeastMalformed : public ::testing::TestWithParam<Kind> {};

TEST_P(BeastMalformed, GetA4xxOrACloseAndTouchNoSession) {
  auto store = counting_memory_store();
  wb::ServerOptions options;
  options.io_threads = 2;
  auto server = make_server(GetParam(), make_middleware(store), options);
  const std::uint16_t port = *server->start();
  std::string outcomes;
  for (const auto& problem : malformed::run(port, malformed::generate(20260101, 300), &outcomes)) {
    ADD_FAILURE() << problem;
  }
  std::cout << "[ info ] outcomes: " << outcomes << "\n";
  EXPECT_EQ(store->writes(), 0);
  EXPECT_EQ(store->gets, 0);
  // Still serving.
  EXPECT_FALSE(sign_in(port, "after").empty());
}

INSTANTIATE_TEST_SUITE_P(Handlers, BeastMalformed, ::testing::Values(Kind::blocking, Kind::coroutine),
                         kind_name);

// ---- The server on its own: plain handlers, limits, shutdown.

wb::Response hello(const wb::Request& req) { return wb::make_response(req, 200, "ok", "text/plain"); }

TEST(BeastServer, StartTwiceFailsAndStopIsIdempotent) {
  wb::Server server({}, hello);
  ASSERT_TRUE(server.start().ok());
  EXPECT_FALSE(server.start().ok());
  server.stop();
  server.stop();
  server.wait();
}

TEST(BeastServer, NeverStartedServerStopsAndDestroysCleanly) {
  wb::Server server({}, hello);
  server.shutdown_on_signals({SIGUSR2});
  server.stop();
  server.wait();
}

TEST(BeastServer, RunsPlainCoroutineHandlersAndAnswersThrowsWith500) {
  wb::Server server(threads(1), wb::AsyncRequestHandler([](const wb::Request& req) -> Task<wb::Response> {
                      co_await sleep_for(5ms);
                      if (req.target() == "/throw") throw std::logic_error("boom");
                      co_return wb::make_response(req, 200, "waited", "text/plain");
                    }));
  const std::uint16_t port = *server.start();
  raw_http::Socket s(port);
  ASSERT_TRUE(s.send(request("GET", "/a") + request("GET", "/throw") + request("GET", "/b")));
  auto a = s.read_response(5s);
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->starts_with("HTTP/1.1 200")) << *a;
  EXPECT_NE(a->find("waited"), std::string::npos);
  auto thrown = s.read_response(5s);
  ASSERT_TRUE(thrown);
  EXPECT_TRUE(thrown->starts_with("HTTP/1.1 500")) << *thrown;
  EXPECT_NE(thrown->find("Connection: close"), std::string::npos) << *thrown;
  raw_http::Socket again(port);
  ASSERT_TRUE(again.send(request("GET", "/c")));
  auto c = again.read_response(5s);
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->starts_with("HTTP/1.1 200")) << *c;
}

TEST(BeastServer, IdleTimeoutClosesAStalledConnection) {
  wb::ServerOptions options = threads(1);
  options.idle_timeout = 1s;
  wb::Server server(options, hello);
  const std::uint16_t port = *server.start();
  raw_http::Socket s(port);
  ASSERT_TRUE(s.send("GET / HTTP/1.1\r\nHost:"));
  const auto t0 = Clock::now();
  bool timed_out = false;
  s.read_until_close(5s, &timed_out);
  EXPECT_FALSE(timed_out);
  EXPECT_LT(Clock::now() - t0, 3s);
}

TEST(BeastServer, MaxConnectionsPausesAcceptingUntilOneCloses) {
  wb::ServerOptions options = threads(1);
  options.max_connections = 2;
  wb::Server server(options, hello);
  const std::uint16_t port = *server.start();
  auto first = std::make_unique<raw_http::Socket>(port);
  raw_http::Socket second(port);
  ASSERT_TRUE(first->send(request("GET", "/")));
  ASSERT_TRUE(first->read_response(5s));
  ASSERT_TRUE(second.send(request("GET", "/")));
  ASSERT_TRUE(second.read_response(5s));
  raw_http::Socket third(port);  // connects (the kernel's backlog) but is not accepted
  ASSERT_TRUE(third.send(request("GET", "/")));
  EXPECT_FALSE(third.read_response(300ms));
  first.reset();
  auto answer = third.read_response(5s);
  ASSERT_TRUE(answer);
  EXPECT_TRUE(answer->starts_with("HTTP/1.1 200"));
}

// ---- Graceful shutdown.

// A server whose /slow requests wait `slow` on a timer (counting those in progress); others answer
// at once.
struct SlowServer {
  explicit SlowServer(std::chrono::milliseconds slow, wb::ServerOptions options = threads(2))
      : server(options, wb::AsyncRequestHandler([this, slow](const wb::Request& req) -> Task<wb::Response> {
                 if (req.target() == "/slow") {
                   ++in_progress;
                   co_await sleep_for(slow);
                   --in_progress;
                 }
                 co_return wb::make_response(req, 200, "done", "text/plain");
               })),
        port(*server.start()) {}

  void wait_in_progress(int n) const {
    const auto deadline = Clock::now() + 5s;
    while (in_progress < n && Clock::now() < deadline) std::this_thread::sleep_for(1ms);
    ASSERT_GE(in_progress, n);
  }

  std::atomic<int> in_progress{0};
  wb::Server server;
  std::uint16_t port;
};

TEST(BeastServerShutdown, FinishesRequestsInFlightAndClosesIdleConnectionsAtOnce) {
  SlowServer slow(500ms);
  raw_http::Socket idle(slow.port);
  ASSERT_TRUE(idle.send(request("GET", "/fast")));
  ASSERT_TRUE(idle.read_response(5s));  // now an idle keep-alive connection
  raw_http::Socket busy(slow.port);
  ASSERT_TRUE(busy.send(request("GET", "/slow")));
  slow.wait_in_progress(1);

  const auto t0 = Clock::now();
  auto shutdown = std::async(std::launch::async, [&] { slow.server.shutdown(10s); });
  bool timed_out = false;
  EXPECT_EQ(idle.read_until_close(5s, &timed_out), "");
  EXPECT_FALSE(timed_out);
  EXPECT_LT(Clock::now() - t0, 300ms) << "the idle connection was not closed at once";

  auto answer = busy.read_response(5s);
  ASSERT_TRUE(answer) << "the request in flight got no answer";
  EXPECT_TRUE(answer->starts_with("HTTP/1.1 200")) << *answer;
  EXPECT_NE(answer->find("Connection: close"), std::string::npos) << *answer;
  EXPECT_EQ(busy.read_until_close(5s, &timed_out), "");
  EXPECT_FALSE(timed_out);
  shutdown.get();
  const auto took = Clock::now() - t0;
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 3s);
  EXPECT_FALSE(raw_http::Socket(slow.port).connected()) << "still accepting after shutdown";
}

TEST(BeastServerShutdown, ARequestStillArrivingIsServed) {
  SlowServer slow(0ms);
  raw_http::Socket arriving(slow.port);
  ASSERT_TRUE(arriving.send("GET /fast HTTP/1.1\r\nHost: t\r\n"));  // half of the header
  std::this_thread::sleep_for(50ms);
  slow.server.request_shutdown(5s);
  std::this_thread::sleep_for(100ms);
  ASSERT_TRUE(arriving.send("\r\n"));
  auto answer = arriving.read_response(5s);
  ASSERT_TRUE(answer);
  EXPECT_TRUE(answer->starts_with("HTTP/1.1 200")) << *answer;
  slow.server.wait();
}

TEST(BeastServerShutdown, ForceClosesWhatTheDrainTimeoutLeaves) {
  SlowServer slow(30s);
  raw_http::Socket busy(slow.port);
  ASSERT_TRUE(busy.send(request("GET", "/slow")));
  slow.wait_in_progress(1);
  const auto t0 = Clock::now();
  slow.server.shutdown(200ms);
  EXPECT_LT(Clock::now() - t0, 2s);
  bool timed_out = false;
  EXPECT_EQ(busy.read_until_close(2s, &timed_out), "");
  EXPECT_FALSE(timed_out) << "the abandoned connection stayed open";
}

TEST(BeastServerShutdown, ConcurrentCallsAreSafeAndAllReturnOnceStopped) {
  SlowServer slow(200ms);
  raw_http::Socket busy(slow.port);
  ASSERT_TRUE(busy.send(request("GET", "/slow")));
  slow.wait_in_progress(1);
  std::vector<std::thread> callers;
  for (int i = 0; i < 8; ++i) {
    callers.emplace_back([&, i] {
      if (i % 3 == 0) slow.server.stop();
      if (i % 3 == 1) slow.server.shutdown(5s);
      if (i % 3 == 2) {
        slow.server.request_shutdown(5s);
        slow.server.wait();
      }
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(slow.in_progress, 0);
  auto answer = busy.read_response(1s);
  ASSERT_TRUE(answer);
  EXPECT_TRUE(answer->starts_with("HTTP/1.1 200"));
}

TEST(BeastServerShutdown, AHandlerCanStartItAndWaitReturns) {
  std::promise<wb::Server*> self;
  auto server_future = self.get_future().share();
  wb::Server server(threads(2), [server_future](const wb::Request& req) {
    server_future.get()->shutdown(5s);  // on an I/O thread: starts the shutdown and returns
    return wb::make_response(req, 200, "bye", "text/plain");
  });
  self.set_value(&server);
  const std::uint16_t port = *server.start();
  raw_http::Socket s(port);
  ASSERT_TRUE(s.send(request("GET", "/")));
  auto answer = s.read_response(5s);
  ASSERT_TRUE(answer);
  EXPECT_NE(answer->find("Connection: close"), std::string::npos) << *answer;
  server.wait();
  EXPECT_FALSE(raw_http::Socket(port).connected());
}

TEST(BeastServerShutdown, ASignalDrainsAndASecondOneStopsAtOnce) {
  SlowServer slow(30s);
  slow.server.shutdown_on_signals({SIGUSR2});
  raw_http::Socket busy(slow.port);
  ASSERT_TRUE(busy.send(request("GET", "/slow")));
  slow.wait_in_progress(1);
  auto waiter = std::async(std::launch::async, [&] { slow.server.wait(); });
  ASSERT_EQ(::raise(SIGUSR2), 0);
  EXPECT_EQ(waiter.wait_for(300ms), std::future_status::timeout) << "the first signal did not wait for the request";
  EXPECT_FALSE(raw_http::Socket(slow.port).connected()) << "still accepting after the first signal";
  ASSERT_EQ(::raise(SIGUSR2), 0);
  EXPECT_EQ(waiter.wait_for(2s), std::future_status::ready) << "the second signal did not stop the server";
}

// A regression test for destruction order, meant for the AddressSanitizer build: handlers still
// running (blocking and coroutine) and requests queued behind them on keep-alive connections when the
// server is destroyed with a short drain timeout. Nothing may outlive what it uses.
TEST(BeastServerShutdown, DestroyedWithSlowHandlersAndQueuedRequestsIsSafe) {
  for (Kind kind : {Kind::blocking, Kind::coroutine}) {
    auto store = counting_memory_store();
    auto mw = make_middleware(store);
    std::atomic<int> started{0};
    wb::ServerOptions options = threads(2);
    options.drain_timeout = 50ms;
    std::unique_ptr<wb::Server> server;
    if (kind == Kind::blocking) {
      server = std::make_unique<wb::Server>(options, wb::with_session(mw, [&](const wb::Request& req, Session& s) {
                                              ++started;
                                              std::this_thread::sleep_for(200ms);
                                              s.set("seen", true);
                                              return wb::make_response(req, 200, "slow");
                                            }));
    } else {
      server = std::make_unique<wb::Server>(
          options, wb::with_session(mw, [&](const wb::Request& req, Session& s) -> Task<wb::Response> {
            ++started;
            co_await sleep_for(2s);
            s.set("seen", true);
            co_return wb::make_response(req, 200, "slow");
          }));
    }
    const std::uint16_t port = *server->start();
    std::vector<raw_http::Socket> clients;
    for (int i = 0; i < 8; ++i) {
      clients.emplace_back(port);
      ASSERT_TRUE(clients.back().send(request("POST", "/a") + request("POST", "/b") + request("POST", "/c")));
    }
    while (started == 0) std::this_thread::sleep_for(1ms);
    server.reset();
    for (auto& c : clients) c.read_until_close(2s);  // closed, answered or not
  }
}

// ---- Load: slow clients and lock waits must not starve anyone.

TEST(BeastServerLoad, ASignedInUserIsAnsweredBehind1000HalfSentRequests) {
  ASSERT_GE(raw_http::raise_fd_limit(4096), 2100u) << "this test needs about 2,100 descriptors";
  auto server = make_server(Kind::coroutine, make_middleware(counting_memory_store()), threads(2));
  const std::uint16_t port = *server->start();
  const std::string alice = sign_in(port, "alice");
  std::vector<raw_http::Socket> stalled;
  stalled.reserve(1000);
  for (int i = 0; i < 1000; ++i) {
    stalled.emplace_back(port);
    ASSERT_TRUE(stalled.back().connected()) << "connection " << i;
    ASSERT_TRUE(stalled.back().send("POST /api/login HTTP/1.1\r\nHost: t\r\nContent-Length: 20\r\n"));
  }
  const auto accepted_by = Clock::now() + 10s;
  while (server->connections() < 1000 && Clock::now() < accepted_by) std::this_thread::sleep_for(5ms);
  ASSERT_GE(server->connections(), 1000u) << "the server did not take the half-sent requests";

  const auto t0 = Clock::now();
  raw_http::Socket s(port);
  ASSERT_TRUE(s.send(request("GET", "/api/session", alice)));
  auto answer = s.read_response(2s);
  const auto took = Clock::now() - t0;
  ASSERT_TRUE(answer) << "no answer within 2 s";
  EXPECT_NE(answer->find(R"({"user":"alice"})"), std::string::npos) << *answer;
  EXPECT_LT(took, 2s);
}

struct Answer {
  unsigned status = 0;
  std::string body;
  Clock::duration took{};
};

// One request on a new connection, from a coroutine: the client side of the lock-wait test runs on one
// thread, however many requests it has open.
Task<Answer> fetch(std::uint16_t port, bhttp::verb method, std::string target, std::string cookie) {
  const auto t0 = Clock::now();
  asio::ip::tcp::socket socket(co_await asio::this_coro::executor);
  co_await socket.async_connect({asio::ip::address_v4::loopback(), port}, kAwait);
  wb::Request req{method, target, 11};
  req.set(bhttp::field::host, "t");
  if (!cookie.empty()) req.set(bhttp::field::cookie, cookie);
  req.prepare_payload();
  co_await bhttp::async_write(socket, req, kAwait);
  boost::beast::flat_buffer buffer;
  wb::Response res;
  co_await bhttp::async_read(socket, buffer, res, kAwait);
  co_return Answer{res.result_int(), res.body(), Clock::now() - t0};
}

// The refresh pattern as an application writes it: an access token that needs a refresh, and a slow
// refresh step under the session lock. `refresh_ends` is when the step finished.
struct RefreshProbe {
  std::atomic<bool> refreshing{false};
  std::atomic<Clock::rep> refresh_ends{0};
  /// Requests that have entered the refresh pattern (and wait for the lock, or hold it).
  std::atomic<int> entered{0};
};

// Waiters outlast even a slow build's refresh (the default gives up after the store's max_lock_time
// plus a second).
websession::LockWaitOptions patient() {
  websession::LockWaitOptions o;
  o.max_wait = 60s;
  return o;
}

wb::AsyncRequestHandler refresh_app(const std::shared_ptr<websession::http::Middleware>& mw, RefreshProbe& probe) {
  return wb::with_session(mw, [&probe](const wb::Request& req, Session& s) -> Task<wb::Response> {
    if (req.target() == "/api/login") {
      auto [status, body] = malformed::login_answer(req.body(), s);
      s.set("refresh_token", "r0");
      s.set("access", "expired");
      co_return wb::make_response(req, status, body);
    }
    if (req.target() != "/refresh") co_return wb::make_response(req, 200, user_json(s));
    ++probe.entered;
    auto outcome = co_await s.co_refresh_with_lock(
        [](const Session& x) { return x.get_string("access").value_or("") != "valid"; },
        [&probe](Session& x) -> Task<websession::Status> {
          probe.refreshing = true;
          co_await sleep_for(2s * (kSlowdown + 1) / 2);  // the identity provider, slowly
          x.set("refresh_token", "r1");
          x.set("access", "valid");
          probe.refresh_ends = Clock::now().time_since_epoch().count();
          co_return websession::Status{};
        },
        patient());
    if (!outcome) co_return wb::make_response(req, 503, websession::http::error_body(outcome.error()));
    co_return wb::make_response(req, 200, outcome->rotated ? R"({"rotated":true})" : R"({"rotated":false})");
  });
}

// While 200 requests of alice wait for her session's lock (one of them refreshing for 2 s), bob's
// read is answered at once (under 300 ms), and the whole process (server and client) uses at most 16
// threads.
TEST(BeastServerLoad, LockWaitsDoNotBlockTheEventLoop) {
  auto store = counting_memory_store();
  RefreshProbe probe;
  wb::Server server(threads(4), refresh_app(make_middleware(store), probe));
  const std::uint16_t port = *server.start();
  const std::string alice = sign_in(port, "alice");
  const std::string bob = sign_in(port, "bob");

  asio::io_context client(1);
  std::vector<Answer> refreshes(200);
  std::optional<Answer> bobs;
  Clock::time_point bob_answered;
  int max_threads = raw_http::thread_count();
  int open = static_cast<int>(refreshes.size()) + 1;
  for (auto& r : refreshes) {
    asio::co_spawn(client, [&]() -> Task<void> {
      r = co_await fetch(port, bhttp::verb::post, "/refresh", alice);
      --open;
    }, asio::detached);
  }
  asio::co_spawn(client, [&]() -> Task<void> {
    // Once every request of alice waits for the lock (or after 1.5 s), bob reads.
    while (!probe.refreshing) co_await sleep_for(2ms);
    const auto give_up = Clock::now() + 1500ms * kSlowdown;
    while (probe.entered < 200 && Clock::now() < give_up) co_await sleep_for(2ms);
    bobs = co_await fetch(port, bhttp::verb::get, "/api/session", bob);
    bob_answered = Clock::now();
    --open;
  }, asio::detached);
  asio::co_spawn(client, [&]() -> Task<void> {
    while (open > 0) {
      max_threads = std::max(max_threads, raw_http::thread_count());
      co_await sleep_for(2ms);
    }
  }, asio::detached);
  client.run();

  ASSERT_TRUE(bobs);
  EXPECT_EQ(bobs->status, 200u);
  EXPECT_EQ(bobs->body, R"({"user":"bob"})");
  EXPECT_LT(bobs->took, 300ms * kSlowdown) << "another user's read waited behind the lock";
  EXPECT_LT(bob_answered.time_since_epoch().count(), probe.refresh_ends.load()) << "bob read after the refresh";
  int rotated = 0;
  for (const auto& r : refreshes) {
    EXPECT_EQ(r.status, 200u) << r.body;
    rotated += r.body == R"({"rotated":true})" ? 1 : 0;
  }
  EXPECT_EQ(rotated, 1);
  EXPECT_LE(max_threads, 16);
  // The requests of one process wait for the one that refreshes rather than each trying the lock.
  EXPECT_LT(store->locks, 20);
  std::cout << "[ info ] threads: " << max_threads << ", lock attempts: " << store->locks
            << ", the other user's read: " << std::chrono::duration_cast<std::chrono::milliseconds>(bobs->took).count()
            << " ms\n";
}

}  // namespace
