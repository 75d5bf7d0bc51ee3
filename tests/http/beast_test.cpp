#include "websession/http/beast.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <httplib.h>

#include <gtest/gtest.h>

#include "adapter_support.h"

namespace {
using namespace adapter_test;
namespace wb = websession::http::beast;

class BeastAdapter : public ::testing::TestWithParam<unsigned> {
 protected:
  void SetUp() override {
    (void)store->init();
    auto mw = make_middleware(store);
    auto session_handler = wb::with_session(mw, [](const wb::Request& req, websession::Session& s) {
      if (req.target() == "/count") {
        auto n = s.increment("n");
        return wb::make_response(req, 200, std::to_string(n.ok() ? *n : -1), "text/plain");
      }
      if (req.target() == "/throw") {
        s.set("never", true);
        throw std::runtime_error("boom");
      }
      return wb::make_response(req, 200, std::to_string(s.get_int("n").value_or(0)), "text/plain");
    });
    wb::ServerOptions options;
    options.io_threads = 2;
    options.handler_threads = GetParam();
    options.max_body_bytes = 1024;
    server = std::make_unique<wb::Server>(options, session_handler);
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
  EXPECT_FALSE(read->has_header("Set-Cookie"));
}

TEST_P(BeastAdapter, HeadAnswersCarryNoBodyOnAKeepAliveConnection) {
  // A raw socket: an HTTP client library might read the stray body itself and hide the bug.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string requests =
      "HEAD /read HTTP/1.1\r\nHost: t\r\n\r\nGET /read HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::send(fd, requests.data(), requests.size(), 0), static_cast<ssize_t>(requests.size()));
  std::string answer;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) answer.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
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
  store->fail = true;
  auto r = client.Post("/count");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
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

INSTANTIATE_TEST_SUITE_P(HandlerThreads, BeastAdapter, ::testing::Values(0u, 4u));

TEST(BeastServer, StartTwiceFailsAndStopIsIdempotent) {
  wb::Server server({}, [](const wb::Request& req) { return wb::make_response(req, 200, "ok", "text/plain"); });
  ASSERT_TRUE(server.start().ok());
  EXPECT_FALSE(server.start().ok());
  server.stop();
  server.stop();
}

}  // namespace
