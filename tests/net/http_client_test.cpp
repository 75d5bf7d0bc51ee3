#include "websession/net/http_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include "aws/support/fake_env.h"
#include "aws/support/http_test_server.h"
#include "net/proxy.h"
#include "net/support/test_pki.h"
#include "net/support/test_proxy.h"

namespace websession::net {
namespace {

using namespace std::chrono_literals;
using std::chrono::steady_clock;
using websession::testing::HttpTestServer;
using websession::testing::TempDir;
using websession::testing::TestAction;
using websession::testing::TestProxy;
using websession::testing::TestRequest;

HttpClientOptions direct() {
  HttpClientOptions o;
  o.proxy.from_environment = false;
  return o;
}

// An environment for the proxy variables.
std::function<std::optional<std::string>(const std::string&)> env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

Result<Response> send(HttpClient& http, const std::string& url_text, std::string_view method = "GET",
                      std::span<const HeaderView> headers = {}, std::string_view body = {},
                      std::chrono::milliseconds timeout = 3s) {
  auto url = Url::parse(url_text);
  if (!url) return url.error();
  Request r;
  r.method = method;
  r.url = &*url;
  r.headers = headers;
  r.body = body;
  return http.request(r, steady_clock::now() + timeout);
}

TestAction ok(std::string body = "hello") { return TestAction::respond(200, std::move(body), "text/plain", false); }

// A name of this machine that a client would send through a proxy (see loopback_host_name).
std::optional<std::string> loopback_name() {
  auto name = websession::testing::loopback_host_name();
  if (!name || detail::never_proxied(*name)) return std::nullopt;
  return name;
}

TEST(Url, ParsesAbsoluteHttpUrls) {
  auto u = Url::parse("HTTPS://User:p%40ss@Example.COM:8443/a/b?x=1#frag");
  ASSERT_TRUE(u) << u.error().describe();
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "example.com");
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->target, "/a/b?x=1");
  EXPECT_EQ(u->userinfo, "User:p@ss");
  EXPECT_EQ(u->host_header(), "example.com:8443");
  auto v6 = Url::parse("http://[fd00:ec2::254]");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "fd00:ec2::254");
  EXPECT_EQ(v6->port, 80);
  EXPECT_EQ(v6->target, "/");
  EXPECT_EQ(v6->host_header(), "[fd00:ec2::254]");
  EXPECT_EQ(Url::parse("http://h?q")->target, "/?q");
  for (const char* bad : {"ftp://h/", "http://", "http://h:0/", "http://h:99999/", "http://h/a b", "http://h/\r\n",
                          "//h/", "http://fd00::1/", "http://[::1/"}) {
    EXPECT_EQ(Url::parse(bad).code(), ErrorCode::invalid_argument) << bad;
  }
}

TEST(HttpClient, SendsRequestsOverOneKeptAliveConnection) {
  HttpTestServer server([](const TestRequest& r) {
    return TestAction::respond(200, r.method + " " + r.target + " " + r.body, "text/plain", false, 0,
                               {{"X-Answer", "  42 "}});
  });
  HttpClient http(direct());
  std::array<HeaderView, 1> headers{{{"X-Custom", "v"}}};
  auto r = send(http, server.url() + "/path?q=1", "POST", headers, "body!");
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->body, "POST /path?q=1 body!");
  ASSERT_NE(r->header("x-answer"), nullptr);
  EXPECT_EQ(*r->header("x-answer"), "42");
  EXPECT_EQ(r->header("X-Answer"), nullptr);  // names are lower-cased
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(send(http, server.url() + "/again"));
  EXPECT_EQ(server.connections(), 1);
  auto first = server.received().at(0);
  EXPECT_EQ(first.header("host"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(first.header("content-length"), "5");
  EXPECT_EQ(first.header("x-custom"), "v");
  EXPECT_EQ(server.received().at(1).header("content-length"), "");  // a GET without a body
}

TEST(HttpClient, RefusesCrLfAndNulInHeadersBeforeSending) {
  HttpTestServer server([](const TestRequest&) { return ok(); });
  HttpClient http(direct());
  const std::vector<std::array<HeaderView, 1>> bad{
      {{{"X-Token", "a\r\nX-Injected: 1"}}}, {{{"X-Token", "a\nb"}}}, {{{"X-Token", std::string_view("a\0b", 3)}}},
      {{{"X-Bad\r\nName", "v"}}}, {{{"", "v"}}}, {{{"X Bad", "v"}}}};
  for (const auto& h : bad) {
    auto r = send(http, server.url(), "GET", h);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.code(), ErrorCode::invalid_argument);
  }
  EXPECT_EQ(send(http, server.url(), "GET\r\n").code(), ErrorCode::invalid_argument);
  EXPECT_EQ(server.requests(), 0);
  EXPECT_EQ(server.connections(), 0);
}

TEST(HttpClient, AnswersLargerThanTheLimitsAreProtocolErrors) {
  HttpTestServer server([](const TestRequest&) { return ok(std::string(5000, 'x')); });
  HttpClientOptions o = direct();
  o.max_response_bytes = 1000;
  HttpClient http(o);
  auto r = send(http, server.url());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), ErrorCode::unavailable);
  EXPECT_EQ(r.error().service_type, kProtocolError);

  HttpTestServer big_headers([](const TestRequest&) {
    return TestAction::respond(200, "x", "text/plain", false, 0, {{"X-Big", std::string(4000, 'h')}});
  });
  o.max_response_bytes = 1 << 20;
  o.max_header_bytes = 1024;
  HttpClient strict(o);
  EXPECT_EQ(send(strict, big_headers.url()).error().service_type, kProtocolError);
}

TEST(HttpClient, IdleConnectionsOlderThanTheIdleTimeoutAreNotReused) {
  HttpTestServer server([](const TestRequest&) { return ok(); });
  HttpClientOptions o = direct();
  o.idle_timeout = 50ms;
  HttpClient http(o);
  ASSERT_TRUE(send(http, server.url()));
  ASSERT_TRUE(send(http, server.url()));
  EXPECT_EQ(server.connections(), 1);
  std::this_thread::sleep_for(120ms);
  ASSERT_TRUE(send(http, server.url()));
  EXPECT_EQ(server.connections(), 2);
}

TEST(HttpClient, AKeptAliveConnectionTheServerClosedIsReplacedTransparently) {
  // The server closes each connection after its answer without saying so (no Connection: close),
  // as servers do with idle connections: the next request finds the pooled connection dead.
  HttpTestServer server([](const TestRequest&) {
    TestAction a = ok();
    a.close_after = true;
    return a;
  });
  HttpClient http(direct());
  ASSERT_TRUE(send(http, server.url()));
  std::this_thread::sleep_for(20ms);
  auto r = send(http, server.url());
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ(server.requests(), 2);
}

TEST(HttpClient, ConnectionCloseAnswersAreNotPooled) {
  HttpTestServer server([](const TestRequest&) {
    return TestAction::respond(200, "x", "text/plain", false, 0, {{"Connection", "close"}});
  });
  HttpClient http(direct());
  ASSERT_TRUE(send(http, server.url()));
  ASSERT_TRUE(send(http, server.url()));
  EXPECT_EQ(server.connections(), 2);
}

TEST(HttpClient, TheDeadlineCoversAServerThatNeverAnswers) {
  HttpTestServer server([](const TestRequest&) { return TestAction::hang(10s); });
  HttpClient http(direct());
  const auto start = steady_clock::now();
  auto r = send(http, server.url(), "GET", {}, {}, 200ms);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.code(), ErrorCode::unavailable);
  EXPECT_EQ(r.error().service_type, kTimeout);
  EXPECT_GE(steady_clock::now() - start, 190ms);
  EXPECT_LT(steady_clock::now() - start, 1500ms);
}

TEST(HttpClient, RefusedConnectionsAndResetsAreNetworkErrors) {
  std::uint16_t port = 0;
  {
    HttpTestServer gone([](const TestRequest&) { return ok(); });
    port = gone.port();
  }
  HttpClient http(direct());
  auto refused = send(http, "http://127.0.0.1:" + std::to_string(port));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().service_type, kNetworkError);
  HttpTestServer reset([](const TestRequest&) { return TestAction::reset(); });
  EXPECT_EQ(send(http, reset.url()).error().service_type, kNetworkError);
  HttpTestServer truncated([](const TestRequest&) { return TestAction::truncated(200, "{\"a\"", 100); });
  EXPECT_EQ(send(http, truncated.url()).error().service_type, kNetworkError);
}

TEST(HttpClient, HeadAnswersHaveNoBody) {
  HttpTestServer server([](const TestRequest&) {
    TestAction a;
    a.raw = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n";
    return a;
  });
  HttpClient http(direct());
  auto r = send(http, server.url(), "HEAD");
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->body, "");
  ASSERT_TRUE(send(http, server.url(), "HEAD"));
  EXPECT_EQ(server.connections(), 1);
}

// ---- TLS ----------------------------------------------------------------------------------------

class Tls : public ::testing::Test {
 protected:
  Tls()
      : pki_(websession::testing::make_test_pki("websession test CA", {"localhost"})),
        server_([](const TestRequest&) { return ok("secret"); },
                websession::testing::TestTlsOptions{pki_.server_cert_pem, pki_.server_key_pem}),
        ca_file_(dir_.write("ca.pem", pki_.ca_cert_pem)) {}

  websession::testing::TestPki pki_;
  HttpTestServer server_;
  TempDir dir_;
  std::string ca_file_;
};

TEST_F(Tls, VerifiesTheChainAndTheHostName) {
  HttpClientOptions o = direct();
  o.tls.ca_file = ca_file_;
  HttpClient http(o);
  auto r = send(http, server_.url("localhost"));
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->body, "secret");
  ASSERT_TRUE(send(http, server_.url("localhost")));
  EXPECT_EQ(server_.connections(), 1);  // TLS connections are pooled too
}

TEST_F(Tls, RefusesACertificateForAnotherName) {
  HttpClientOptions o = direct();
  o.tls.ca_file = ca_file_;
  HttpClient http(o);
  auto r = send(http, server_.url("127.0.0.1"));  // the certificate names localhost only
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().service_type, kTlsError);
  EXPECT_EQ(server_.requests(), 0);
}

TEST_F(Tls, RefusesAnUntrustedCa) {
  HttpClient system_cas(direct());
  auto r = send(system_cas, server_.url("localhost"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().service_type, kTlsError);
  EXPECT_NE(r.error().message.find("not verified"), std::string::npos) << r.error().message;
  EXPECT_EQ(server_.requests(), 0);
}

TEST_F(Tls, VerificationOffIsForTestsOnly) {
  HttpClientOptions o = direct();
  o.tls.verify = false;
  HttpClient http(o);
  EXPECT_TRUE(send(http, server_.url("127.0.0.1")));
}

TEST(TlsOptions, AnUnreadableCaFileIsAnInvalidOption) {
  HttpClientOptions o = direct();
  o.tls.ca_file = "/nonexistent/ca.pem";
  EXPECT_THROW(HttpClient{o}, std::invalid_argument);
}

TEST(TlsAddress, CertificatesForAddressLiteralsVerify) {
  auto pki = websession::testing::make_test_pki("websession test CA", {}, {"127.0.0.1"});
  HttpTestServer server([](const TestRequest&) { return ok(); },
                        websession::testing::TestTlsOptions{pki.server_cert_pem, pki.server_key_pem});
  TempDir dir;
  HttpClientOptions o = direct();
  o.tls.ca_file = dir.write("ca.pem", pki.ca_cert_pem);
  HttpClient http(o);
  auto r = send(http, server.url());
  EXPECT_TRUE(r) << r.error().describe();
}

// ---- proxies ------------------------------------------------------------------------------------

TEST(ProxyRules, NoProxyMatchesLikeCurl) {
  using detail::no_proxy_matches;
  EXPECT_TRUE(no_proxy_matches("*", "anything.example"));
  EXPECT_TRUE(no_proxy_matches("example.com", "example.com"));
  EXPECT_TRUE(no_proxy_matches("example.com", "api.example.com"));
  EXPECT_TRUE(no_proxy_matches(".example.com", "api.example.com"));
  EXPECT_TRUE(no_proxy_matches(".example.com", "example.com"));
  EXPECT_FALSE(no_proxy_matches("example.com", "badexample.com"));
  EXPECT_FALSE(no_proxy_matches("api.example.com", "example.com"));
  EXPECT_TRUE(no_proxy_matches("foo, bar.internal ,10.0.0.0/8", "x.bar.internal"));
  EXPECT_TRUE(no_proxy_matches("foo,10.0.0.0/8", "10.1.2.3"));
  EXPECT_FALSE(no_proxy_matches("10.0.0.0/8", "11.1.2.3"));
  EXPECT_TRUE(no_proxy_matches("192.168.1.5", "192.168.1.5"));
  EXPECT_FALSE(no_proxy_matches("192.168.1.5", "192.168.1.50"));
  EXPECT_TRUE(no_proxy_matches("[fd00:ec2::254]", "fd00:ec2::254"));
  EXPECT_TRUE(no_proxy_matches("fd00::/8", "fd00:ec2::254"));
  EXPECT_FALSE(no_proxy_matches("", "example.com"));
  EXPECT_FALSE(no_proxy_matches("*.example.com", "example.org"));
}

TEST(ProxyRules, LoopbackAndLinkLocalAreNeverProxied) {
  using detail::never_proxied;
  for (const char* h : {"localhost", "127.0.0.1", "127.1.2.3", "::1", "169.254.169.254", "169.254.170.2", "fe80::1"}) {
    EXPECT_TRUE(never_proxied(h)) << h;
  }
  for (const char* h : {"example.com", "10.0.0.1", "fd00:ec2::254", "128.0.0.1", "localhost.example.com"}) {
    EXPECT_FALSE(never_proxied(h)) << h;
  }
}

TEST(ProxyRules, ReadsTheEnvironmentAsTheSdksDo) {
  HttpClientOptions o;
  o.getenv = env({{"HTTPS_PROXY", "upper:1"}, {"https_proxy", "http://lower:3128"}, {"HTTP_PROXY", "plain:8080"},
                  {"NO_PROXY", "Internal.Example"}});
  auto c = detail::resolve_proxy_config(o.proxy, o);
  ASSERT_TRUE(c.https_proxy);
  EXPECT_EQ(c.https_proxy->host, "lower");
  EXPECT_EQ(c.https_proxy->port, 3128);
  ASSERT_TRUE(c.http_proxy);
  EXPECT_EQ(c.http_proxy->host, "plain");
  EXPECT_EQ(c.no_proxy, "internal.example");
  auto target = *Url::parse("https://api.internal.example/");
  EXPECT_EQ(detail::proxy_for(c, target), nullptr);
  EXPECT_EQ(detail::proxy_for(c, *Url::parse("https://dynamodb.us-east-1.amazonaws.com/")), &*c.https_proxy);
  EXPECT_EQ(detail::proxy_for(c, *Url::parse("http://169.254.169.254/latest")), nullptr);

  o.proxy.https_proxy = "http://explicit:1";
  EXPECT_EQ(detail::resolve_proxy_config(o.proxy, o).https_proxy->host, "explicit");
  o.proxy.from_environment = false;
  o.proxy.https_proxy.clear();
  EXPECT_FALSE(detail::resolve_proxy_config(o.proxy, o).https_proxy);

  HttpClientOptions tls_proxy;
  tls_proxy.getenv = env({{"HTTPS_PROXY", "https://proxy:443"}});
  EXPECT_THROW(HttpClient{tls_proxy}, std::invalid_argument);
  EXPECT_EQ(detail::proxy_authorization(*Url::parse("http://Aladdin:open%20sesame@p:1")),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
}

TEST(Proxy, HttpsGoesThroughAConnectTunnelWithProxyAuthorization) {
  auto name = loopback_name();
  if (!name) GTEST_SKIP() << "no host name of this machine resolves to loopback only";
  auto pki = websession::testing::make_test_pki("websession test CA", {*name});
  HttpTestServer server([](const TestRequest&) { return ok("tunnelled"); },
                        websession::testing::TestTlsOptions{pki.server_cert_pem, pki.server_key_pem});
  TestProxy proxy;
  TempDir dir;
  HttpClientOptions o;
  o.getenv = env({{"HTTPS_PROXY", proxy.url("user:p%40ss")}});
  o.tls.ca_file = dir.write("ca.pem", pki.ca_cert_pem);
  HttpClient http(o);
  auto r = send(http, server.url(*name) + "/x");
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->body, "tunnelled");
  ASSERT_TRUE(send(http, server.url(*name) + "/y"));
  ASSERT_EQ(proxy.requests().size(), 1u);  // one tunnel, kept alive
  EXPECT_EQ(proxy.requests()[0], "CONNECT " + *name + ":" + std::to_string(server.port()) + " HTTP/1.1");
  EXPECT_EQ(proxy.authorizations()[0], "Basic dXNlcjpwQHNz");
  EXPECT_EQ(server.received().at(0).header("proxy-authorization"), "");  // never to the origin
}

TEST(Proxy, HttpGoesThroughTheProxyInAbsoluteForm) {
  auto name = loopback_name();
  if (!name) GTEST_SKIP() << "no host name of this machine resolves to loopback only";
  HttpTestServer server([](const TestRequest& r) { return ok(r.target); });
  TestProxy proxy;
  HttpClientOptions o;
  o.getenv = env({{"http_proxy", proxy.url()}});
  HttpClient http(o);
  auto r = send(http, server.url(*name) + "/abs?x=1");
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->body, "/abs?x=1");
  ASSERT_EQ(proxy.requests().size(), 1u);
  EXPECT_EQ(proxy.requests()[0], "GET http://" + *name + ":" + std::to_string(server.port()) + "/abs?x=1 HTTP/1.1");
}

TEST(Proxy, NoProxyAndLoopbackGoDirect) {
  auto name = loopback_name();
  if (!name) GTEST_SKIP() << "no host name of this machine resolves to loopback only";
  HttpTestServer server([](const TestRequest&) { return ok(); });
  TestProxy proxy;
  HttpClientOptions o;
  o.getenv = env({{"HTTP_PROXY", proxy.url()}, {"NO_PROXY", "other.example," + *name}});
  HttpClient http(o);
  ASSERT_TRUE(send(http, server.url(*name)));
  HttpClientOptions all;
  all.getenv = env({{"HTTP_PROXY", proxy.url()}});
  HttpClient loopback(all);
  ASSERT_TRUE(send(loopback, server.url("127.0.0.1")));
  ASSERT_TRUE(send(loopback, server.url("localhost")));
  EXPECT_TRUE(proxy.requests().empty());
  HttpClientOptions star;
  star.getenv = env({{"HTTP_PROXY", proxy.url()}, {"no_proxy", "*"}});
  HttpClient bypass(star);
  ASSERT_TRUE(send(bypass, server.url(*name)));
  EXPECT_TRUE(proxy.requests().empty());
}

// ---- asynchronous use ---------------------------------------------------------------------------

TEST(AsyncRequest, CallbacksFuturesAndCoroutines) {
  HttpTestServer server([](const TestRequest&) { return ok("async"); });
  auto url = *Url::parse(server.url());
  Request req{"GET", &url, {}, {}, {}};
  asio::io_context ioc;
  HttpClientOptions o = direct();
  o.executor = ioc.get_executor();
  HttpClient http(o);

  std::optional<Result<Response>> by_callback;
  http.async_request(req, steady_clock::now() + 3s,
                     asio::bind_executor(ioc, [&](Result<Response> r) { by_callback.emplace(std::move(r)); }));
  std::optional<Result<Response>> by_coroutine;
  asio::co_spawn(
      ioc,
      [&]() -> Task<void> {
        by_coroutine.emplace(co_await http.async_request(req, steady_clock::now() + 3s, asio::use_awaitable_t<Executor>{}));
      },
      asio::detached);
  ioc.run();
  ASSERT_TRUE(by_callback && *by_callback);
  EXPECT_EQ((*by_callback)->body, "async");
  ASSERT_TRUE(by_coroutine && *by_coroutine);
  EXPECT_EQ(http.idle_connections(ioc, url), 2u);  // two concurrent requests, both kept

  ioc.restart();
  auto work = asio::make_work_guard(ioc);
  std::thread runner([&] { ioc.run(); });
  std::future<Result<Response>> f = http.async_request(req, steady_clock::now() + 3s, asio::use_future);
  Result<Response> r = f.get();
  work.reset();
  runner.join();
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(server.connections(), 2);  // the future's request ran on ioc, reusing its pool
}

TEST(AsyncRequest, CancellationCompletesWithCancelled) {
  HttpTestServer server([](const TestRequest&) { return TestAction::hang(10s); });
  auto url = *Url::parse(server.url());
  Request req{"GET", &url, {}, {}, {}};
  HttpClient http(direct());
  asio::io_context ioc;
  asio::cancellation_signal signal;
  std::optional<Result<Response>> got;
  http.async_request(req, steady_clock::now() + 8s,
                     asio::bind_cancellation_slot(signal.slot(), asio::bind_executor(ioc, [&](Result<Response> r) {
                                                    got.emplace(std::move(r));
                                                  })));
  asio::steady_timer t(ioc, 100ms);
  t.async_wait([&](auto) { signal.emit(asio::cancellation_type::terminal); });
  const auto start = steady_clock::now();
  ioc.run();
  ASSERT_TRUE(got);
  ASSERT_FALSE(*got);
  EXPECT_EQ(got->code(), ErrorCode::cancelled);
  EXPECT_LT(steady_clock::now() - start, 2s);
}

TEST(AsyncRequest, ManyCoroutinesOnOneIoContextShareItsPool) {
  HttpTestServer server([](const TestRequest& r) { return ok(r.target); });
  auto url = *Url::parse(server.url());
  HttpClient http(direct());
  asio::io_context ioc;
  std::atomic<int> succeeded{0};
  constexpr int kCoroutines = 40;
  constexpr int kEach = 5;
  for (int c = 0; c < kCoroutines; ++c) {
    asio::co_spawn(
        ioc,
        [&, c]() -> Task<void> {
          for (int i = 0; i < kEach; ++i) {
            const std::string target = "/" + std::to_string(c) + "/" + std::to_string(i);
            Request req{"GET", &url, target, {}, {}};
            auto r = co_await http.co_request(req, steady_clock::now() + 5s);
            if (r && r->body == target) ++succeeded;
          }
        },
        asio::detached);
  }
  ioc.run();
  EXPECT_EQ(succeeded.load(), kCoroutines * kEach);
  EXPECT_LE(server.connections(), kCoroutines);
  EXPECT_EQ(http.idle_connections(ioc, url), static_cast<std::size_t>(server.connections()));
  // A blocking caller has its own thread's pool, apart from ioc's.
  ASSERT_TRUE(send(http, server.url()));
  ASSERT_TRUE(send(http, server.url()));
  EXPECT_EQ(server.connections(), http.idle_connections(ioc, url) + 1);
}

}  // namespace
}  // namespace websession::net
