#include "websession/http/httplib.h"

#include <thread>

#include <gtest/gtest.h>

#include "adapter_support.h"

namespace {
using namespace adapter_test;
namespace wh = websession::http;

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
    port = server.bind_to_any_port("127.0.0.1");
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

TEST(HttplibCookieHeader, JoinsSeveralHeaders) {
  httplib::Request req;
  req.headers.emplace("Cookie", "a=1");
  req.headers.emplace("Cookie", "b=2");
  EXPECT_EQ(websession::http::httplib::cookie_header(req), "a=1; b=2");
}

}  // namespace
