#include "websession/http/httplib.h"

#include <atomic>
#include <future>
#include <iostream>
#include <thread>

#include <gtest/gtest.h>

#include "adapter_support.h"
#include "malformed_requests.h"
#include "raw_http.h"

namespace {
using namespace adapter_test;
using namespace std::chrono_literals;
namespace wh = websession::http;
using Clock = std::chrono::steady_clock;

class HttplibAdapter : public ::testing::Test {
 protected:
  void SetUp() override {
    (void)store->init();
    wh::httplib::configure(server);
    auto mw = make_middleware(store);
    server.Post("/count", wh::httplib::with_session(mw, [](const httplib::Request&, httplib::Response& res,
                                                          websession::Session& s) {
                  auto n = s.increment("n");
                  res.set_content(std::to_string(n.ok() ? *n : -1), "text/plain");
                }));
    server.Get("/read", wh::httplib::with_session(mw, [](const httplib::Request&, httplib::Response& res,
                                                        websession::Session& s) {
                 res.set_content(std::to_string(s.get_int("n").value_or(0)), "text/plain");
               }));
    server.Get("/throw", wh::httplib::with_session(mw, [](const httplib::Request&, httplib::Response&,
                                                         websession::Session& s) {
                 s.set("never", true);
                 throw std::runtime_error("boom");
               }));
    port = wh::httplib::bind(server, "127.0.0.1", 0);
    ASSERT_GT(port, 0);
    thread = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  void TearDown() override {
    server.stop();
    if (thread.joinable()) thread.join();
  }

  std::shared_ptr<FlakyStore> store = std::make_shared<FlakyStore>();
  httplib::Server server;
  std::thread thread;
  int port = 0;
};

TEST_F(HttplibAdapter, SessionRoundTripOverRealSocket) {
  httplib::Client client("127.0.0.1", port);
  auto first = client.Post("/count");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->body, "1");
  const std::string set_cookie = first->get_header_value("Set-Cookie");
  ASSERT_FALSE(set_cookie.empty());
  httplib::Headers h = {{"Cookie", cookie_pair(set_cookie)}};
  auto second = client.Post("/count", h, "", "text/plain");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->body, "2");
  auto read = client.Get("/read", h);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->body, "2");
  EXPECT_FALSE(read->has_header("Set-Cookie"));
}

TEST_F(HttplibAdapter, NoCookieForUntouchedSession) {
  httplib::Client client("127.0.0.1", port);
  auto r = client.Get("/read");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_FALSE(r->has_header("Set-Cookie"));
  EXPECT_EQ(store->size(), 0u);
}

TEST_F(HttplibAdapter, StoreFailureIs503Json) {
  httplib::Client client("127.0.0.1", port);
  auto first = client.Post("/count");
  ASSERT_TRUE(first);
  store->fail = true;
  auto r = client.Get("/read", {{"Cookie", cookie_pair(first->get_header_value("Set-Cookie"))}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_NE(r->body.find("\"error\":\"unavailable\""), std::string::npos) << r->body;
  auto anon = client.Post("/count");  // a new session fails to be created
  ASSERT_TRUE(anon);
  EXPECT_EQ(anon->status, 503);
  EXPECT_FALSE(anon->has_header("Set-Cookie"));
}

TEST_F(HttplibAdapter, ThrowingHandlerIs500AndSavesNothing) {
  httplib::Client client("127.0.0.1", port);
  auto r = client.Get("/throw");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_FALSE(r->has_header("Set-Cookie"));
  EXPECT_EQ(store->size(), 0u);
}

TEST_F(HttplibAdapter, ErrorsGetJsonBodies) {
  httplib::Client client("127.0.0.1", port);
  auto r = client.Get("/missing");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  auto big = client.Post("/count", std::string(2 * 1024 * 1024, 'x'), "text/plain");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
}

// A configured server listening on an ephemeral port, on a thread of its own.
struct Running {
  Running(const wh::httplib::ServerOptions& options, const std::function<void(httplib::Server&)>& routes)
      : graceful(wh::httplib::configure(server, options)) {
    routes(server);
    port = wh::httplib::bind(server, "127.0.0.1", 0);
    listener = std::async(std::launch::async, [this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::sleep_for(1ms);
  }
  ~Running() {
    graceful.shutdown(1s);
    listener.wait();
  }
  /// How long listen() takes to return from now, at most `limit`.
  Clock::duration listen_returns_within(std::chrono::seconds limit) {
    const auto t0 = Clock::now();
    listener.wait_for(limit);
    return Clock::now() - t0;
  }

  httplib::Server server;
  wh::httplib::GracefulShutdown graceful;
  std::future<void> listener;
  int port = 0;
};

std::string raw_request(const std::string& method, const std::string& target, const std::string& cookie = {},
                        const std::string& body = {}) {
  std::string r = method + " " + target + " HTTP/1.1\r\nHost: t\r\n";
  if (!cookie.empty()) r += "Cookie: " + cookie + "\r\n";
  r += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  return r + body;
}

void slow_and_fast_routes(httplib::Server& server, std::atomic<int>& in_progress, std::chrono::milliseconds slow) {
  server.Get("/fast", [](const httplib::Request&, httplib::Response& res) { res.set_content("fast", "text/plain"); });
  server.Get("/slow", [&in_progress, slow](const httplib::Request&, httplib::Response& res) {
    ++in_progress;
    std::this_thread::sleep_for(slow);
    res.set_content("slow", "text/plain");
    --in_progress;
  });
}

void wait_for(const std::atomic<int>& n, int at_least) {
  const auto deadline = Clock::now() + 5s;
  while (n < at_least && Clock::now() < deadline) std::this_thread::sleep_for(1ms);
  ASSERT_GE(n, at_least);
}

wh::httplib::ServerOptions with_threads(std::size_t n) {
  wh::httplib::ServerOptions o;
  o.threads = n;
  return o;
}

TEST(HttplibGracefulShutdown, FinishesRequestsInFlightAndEndsIdleConnectionsAtOnce) {
  std::atomic<int> in_progress{0};
  Running r(with_threads(8), [&](httplib::Server& s) { slow_and_fast_routes(s, in_progress, 500ms); });
  raw_http::Socket idle(static_cast<std::uint16_t>(r.port));
  ASSERT_TRUE(idle.send(raw_request("GET", "/fast")));
  ASSERT_TRUE(idle.read_response(5s));
  raw_http::Socket half(static_cast<std::uint16_t>(r.port));
  ASSERT_TRUE(half.send("GET /fast HTTP/1.1\r\nHost:"));
  raw_http::Socket busy(static_cast<std::uint16_t>(r.port));
  ASSERT_TRUE(busy.send(raw_request("GET", "/slow")));
  wait_for(in_progress, 1);

  const auto t0 = Clock::now();
  auto shutdown = std::async(std::launch::async, [&] { r.graceful.shutdown(10s); });
  bool timed_out = false;
  EXPECT_EQ(idle.read_until_close(3s, &timed_out), "");
  EXPECT_FALSE(timed_out);
  half.read_until_close(3s, &timed_out);
  EXPECT_FALSE(timed_out);
  EXPECT_LT(Clock::now() - t0, 300ms) << "idle connections were not ended at once";
  auto answer = busy.read_response(5s);
  ASSERT_TRUE(answer) << "the request in flight got no answer";
  EXPECT_TRUE(answer->starts_with("HTTP/1.1 200")) << *answer;
  shutdown.get();
  EXPECT_LT(r.listen_returns_within(5s), 1s) << "listen() kept waiting";
  EXPECT_LT(Clock::now() - t0, 2s);
}

TEST(HttplibGracefulShutdown, PlainStopWaitsForIdleKeepAliveConnections) {
  // What GracefulShutdown is for: cpp-httplib 0.11's stop() lets listen() return only once an idle
  // keep-alive connection has timed out.
  std::atomic<int> in_progress{0};
  wh::httplib::ServerOptions options = with_threads(4);
  options.keep_alive_timeout_seconds = 2;
  Running r(options, [&](httplib::Server& s) { slow_and_fast_routes(s, in_progress, 0ms); });
  raw_http::Socket idle(static_cast<std::uint16_t>(r.port));
  ASSERT_TRUE(idle.send(raw_request("GET", "/fast")));
  ASSERT_TRUE(idle.read_response(5s));
  std::this_thread::sleep_for(100ms);  // its thread waits for the next request now
  r.server.stop();
  EXPECT_GE(r.listen_returns_within(10s), 1500ms);
}

TEST(HttplibGracefulShutdown, ClosesWhatTheDrainTimeoutLeaves) {
  std::atomic<int> in_progress{0};
  Running r(with_threads(4), [&](httplib::Server& s) { slow_and_fast_routes(s, in_progress, 1500ms); });
  raw_http::Socket busy(static_cast<std::uint16_t>(r.port));
  ASSERT_TRUE(busy.send(raw_request("GET", "/slow")));
  wait_for(in_progress, 1);
  const auto t0 = Clock::now();
  r.graceful.shutdown(200ms);
  EXPECT_LT(Clock::now() - t0, 1s);
  bool timed_out = false;
  EXPECT_EQ(busy.read_until_close(1s, &timed_out), "");
  EXPECT_FALSE(timed_out);
}

TEST(HttplibGracefulShutdown, AHandlerCanStartItWithoutWaitingForItself) {
  std::promise<wh::httplib::GracefulShutdown*> graceful;
  auto shared = graceful.get_future().share();
  std::atomic<bool> returned{false};
  Running r(with_threads(4), [&](httplib::Server& s) {
    s.Get("/bye", [&](const httplib::Request&, httplib::Response& res) {
      shared.get()->shutdown(5s);
      returned = true;
      res.set_content("bye", "text/plain");
    });
  });
  graceful.set_value(&r.graceful);
  raw_http::Socket s(static_cast<std::uint16_t>(r.port));
  const auto t0 = Clock::now();
  ASSERT_TRUE(s.send(raw_request("GET", "/bye")));
  auto answer = s.read_response(5s);
  ASSERT_TRUE(answer);
  EXPECT_TRUE(answer->starts_with("HTTP/1.1 200"));
  EXPECT_LT(Clock::now() - t0, 1s);
  EXPECT_TRUE(returned);
  EXPECT_LT(r.listen_returns_within(5s), 1s);
}

// The cpp-httplib server serves a connection per thread: with more threads than connections that
// hold one (here 100 that sent half a request), a signed-in user still gets through. (With fewer,
// it would wait for the read timeout; see docs/http.md.)
TEST(HttplibLoad, ASignedInUserIsAnsweredBehind100HalfSentRequests) {
  ASSERT_GE(raw_http::raise_fd_limit(1024), 400u);
  auto mw = make_middleware(counting_memory_store());
  Running r(with_threads(128), [&](httplib::Server& s) {
    s.Post("/api/login", wh::httplib::with_session(mw, [](const httplib::Request& req, httplib::Response& res,
                                                          websession::Session& session) {
             auto [status, body] = malformed::login_answer(req.body, session);
             res.status = static_cast<int>(status);
             res.set_content(body, "application/json");
           }));
    s.Get("/api/session", wh::httplib::with_session(mw, [](const httplib::Request&, httplib::Response& res,
                                                           websession::Session& session) {
            res.set_content(R"({"user":")" + session.get_string("user").value_or("") + R"("})", "application/json");
          }));
  });
  const auto port = static_cast<std::uint16_t>(r.port);
  raw_http::Socket login(port);
  ASSERT_TRUE(login.send(raw_request("POST", "/api/login", {}, R"({"user":"alice"})")));
  auto signed_in = login.read_response(5s);
  ASSERT_TRUE(signed_in);
  const std::string alice = cookie_pair(set_cookie_of(*signed_in));
  std::vector<raw_http::Socket> stalled;
  stalled.reserve(100);
  for (int i = 0; i < 100; ++i) {
    stalled.emplace_back(port);
    ASSERT_TRUE(stalled.back().send("POST /api/login HTTP/1.1\r\nHost: t\r\nContent-Length: 20\r\n"));
  }
  std::this_thread::sleep_for(200ms);  // every one of them holds a thread now
  const auto t0 = Clock::now();
  raw_http::Socket s(port);
  ASSERT_TRUE(s.send(raw_request("GET", "/api/session", alice)));
  auto answer = s.read_response(2s);
  ASSERT_TRUE(answer) << "no answer within 2 s";
  EXPECT_NE(answer->find(R"({"user":"alice"})"), std::string::npos) << *answer;
  EXPECT_LT(Clock::now() - t0, 2s);
}

TEST(HttplibMalformed, GetA4xxOrACloseAndTouchNoSession) {
  auto store = counting_memory_store();
  auto mw = make_middleware(store);
  Running r(with_threads(16), [&](httplib::Server& s) {
    s.Post("/api/login", wh::httplib::with_session(mw, [](const httplib::Request& req, httplib::Response& res,
                                                          websession::Session& session) {
             auto [status, body] = malformed::login_answer(req.body, session);
             res.status = static_cast<int>(status);
             res.set_content(body, "application/json");
           }));
    s.Get("/api/session", wh::httplib::with_session(mw, [](const httplib::Request&, httplib::Response& res,
                                                           websession::Session& session) {
            res.set_content(R"({"user":")" + session.get_string("user").value_or("") + R"("})", "application/json");
          }));
  });
  std::string outcomes;
  for (const auto& problem :
       malformed::run(static_cast<std::uint16_t>(r.port), malformed::generate(20260101, 300), &outcomes)) {
    ADD_FAILURE() << problem;
  }
  std::cout << "[ info ] outcomes: " << outcomes << "\n";
  EXPECT_EQ(store->writes(), 0);
  EXPECT_EQ(store->gets, 0);
  httplib::Client client("127.0.0.1", r.port);
  auto after = client.Post("/api/login", R"({"user":"after"})", "application/json");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
}

TEST(HttplibCookieHeader, JoinsSeveralHeaders) {
  httplib::Request req;
  req.headers.emplace("Cookie", "a=1");
  req.headers.emplace("Cookie", "b=2");
  EXPECT_EQ(websession::http::httplib::cookie_header(req), "a=1; b=2");
}

}  // namespace
