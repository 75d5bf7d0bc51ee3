// End-to-end tests of the demo server: the real binary, started as a child process, driven over HTTP,
// for both adapters (SERVER=httplib|beast) and both stores (SESSION_STORE=memory|dynamodb, the latter
// against dynalite at WEBSESSION_TEST_DYNAMODB_ENDPOINT).
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include "demo_process.h"
#include "support/set_cookie.h"

namespace {
using e2e::Demo;
using e2e::get;
using e2e::HttpResponse;
using e2e::post;
namespace json = boost::json;

const std::vector<std::string> kJson = {"Content-Type: application/json"};

json::value parse(const HttpResponse& r) {
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  EXPECT_FALSE(ec) << "not JSON: " << r.body;
  return v;
}

std::string cookie_header(const std::string& value) { return "Cookie: sessionId=" + value; }

bool dynamodb_configured() {
  const char* e = std::getenv("WEBSESSION_TEST_DYNAMODB_ENDPOINT");
  return e != nullptr && *e != '\0';
}
bool dynamodb_skipped() {
  const char* s = std::getenv("WEBSESSION_SKIP_DYNAMODB_TESTS");
  return s != nullptr && std::string(s) == "1";
}

std::string unique_table() {
  static std::atomic<int> n{0};
  return "e2e_" + std::to_string(::getpid()) + "_" + std::to_string(n++) + "_" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000);
}

std::map<std::string, std::string> dynamodb_env(const std::string& endpoint) {
  return {{"SESSION_STORE", "dynamodb"},     {"SESSION_TABLE", unique_table()},
          {"AWS_ENDPOINT_URL_DYNAMODB", endpoint}, {"AWS_REGION", "us-east-1"},
          {"AWS_ACCESS_KEY_ID", "e2e"},       {"AWS_SECRET_ACCESS_KEY", "e2e-secret"}};
}

// (server, store)
class DemoE2E : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {
 protected:
  void SetUp() override {
    const auto& [server, store] = GetParam();
    std::map<std::string, std::string> env;
    if (store == "dynamodb") {
      if (!dynamodb_configured()) {
        if (dynamodb_skipped()) GTEST_SKIP() << "WEBSESSION_SKIP_DYNAMODB_TESTS=1";
        FAIL() << "WEBSESSION_TEST_DYNAMODB_ENDPOINT is not set (set WEBSESSION_SKIP_DYNAMODB_TESTS=1 to skip)";
      }
      env = dynamodb_env(std::getenv("WEBSESSION_TEST_DYNAMODB_ENDPOINT"));
    }
    env["SERVER"] = server;
    env["REFRESH_DELAY_MS"] = "200";
    demo_ = std::make_unique<Demo>(env);
  }

  std::string url(const std::string& path) const { return demo_->url(path); }

  // Logs in as `user`; returns the signed cookie value.
  std::string login(const std::string& user, std::vector<std::string> headers = {}) {
    headers.push_back(kJson.front());
    HttpResponse r = post(url("/api/login"), R"({"user":")" + user + R"("})", headers);
    EXPECT_EQ(r.status, 200) << r.body;
    const auto cookies = r.all("set-cookie");
    EXPECT_EQ(cookies.size(), 1u);
    return cookies.empty() ? std::string() : e2e::cookie_value(cookies.front());
  }

  std::unique_ptr<Demo> demo_;
};

TEST_P(DemoE2E, UntouchedVisitorGetsNoCookie) {
  for (const char* path : {"/", "/api/session", "/healthz", "/metrics"}) {
    HttpResponse r = get(url(path));
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_TRUE(r.all("set-cookie").empty()) << path;
  }
  HttpResponse s = get(url("/api/session"));
  json::value v = parse(s);
  EXPECT_EQ(v.at("authenticated").as_bool(), false);
  EXPECT_TRUE(v.at("user").is_null());
  EXPECT_EQ(v.at("views").to_number<int>(), 0);
  EXPECT_EQ(v.at("refresh_count").to_number<int>(), 0);
  EXPECT_EQ(v.at("access_valid").as_bool(), false);
  EXPECT_NE(get(url("/")).body.find("<form"), std::string::npos);
}

TEST_P(DemoE2E, CookieAttributes) {
  HttpResponse r = post(url("/api/login"), R"({"user":"alice"})", kJson);
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(r.all("set-cookie").size(), 1u);
  const std::string c = r.header("set-cookie");
  EXPECT_EQ(c.rfind("sessionId=", 0), 0u) << c;
  EXPECT_NE(c.find("; Path=/"), std::string::npos) << c;
  EXPECT_NE(c.find("; HttpOnly"), std::string::npos) << c;
  EXPECT_NE(c.find("; SameSite=Lax"), std::string::npos) << c;
  const auto max_age = test_support::max_age_attribute(c);
  ASSERT_TRUE(max_age) << c;
  EXPECT_GE(*max_age, 1199) << c;
  EXPECT_LE(*max_age, 1200) << c;
  EXPECT_EQ(c.find("Secure"), std::string::npos) << c;
  json::value v = parse(r);
  EXPECT_EQ(v.at("authenticated").as_bool(), true);
  EXPECT_EQ(v.at("user").as_string(), "alice");
}

TEST_P(DemoE2E, AnonymousViewsThenLoginGetsNewIdAndDeletesOldSession) {
  HttpResponse v1 = post(url("/api/views"));
  ASSERT_EQ(v1.status, 200) << v1.body;
  EXPECT_EQ(parse(v1).at("views").to_number<int>(), 1);
  const std::string anon = e2e::cookie_value(v1.header("set-cookie"));
  ASSERT_FALSE(anon.empty());
  HttpResponse v2 = post(url("/api/views"), std::nullopt, {cookie_header(anon)});
  EXPECT_EQ(parse(v2).at("views").to_number<int>(), 2);

  const std::string logged_in = login("alice", {cookie_header(anon)});
  ASSERT_FALSE(logged_in.empty());
  EXPECT_NE(logged_in.substr(0, 32), anon.substr(0, 32)) << "login must issue a new session ID";
  json::value s = parse(get(url("/api/session"), 15'000, {cookie_header(logged_in)}));
  EXPECT_EQ(s.at("user").as_string(), "alice");
  EXPECT_EQ(s.at("views").to_number<int>(), 0);
  // The pre-login session is gone.
  json::value old = parse(get(url("/api/session"), 15'000, {cookie_header(anon)}));
  EXPECT_EQ(old.at("authenticated").as_bool(), false);
  EXPECT_EQ(old.at("views").to_number<int>(), 0);
}

TEST_P(DemoE2E, ReadOnlyRequestsWithSessionSendNoCookie) {
  const std::string c = login("bob");
  for (int i = 0; i < 3; ++i) {
    HttpResponse r = get(url("/api/session"), 15'000, {cookie_header(c)});
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.all("set-cookie").empty());
    EXPECT_EQ(parse(r).at("user").as_string(), "bob");
  }
  HttpResponse views = post(url("/api/views"), std::nullopt, {cookie_header(c)});
  EXPECT_EQ(parse(views).at("views").to_number<int>(), 1);
}

TEST_P(DemoE2E, TamperedMalformedAndOversizedCookiesAreIgnored) {
  const std::string c = login("carol");
  std::string tampered = c;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  std::string other_id = c;
  other_id[0] = other_id[0] == 'A' ? 'B' : 'A';
  for (const std::string& bad : {tampered, other_id, c.substr(0, 32), std::string("garbage"), std::string(),
                                 c + "x", std::string(5000, 'a') + "." + c.substr(33)}) {
    HttpResponse r = get(url("/api/session"), 15'000, {cookie_header(bad)});
    ASSERT_EQ(r.status, 200) << bad;
    EXPECT_EQ(parse(r).at("authenticated").as_bool(), false) << bad;
    EXPECT_TRUE(r.all("set-cookie").empty());
  }
  // A write with a tampered cookie gets a fresh ID, never the one offered.
  HttpResponse w = post(url("/api/views"), std::nullopt, {cookie_header(other_id)});
  const std::string fresh = e2e::cookie_value(w.header("set-cookie"));
  ASSERT_FALSE(fresh.empty());
  EXPECT_NE(fresh.substr(0, 32), other_id.substr(0, 32));
  EXPECT_NE(fresh.substr(0, 32), c.substr(0, 32));
  // Duplicate cookies (RFC 6265 allows several of one name): the validly signed one counts.
  HttpResponse dup = get(url("/api/session"), 15'000, {"Cookie: sessionId=" + tampered + "; sessionId=" + c});
  EXPECT_EQ(parse(dup).at("user").as_string(), "carol");
  HttpResponse odd = get(url("/api/session"), 15'000, {"Cookie: a=1;b;  sessionId = \"" + c + "\" ;c=3"});
  EXPECT_EQ(parse(odd).at("user").as_string(), "carol");
}

TEST_P(DemoE2E, LogoutClearsCookieAndTheOldCookieIsNotReplayable) {
  const std::string c = login("dave");
  HttpResponse out = post(url("/api/logout"), std::nullopt, {cookie_header(c)});
  ASSERT_EQ(out.status, 200);
  EXPECT_EQ(parse(out).at("authenticated").as_bool(), false);
  const std::string cleared = out.header("set-cookie");
  EXPECT_EQ(cleared.rfind("sessionId=;", 0), 0u) << cleared;
  EXPECT_NE(cleared.find("Max-Age=0"), std::string::npos) << cleared;
  // Replaying the old, validly signed cookie: the session is gone and its ID is not adopted.
  HttpResponse replay = get(url("/api/session"), 15'000, {cookie_header(c)});
  EXPECT_EQ(parse(replay).at("authenticated").as_bool(), false);
  HttpResponse write = post(url("/api/views"), std::nullopt, {cookie_header(c)});
  const std::string fresh = e2e::cookie_value(write.header("set-cookie"));
  ASSERT_FALSE(fresh.empty());
  EXPECT_NE(fresh.substr(0, 32), c.substr(0, 32));
  EXPECT_EQ(post(url("/api/refresh"), std::nullopt, {cookie_header(c)}).status, 401);
}

TEST_P(DemoE2E, FiftyConcurrentRefreshesRotateExactlyOnce) {
  const std::string c = login("erin");
  constexpr int kCalls = 50;
  std::vector<HttpResponse> responses(kCalls);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCalls; ++i) {
    threads.emplace_back([&, i] { responses[i] = post(url("/api/refresh"), std::nullopt, {cookie_header(c)}); });
  }
  for (auto& t : threads) t.join();
  int rotated = 0;
  for (const auto& r : responses) {
    ASSERT_EQ(r.status, 200) << r.body;
    json::value v = parse(r);
    rotated += v.at("rotated").as_bool() ? 1 : 0;
    EXPECT_EQ(v.at("refresh_count").to_number<int>(), 1) << r.body;
  }
  EXPECT_EQ(rotated, 1);
  json::value s = parse(get(url("/api/session"), 15'000, {cookie_header(c)}));
  EXPECT_EQ(s.at("refresh_count").to_number<int>(), 1);
  EXPECT_EQ(s.at("access_valid").as_bool(), true);
  // Valid access token now: no rotation.
  json::value again = parse(post(url("/api/refresh"), std::nullopt, {cookie_header(c)}));
  EXPECT_EQ(again.at("rotated").as_bool(), false);
  const std::string metrics = get(url("/metrics")).body;
  EXPECT_NE(metrics.find("websession_demo_lock_waits_total"), std::string::npos);
}

TEST_P(DemoE2E, RefreshNeedsLogin) {
  HttpResponse r = post(url("/api/refresh"));
  EXPECT_EQ(r.status, 401);
  EXPECT_TRUE(parse(r).as_object().contains("error"));
  EXPECT_TRUE(r.all("set-cookie").empty());
}

TEST_P(DemoE2E, BadInputGets4xxWithJsonAndNeverCrashes) {
  struct Case {
    std::string body;
    std::vector<std::string> headers;
    long status;
  };
  const std::vector<Case> cases = {
      {"{not json", kJson, 400},
      {R"({"user": 42})", kJson, 400},
      {R"({"user": ""})", kJson, 400},
      {R"(["alice"])", kJson, 400},
      {R"({"user":")" + std::string(100, 'x') + R"("})", kJson, 400},
      {R"({"user":"alice"})", {"Content-Type: text/plain"}, 415},
      {R"({"user":"alice"})", {}, 415},
      {std::string(2 * 1024 * 1024, 'x'), kJson, 413},
  };
  for (const auto& c : cases) {
    HttpResponse r = post(url("/api/login"), c.body, c.headers);
    EXPECT_EQ(r.status, c.status) << c.body.substr(0, 40);
    EXPECT_NE(r.header("content-type").find("application/json"), std::string::npos);
    EXPECT_TRUE(parse(r).as_object().contains("error")) << r.body;
    EXPECT_TRUE(r.all("set-cookie").empty());
  }
  HttpResponse big_header = get(url("/api/session"), 15'000, {"X-Big: " + std::string(64 * 1024, 'a')});
  EXPECT_GE(big_header.status, 400);
  EXPECT_LT(big_header.status, 500);
  HttpResponse big_cookie = get(url("/api/session"), 15'000, {"Cookie: sessionId=" + std::string(60 * 1024, 'a')});
  EXPECT_GE(big_cookie.status, 200);
  EXPECT_LT(big_cookie.status, 500);
  EXPECT_EQ(get(url("/nope")).status, 404);
  EXPECT_EQ(get(url("/api/login")).status, 405);
  EXPECT_EQ(get(url("/healthz")).status, 200) << "the server must survive bad input";
}

TEST_P(DemoE2E, HealthzAndMetrics) {
  HttpResponse h = get(url("/healthz"));
  EXPECT_EQ(h.status, 200);
  login("frank");
  get(url("/api/session"));
  // cpp-httplib counts a request after its response is written, so the count may lag a moment.
  const std::string login_count = R"(websession_demo_http_requests_total{route="/api/login",status="200"} 1)";
  HttpResponse m;
  for (int i = 0; i < 50; ++i) {
    m = get(url("/metrics"));
    if (m.body.find(login_count) != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.header("content-type").find("text/plain"), std::string::npos);
  EXPECT_NE(m.body.find("# TYPE websession_demo_http_requests_total counter"), std::string::npos);
  EXPECT_NE(m.body.find(login_count), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("websession_demo_lock_waits_total"), std::string::npos);
  if (std::get<1>(GetParam()) == "dynamodb") {
    EXPECT_NE(m.body.find("websession_dynamodb_calls_total"), std::string::npos) << m.body;
  }
  // The log never shows a session ID.
  const std::string c = login("grace");
  EXPECT_EQ(demo_->process().log().find(c.substr(0, 32)), std::string::npos);
}

TEST_P(DemoE2E, AUsersSessionsAreListedAndEndedEverywhere) {
  EXPECT_EQ(get(url("/api/sessions")).status, 401);
  EXPECT_EQ(post(url("/api/logout-everywhere")).status, 401);
  const std::string laptop = login("ivan", {"User-Agent: Laptop/1.0"});
  const std::string phone = login("ivan", {"User-Agent: Phone/2.0"});
  const std::string other = login("judy");
  HttpResponse listed = get(url("/api/sessions"), 15'000, {cookie_header(phone)});
  ASSERT_EQ(listed.status, 200) << listed.body;
  const json::array sessions = parse(listed).at("sessions").as_array();
  ASSERT_EQ(sessions.size(), 2u) << listed.body;
  int current = 0;
  for (const json::value& s : sessions) {
    if (s.at("current").as_bool()) {
      ++current;
      EXPECT_EQ(s.at("user_agent").as_string(), "Phone/2.0");
    } else {
      EXPECT_EQ(s.at("user_agent").as_string(), "Laptop/1.0");
    }
    EXPECT_GT(s.at("created").to_number<std::int64_t>(), 1'700'000'000);
    EXPECT_GE(s.at("last_seen").to_number<std::int64_t>(), s.at("created").to_number<std::int64_t>());
    EXPECT_EQ(s.as_object().size(), 4u) << "never the session ID";
  }
  EXPECT_EQ(current, 1);
  EXPECT_EQ(listed.body.find(phone.substr(0, 32)), std::string::npos);

  HttpResponse out = post(url("/api/logout-everywhere"), std::nullopt, {cookie_header(laptop)});
  ASSERT_EQ(out.status, 200) << out.body;
  EXPECT_EQ(parse(out).at("revoked").to_number<int>(), 2);
  EXPECT_NE(out.header("set-cookie").find("Max-Age=0"), std::string::npos) << "the cookie is cleared";
  for (const std::string& c : {laptop, phone}) {
    EXPECT_FALSE(parse(get(url("/api/session"), 15'000, {cookie_header(c)})).at("authenticated").as_bool());
  }
  EXPECT_TRUE(parse(get(url("/api/session"), 15'000, {cookie_header(other)})).at("authenticated").as_bool())
      << "another user's session stays";
  EXPECT_EQ(parse(get(url("/api/session"), 15'000, {cookie_header(other)})).at("auth").as_string(), "local");
}

INSTANTIATE_TEST_SUITE_P(ServersAndStores, DemoE2E,
                         ::testing::Combine(::testing::Values("httplib", "beast"),
                                            ::testing::Values("memory", "dynamodb")),
                         [](const auto& p) { return std::get<0>(p.param) + "_" + std::get<1>(p.param); });

TEST(DemoE2EConfig, ProductionRefusesToStartWithoutSessionSecret) {
  for (const char* secret : {static_cast<const char*>(""), static_cast<const char*>(nullptr)}) {
    std::map<std::string, std::string> env = {{"APP_ENV", "production"}, {"PORT", std::to_string(e2e::free_port())}};
    if (secret != nullptr) env["SESSION_SECRET"] = secret;
    e2e::ChildProcess p({WEBSESSION_DEMO_BINARY}, env, "/tmp/websession-e2e-prod-" + std::to_string(::getpid()) + ".log");
    auto code = p.wait_exit(std::chrono::seconds(10));
    ASSERT_TRUE(code.has_value()) << "the demo kept running";
    EXPECT_NE(*code, 0);
    EXPECT_NE(p.log().find("SESSION_SECRET"), std::string::npos) << p.log();
  }
}

TEST(DemoE2EConfig, ShortSecretIsRefused) {
  e2e::ChildProcess p({WEBSESSION_DEMO_BINARY}, {{"SESSION_SECRET", "too-short"}, {"PORT", std::to_string(e2e::free_port())}},
                      "/tmp/websession-e2e-short-" + std::to_string(::getpid()) + ".log");
  auto code = p.wait_exit(std::chrono::seconds(10));
  ASSERT_TRUE(code.has_value());
  EXPECT_NE(*code, 0);
}

TEST(DemoE2EConfig, ProductionSetsSecureCookiesAndSecretsVerifyAcrossRestarts) {
  const std::string secret(40, 's');
  std::string cookie;
  for (const char* server : {"httplib", "beast"}) {
    Demo demo({{"APP_ENV", "production"}, {"SESSION_SECRET", secret}, {"SERVER", server}});
    HttpResponse r = post(demo.url("/api/views"));
    ASSERT_EQ(r.status, 200);
    EXPECT_NE(r.header("set-cookie").find("; Secure"), std::string::npos) << r.header("set-cookie");
    EXPECT_NE(demo.process().log().find("listening"), std::string::npos);
    EXPECT_EQ(demo.process().log().find(secret), std::string::npos) << "the secret must not be logged";
  }
}

TEST(DemoE2EConfig, TheCapPerUserEndsTheOldestSession) {
  Demo demo(std::map<std::string, std::string>{{"SESSION_MAX_PER_USER", "2"}});
  auto login = [&](const std::string& ua) {
    HttpResponse r = post(demo.url("/api/login"), R"({"user":"kim"})", {kJson.front(), "User-Agent: " + ua});
    EXPECT_EQ(r.status, 200) << r.body;
    return e2e::cookie_value(r.header("set-cookie"));
  };
  const std::string first = login("one");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const std::string second = login("two");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const std::string third = login("three");
  EXPECT_FALSE(parse(get(demo.url("/api/session"), 15'000, {cookie_header(first)})).at("authenticated").as_bool());
  EXPECT_TRUE(parse(get(demo.url("/api/session"), 15'000, {cookie_header(second)})).at("authenticated").as_bool());
  const json::value listed = parse(get(demo.url("/api/sessions"), 15'000, {cookie_header(third)}));
  EXPECT_EQ(listed.at("sessions").as_array().size(), 2u);
}

TEST(DemoE2EConfig, TheAbsoluteLifetimeEndsAnActiveSession) {
  Demo demo({{"SESSION_ABSOLUTE_MAX_AGE", "3"}, {"SESSION_MAX_AGE", "60"}});
  HttpResponse in = post(demo.url("/api/login"), R"({"user":"leo"})", kJson);
  ASSERT_EQ(in.status, 200);
  const auto max_age = test_support::max_age_attribute(in.header("set-cookie"));
  ASSERT_TRUE(max_age) << in.header("set-cookie");
  EXPECT_GE(*max_age, 2) << in.header("set-cookie");
  EXPECT_LE(*max_age, 3) << in.header("set-cookie");
  const std::string c = e2e::cookie_value(in.header("set-cookie"));
  // Active all along: a write every half second.
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(4500);
  bool ended = false;
  while (std::chrono::steady_clock::now() < until) {
    const HttpResponse v = post(demo.url("/api/views"), std::nullopt, {cookie_header(c)});
    ASSERT_EQ(v.status, 200);
    if (!parse(get(demo.url("/api/session"), 15'000, {cookie_header(c)})).at("authenticated").as_bool()) {
      ended = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_TRUE(ended) << "the session outlived its absolute lifetime";
}

// (server): SIGTERM while 20 requests are in flight: each is answered, new connections are refused,
// and the demo exits 0 once they are done.
class DemoShutdown : public ::testing::TestWithParam<std::string> {};

TEST_P(DemoShutdown, SigtermFinishesTheRequestsInFlightThenExitsZero) {
  Demo demo({{"SERVER", GetParam()}, {"REFRESH_DELAY_MS", "1500"}});
  constexpr int kInFlight = 20;
  std::vector<std::string> cookies;
  for (int i = 0; i < kInFlight; ++i) {
    HttpResponse in = post(demo.url("/api/login"), R"({"user":"user)" + std::to_string(i) + R"("})", kJson);
    ASSERT_EQ(in.status, 200);
    cookies.push_back(e2e::cookie_value(in.header("set-cookie")));
  }
  std::vector<HttpResponse> answers(kInFlight);
  std::vector<std::thread> clients;
  for (int i = 0; i < kInFlight; ++i) {
    // Each refresh spends 1.5 s "calling the identity provider".
    clients.emplace_back([&, i] {
      answers[i] = post(demo.url("/api/refresh"), std::nullopt, {"Connection: close", cookie_header(cookies[i])});
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const auto signalled = std::chrono::steady_clock::now();
  demo.process().signal(SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(get(demo.url("/healthz"), 2'000).status, 0) << "a stopping server accepts no new request";
  for (auto& t : clients) t.join();
  for (int i = 0; i < kInFlight; ++i) {
    EXPECT_EQ(answers[i].status, 200) << "request " << i << ": " << answers[i].body;
    if (answers[i].status == 200) {
      EXPECT_TRUE(parse(answers[i]).at("rotated").as_bool());
    }
  }
  const auto code = demo.process().wait_exit(std::chrono::seconds(15));
  ASSERT_TRUE(code.has_value()) << "the demo kept running after SIGTERM";
  EXPECT_EQ(*code, 0) << demo.process().log();
  EXPECT_LT(std::chrono::steady_clock::now() - signalled, std::chrono::seconds(12));
}

INSTANTIATE_TEST_SUITE_P(Servers, DemoShutdown, ::testing::Values("httplib", "beast"),
                         [](const auto& p) { return p.param; });

// (server): dynalite stops answering (SIGSTOP: connections hang), the demo answers 503 with a JSON
// body within 10 s; dynalite resumes, the demo answers again with the session intact.
class DemoStoreOutage : public ::testing::TestWithParam<std::string> {};

TEST_P(DemoStoreOutage, UnavailableStoreGives503ThenRecoversWithSessionIntact) {
  if (std::getenv("WEBSESSION_DYNALITE") == nullptr) {
    if (dynamodb_skipped()) GTEST_SKIP() << "WEBSESSION_SKIP_DYNAMODB_TESTS=1";
    FAIL() << "WEBSESSION_DYNALITE is not set (set WEBSESSION_SKIP_DYNAMODB_TESTS=1 to skip)";
  }
  e2e::Dynalite dynalite;
  auto env = dynamodb_env(dynalite.endpoint());
  env["SERVER"] = GetParam();
  Demo demo(env);
  HttpResponse in = post(demo.url("/api/login"), R"({"user":"heidi"})", kJson);
  ASSERT_EQ(in.status, 200) << in.body;
  const std::string c = e2e::cookie_value(in.header("set-cookie"));
  ASSERT_EQ(post(demo.url("/api/views"), std::nullopt, {cookie_header(c)}).status, 200);

  dynalite.process().signal(SIGSTOP);
  for (const char* path : {"/api/session", "/healthz"}) {
    HttpResponse r = get(demo.url(path), 20'000, {cookie_header(c)});
    EXPECT_EQ(r.status, 503) << path << ": " << r.body;
    EXPECT_LT(r.seconds, 10.0) << path;
    EXPECT_TRUE(parse(r).as_object().contains("error")) << r.body;
  }
  HttpResponse w = post(demo.url("/api/views"), std::nullopt, {cookie_header(c)});
  EXPECT_EQ(w.status, 503);
  EXPECT_LT(w.seconds, 10.0);
  dynalite.process().signal(SIGCONT);

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  HttpResponse s;
  do {
    s = get(demo.url("/api/session"), 15'000, {cookie_header(c)});
  } while (s.status != 200 && std::chrono::steady_clock::now() < deadline);
  ASSERT_EQ(s.status, 200) << s.body;
  json::value v = parse(s);
  EXPECT_EQ(v.at("user").as_string(), "heidi");
  EXPECT_GE(v.at("views").to_number<int>(), 1);
  EXPECT_EQ(get(demo.url("/healthz")).status, 200);
}

INSTANTIATE_TEST_SUITE_P(Servers, DemoStoreOutage, ::testing::Values("httplib", "beast"),
                         [](const auto& p) { return p.param; });

}  // namespace
