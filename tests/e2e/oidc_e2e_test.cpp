// End-to-end tests of the demo's OpenID Connect sign-in: the demo binary and the development OpenID
// provider (oidc-provider on Node.js 22) as child processes, driven over HTTP as a browser would
// (the provider's own login page included), for both servers and both stores; two demos sharing one
// DynamoDB table; a token endpoint slower than SESSION_MAX_LOCK_TIME; and a hostile provider.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include "demo_process.h"
#include "oidc/support/dev_provider.h"
#include "oidc/support/hostile_http_provider.h"
#include "oidc/support/urls.h"
#include "websession/oidc/relying_party.h"

namespace {
using e2e::Demo;
using e2e::HttpResponse;
using websession::testing::DevProvider;
using websession::testing::DevProviderOptions;
namespace json = boost::json;

json::value parse(const HttpResponse& r) {
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  EXPECT_FALSE(ec) << "not JSON: " << r.body;
  return ec ? json::value(json::object{}) : v;
}

using websession::testing::url_encode;

std::string param(const std::string& url, std::string_view name) { return websession::testing::url_param(url, name); }

std::int64_t count(const json::object& events, const char* name) {
  const auto* v = events.if_contains(name);
  return v == nullptr ? 0 : v->as_int64();
}

bool dynamodb_available() {
  const char* e = std::getenv("WEBSESSION_TEST_DYNAMODB_ENDPOINT");
  return e != nullptr && *e != '\0';
}

std::string unique_table() {
  static std::atomic<int> n{0};
  return "oidc_e2e_" + std::to_string(::getpid()) + "_" + std::to_string(n++) + "_" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000);
}

std::map<std::string, std::string> dynamodb_env(const std::string& table) {
  return {{"SESSION_STORE", "dynamodb"},
          {"SESSION_TABLE", table},
          {"AWS_ENDPOINT_URL_DYNAMODB", std::getenv("WEBSESSION_TEST_DYNAMODB_ENDPOINT")},
          {"AWS_REGION", "us-east-1"},
          {"AWS_ACCESS_KEY_ID", "e2e"},
          {"AWS_SECRET_ACCESS_KEY", "e2e-secret"}};
}

std::string site(std::uint16_t port) { return "http://127.0.0.1:" + std::to_string(port); }

// The provider registered for demos on `ports` (redirect and post-logout URIs of each; back-channel
// logout to the first).
DevProviderOptions provider_for(const std::vector<std::uint16_t>& ports) {
  DevProviderOptions o;
  o.client_id = "websession-demo";
  o.client_secret = "websession-demo-secret";
  o.redirect_uris.clear();
  o.post_logout_redirect_uris.clear();
  for (const std::uint16_t port : ports) {
    o.redirect_uris.push_back(site(port) + "/auth/callback");
    o.post_logout_redirect_uris.push_back(site(port) + "/");
  }
  o.backchannel_logout_uri = site(ports.front()) + "/auth/backchannel-logout";
  return o;
}

std::map<std::string, std::string> oidc_env(const DevProvider& op) {
  return {{"OIDC_ISSUER", op.issuer()},
          {"OIDC_CLIENT_ID", op.options().client_id},
          {"OIDC_CLIENT_SECRET", op.options().client_secret}};
}

// One browser: its session cookie for the demo.
class Browser {
 public:
  HttpResponse get(const Demo& demo, const std::string& target, long timeout_ms = 15'000) {
    return keep(e2e::get(demo.url(target), timeout_ms, headers()));
  }
  HttpResponse post(const Demo& demo, const std::string& target) {
    return keep(e2e::post(demo.url(target), std::string(), headers()));
  }
  [[nodiscard]] const std::string& cookie() const { return cookie_; }
  void set_cookie(std::string c) { cookie_ = std::move(c); }

 private:
  std::vector<std::string> headers() const {
    if (cookie_.empty()) return {"User-Agent: oidc-e2e"};
    return {"Cookie: sessionId=" + cookie_, "User-Agent: oidc-e2e"};
  }
  HttpResponse keep(HttpResponse r) {
    for (const std::string& c : r.all("set-cookie")) {
      if (c.rfind("sessionId=", 0) == 0) cookie_ = e2e::cookie_value(c);
    }
    return r;
  }
  std::string cookie_;
};

// The provider's callback query for a sign-in started at /signin (as `login`, through its login page).
std::string provider_callback(Browser& browser, const Demo& demo, DevProvider& op, const std::string& login,
                              const std::string& return_to = "/") {
  HttpResponse start = browser.get(demo, "/signin?return_to=" + url_encode(return_to));
  EXPECT_EQ(start.status, 303) << start.body;
  const std::string authorize = start.header("location");
  EXPECT_EQ(authorize.rfind(op.issuer(), 0), 0U) << authorize;
  std::string why;
  auto query = op.sign_in(authorize, login, &why);
  if (!query) ADD_FAILURE() << "the provider's login stopped: " << why;
  return query.value_or("");
}

// Signs the browser in as `login`; returns where the callback redirected.
std::string sign_in(Browser& browser, const Demo& demo, DevProvider& op, const std::string& login = "alice",
                    const std::string& return_to = "/") {
  const std::string query = provider_callback(browser, demo, op, login, return_to);
  HttpResponse done = browser.get(demo, "/auth/callback?" + query);
  EXPECT_EQ(done.status, 303) << done.body;
  return done.header("location");
}

// (server, store)
class OidcE2E : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {
 protected:
  void SetUp() override {
    WEBSESSION_REQUIRE_DEV_PROVIDER();
    const auto& [server, store] = GetParam();
    std::map<std::string, std::string> env;
    if (store == "dynamodb") {
      if (!dynamodb_available()) GTEST_SKIP() << "WEBSESSION_TEST_DYNAMODB_ENDPOINT is not set";
      env = dynamodb_env(unique_table());
    }
    const std::uint16_t port = e2e::free_port();
    op_ = std::make_unique<DevProvider>(provider_for({port}));
    env.merge(oidc_env(*op_));
    env["SERVER"] = server;
    env["OIDC_TIMEOUT_MS"] = "2000";
    env["OIDC_AUTHORIZATION_PARAMS"] = "ui_locales=en";
    demo_ = std::make_unique<Demo>(env, port);
  }

  json::value session_of(Browser& b) { return parse(b.get(*demo_, "/api/session")); }

  std::unique_ptr<DevProvider> op_;
  std::unique_ptr<Demo> demo_;
};

TEST_P(OidcE2E, SignInThroughTheProviderThenSignOut) {
  Browser b;
  HttpResponse start = b.get(*demo_, "/signin?return_to=%2Fapi%2Fsession");
  ASSERT_EQ(start.status, 303) << start.body;
  const std::string authorize = start.header("location");
  EXPECT_EQ(param(authorize, "response_type"), "code");
  EXPECT_EQ(param(authorize, "code_challenge_method"), "S256");
  EXPECT_FALSE(param(authorize, "state").empty());
  EXPECT_FALSE(param(authorize, "nonce").empty());
  EXPECT_EQ(param(authorize, "ui_locales"), "en");
  const std::string before = b.cookie();
  ASSERT_FALSE(before.empty()) << "the sign-in is bound to a session, which the browser gets a cookie for";
  std::string why;
  const auto query = op_->sign_in(authorize, "alice", &why);
  ASSERT_TRUE(query) << why;
  HttpResponse done = b.get(*demo_, "/auth/callback?" + *query);
  ASSERT_EQ(done.status, 303) << done.body;
  EXPECT_EQ(done.header("location"), "/api/session");
  EXPECT_NE(b.cookie().substr(0, 32), before.substr(0, 32)) << "sign-in rotates the session ID";
  json::value s = session_of(b);
  EXPECT_EQ(s.at("authenticated").as_bool(), true);
  EXPECT_EQ(s.at("user").as_string(), "alice");
  EXPECT_EQ(s.at("sub").as_string(), "alice");
  EXPECT_EQ(s.at("auth").as_string(), "oidc");
  EXPECT_EQ(s.at("access_valid").as_bool(), true);
  HttpResponse me = b.get(*demo_, "/api/me");
  ASSERT_EQ(me.status, 200) << me.body;
  json::value m = parse(me);
  EXPECT_EQ(m.at("sub").as_string(), "alice");
  EXPECT_EQ(m.at("userinfo").at("email").as_string(), "alice@example.com");
  EXPECT_EQ(m.at("refreshed").as_bool(), false);
  EXPECT_EQ(parse(b.get(*demo_, "/api/sessions")).at("sessions").as_array().size(), 1U);
  // The same callback again: refused, and the user stays signed in.
  HttpResponse replay = b.get(*demo_, "/auth/callback?" + *query);
  EXPECT_EQ(replay.status, 400) << replay.body;
  EXPECT_EQ(parse(replay).at("error").as_string(), "invalid_state");
  EXPECT_EQ(session_of(b).at("auth").as_string(), "oidc");
  // Sign out: to the provider's end_session endpoint with the ID token as hint.
  HttpResponse out = b.post(*demo_, "/signout");
  ASSERT_EQ(out.status, 303) << out.body;
  const std::string end = out.header("location");
  EXPECT_EQ(end.rfind(op_->issuer(), 0), 0U) << end;
  EXPECT_FALSE(param(end, "id_token_hint").empty());
  EXPECT_EQ(param(end, "post_logout_redirect_uri"), demo_->url("/"));
  EXPECT_TRUE(b.cookie().empty()) << "the cookie is cleared";
  EXPECT_EQ(session_of(b).at("authenticated").as_bool(), false);
  EXPECT_EQ(b.get(*demo_, "/api/me").status, 401);
  EXPECT_EQ(count(op_->events(), "authorization_code"), 1);
  // Nothing of the exchange is logged.
  EXPECT_EQ(demo_->process().log().find(param("?" + *query, "code")), std::string::npos);
}

TEST_P(OidcE2E, ReturnToIsOnlyAPathOnThisSite) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/api/sessions?x=1", "/api/sessions?x=1"}, {"//evil.example", "/"}, {"/\\evil.example", "/"},
      {"https://evil.example", "/"},              {"/%2F%2Fevil.example", "/"}};
  for (const auto& [given, expected] : cases) {
    Browser b;
    EXPECT_EQ(sign_in(b, *demo_, *op_, "alice", given), expected) << given;
  }
}

TEST_P(OidcE2E, ForeignAndTamperedCallbacksAreRefused) {
  // The attacker signs in at the provider as themselves and hands the callback URL to the victim.
  Browser attacker;
  const std::string query = provider_callback(attacker, *demo_, *op_, "mallory");
  Browser victim;
  ASSERT_EQ(victim.post(*demo_, "/api/views").status, 200);
  HttpResponse r = victim.get(*demo_, "/auth/callback?" + query);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(parse(r).at("error").as_string(), "invalid_state");
  json::value s = session_of(victim);
  EXPECT_EQ(s.at("authenticated").as_bool(), false);
  EXPECT_EQ(s.at("views").to_number<int>(), 1);
  // A tampered state, and no state at all, in the attacker's own browser.
  const std::string query2 = provider_callback(attacker, *demo_, *op_, "mallory");
  const std::string state = param("?" + query2, "state");
  std::string tampered = state;
  tampered[3] = tampered[3] == 'A' ? 'B' : 'A';
  std::string forged = query2;
  forged.replace(forged.find(state), state.size(), tampered);
  EXPECT_EQ(attacker.get(*demo_, "/auth/callback?" + forged).status, 400);
  EXPECT_EQ(attacker.get(*demo_, "/auth/callback?code=x").status, 400);
  EXPECT_EQ(session_of(attacker).at("authenticated").as_bool(), false);
  EXPECT_EQ(count(op_->events(), "authorization_code"), 0) << "no code was exchanged";
}

TEST_P(OidcE2E, FiftyConcurrentRequestsAfterExpiryRefreshOnce) {
  op_->configure({{"access_token_ttl", 2}});
  Browser b;
  sign_in(b, *demo_, *op_);
  op_->configure({{"access_token_ttl", 600}});  // the refreshed token lasts
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  constexpr int kRequests = 50;
  std::vector<HttpResponse> responses(kRequests);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRequests; ++i) {
    threads.emplace_back([&, i] {
      Browser copy = b;
      responses[i] = copy.get(*demo_, "/api/me", 30'000);
    });
  }
  for (auto& t : threads) t.join();
  int refreshed = 0;
  for (const HttpResponse& r : responses) {
    ASSERT_EQ(r.status, 200) << r.body;
    refreshed += parse(r).at("refreshed").as_bool() ? 1 : 0;
  }
  EXPECT_EQ(refreshed, 1);
  const auto events = op_->events();
  EXPECT_EQ(count(events, "refresh_token"), 1);
  EXPECT_EQ(count(events, "invalid_grant"), 0);
  EXPECT_EQ(parse(b.get(*demo_, "/api/me")).at("refreshed").as_bool(), false);
}

TEST_P(OidcE2E, BackchannelLogoutEndsTheUsersSessionsOnce) {
  Browser b;
  sign_in(b, *demo_, *op_);
  Browser other;
  sign_in(other, *demo_, *op_, "bob");
  // The provider delivers a logout token for alice to the demo's back-channel logout URI.
  const auto delivered = op_->backchannel_logout({{"sub", "alice"}});
  EXPECT_EQ(delivered.at("status").as_int64(), 200) << json::serialize(delivered);
  EXPECT_EQ(session_of(b).at("authenticated").as_bool(), false);
  EXPECT_EQ(session_of(other).at("user").as_string(), "bob");
  // A replayed token is refused.
  const std::string token(delivered.at("logout_token").as_string());
  HttpResponse replay = e2e::post(demo_->url("/auth/backchannel-logout"), "logout_token=" + url_encode(token),
                                  {"Content-Type: application/x-www-form-urlencoded"});
  EXPECT_EQ(replay.status, 400) << replay.body;
  EXPECT_EQ(parse(replay).at("error").as_string(), "invalid_request");
  HttpResponse bad = e2e::post(demo_->url("/auth/backchannel-logout"), "logout_token=not-a-jwt",
                               {"Content-Type: application/x-www-form-urlencoded"});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(session_of(other).at("user").as_string(), "bob");
}

TEST_P(OidcE2E, AnExpiredGrantSignsOutAndAnOutageKeepsTheSession) {
  op_->configure({{"access_token_ttl", 1}, {"refresh_token_ttl", 1}});
  Browser expired;
  sign_in(expired, *demo_, *op_);
  op_->configure({{"access_token_ttl", 1}, {"refresh_token_ttl", 3600}});
  Browser kept;
  sign_in(kept, *demo_, *op_, "bob");
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  HttpResponse gone = expired.get(*demo_, "/api/me");
  EXPECT_EQ(gone.status, 401) << gone.body;
  EXPECT_TRUE(expired.cookie().empty()) << "the session was destroyed and the cookie cleared";
  EXPECT_EQ(count(op_->events(), "invalid_grant"), 1);
  // The provider stops answering: 503 within OIDC_TIMEOUT_MS, and the session stays.
  op_->process().signal(SIGSTOP);
  HttpResponse down = kept.get(*demo_, "/api/me");
  op_->process().signal(SIGCONT);
  EXPECT_EQ(down.status, 503) << down.body;
  EXPECT_LT(down.seconds, 5.0);
  json::value s = session_of(kept);
  EXPECT_EQ(s.at("user").as_string(), "bob");
  EXPECT_EQ(s.at("auth").as_string(), "oidc");
}

TEST_P(OidcE2E, RoutesThatNeedASignedInUser) {
  Browser anonymous;
  HttpResponse me = anonymous.get(*demo_, "/api/me");
  EXPECT_EQ(me.status, 401);
  EXPECT_EQ(parse(me).at("error").as_string(), "unauthorized");
  HttpResponse out = anonymous.post(*demo_, "/signout");
  EXPECT_EQ(out.status, 303);
  EXPECT_EQ(out.header("location"), "/");
  // A local login is not a provider sign-in, and cannot pass for one.
  HttpResponse local = e2e::post(demo_->url("/api/login"), R"({"user":"alice"})", {"Content-Type: application/json"});
  ASSERT_EQ(local.status, 200);
  Browser local_browser;
  local_browser.set_cookie(e2e::cookie_value(local.header("set-cookie")));
  EXPECT_EQ(local_browser.get(*demo_, "/api/me").status, 401);
  HttpResponse impostor = e2e::post(demo_->url("/api/login"), R"({"user":"oidc:)" + op_->issuer() + R"(#alice"})",
                                    {"Content-Type: application/json"});
  EXPECT_EQ(impostor.status, 400);
  EXPECT_EQ(anonymous.get(*demo_, "/auth/backchannel-logout").status, 405);
  EXPECT_NE(anonymous.get(*demo_, "/").body.find(R"(<section id="oidc">)"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(ServersAndStores, OidcE2E,
                         ::testing::Combine(::testing::Values("httplib", "beast"),
                                            ::testing::Values("memory", "dynamodb")),
                         [](const auto& p) { return std::get<0>(p.param) + "_" + std::get<1>(p.param); });

// Two demos on one DynamoDB table, as two instances behind a load balancer: 50 requests split
// between them after the access token expired redeem the refresh token once.
TEST(OidcE2EInstances, TwoDemosSharingOneTableRefreshOnce) {
  WEBSESSION_REQUIRE_DEV_PROVIDER();
  if (!dynamodb_available()) GTEST_SKIP() << "WEBSESSION_TEST_DYNAMODB_ENDPOINT is not set";
  const std::uint16_t port_a = e2e::free_port();
  const std::uint16_t port_b = e2e::free_port();
  DevProvider op(provider_for({port_a, port_b}));
  auto env = dynamodb_env(unique_table());
  env.merge(oidc_env(op));
  env["SESSION_SECRET"] = std::string(40, 'k');
  Demo a(env, port_a);
  env["SERVER"] = "beast";
  Demo b(env, port_b);
  op.configure({{"access_token_ttl", 2}});
  Browser browser;
  sign_in(browser, a, op);
  op.configure({{"access_token_ttl", 600}});
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  std::vector<HttpResponse> responses(50);
  std::vector<std::thread> threads;
  for (int i = 0; i < 50; ++i) {
    threads.emplace_back([&, i] {
      Browser copy = browser;
      responses[i] = copy.get(i % 2 == 0 ? a : b, "/api/me", 30'000);
    });
  }
  for (auto& t : threads) t.join();
  int refreshed = 0;
  for (const HttpResponse& r : responses) {
    ASSERT_EQ(r.status, 200) << r.body;
    refreshed += parse(r).at("refreshed").as_bool() ? 1 : 0;
  }
  EXPECT_EQ(refreshed, 1);
  EXPECT_EQ(count(op.events(), "refresh_token"), 1);
  EXPECT_EQ(count(op.events(), "invalid_grant"), 0);
}

// (server, store): the token endpoint takes 2.5 s, SESSION_MAX_LOCK_TIME is 1 s.
class OidcSlowProvider : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(OidcSlowProvider, ATokenEndpointSlowerThanMaxLockTimeGetsEachRefreshTokenOnce) {
  WEBSESSION_REQUIRE_DEV_PROVIDER();
  const auto& [server, store] = GetParam();
  std::map<std::string, std::string> env;
  if (store == "dynamodb") {
    if (!dynamodb_available()) GTEST_SKIP() << "WEBSESSION_TEST_DYNAMODB_ENDPOINT is not set";
    env = dynamodb_env(unique_table());
  }
  const std::uint16_t port = e2e::free_port();
  DevProvider op(provider_for({port}));
  env.merge(oidc_env(op));
  env["SERVER"] = server;
  env["SESSION_MAX_LOCK_TIME"] = "1";
  Demo demo(env, port);
  op.configure({{"access_token_ttl", 1}});
  Browser browser;
  sign_in(browser, demo, op);
  op.configure({{"token_delay_ms", 2500}, {"access_token_ttl", 600}});
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  std::vector<HttpResponse> responses(20);
  std::vector<std::thread> threads;
  for (int i = 0; i < 20; ++i) {
    threads.emplace_back([&, i] {
      Browser copy = browser;
      responses[i] = copy.get(demo, "/api/me", 30'000);
    });
  }
  for (auto& t : threads) t.join();
  int refreshed = 0;
  for (const HttpResponse& r : responses) {
    ASSERT_EQ(r.status, 200) << r.body;
    refreshed += parse(r).at("refreshed").as_bool() ? 1 : 0;
  }
  EXPECT_EQ(refreshed, 1);
  EXPECT_EQ(count(op.events(), "refresh_token"), 1);
  EXPECT_EQ(count(op.events(), "invalid_grant"), 0);
}

INSTANTIATE_TEST_SUITE_P(Variants, OidcSlowProvider,
                         ::testing::Values(std::make_tuple("httplib", "memory"), std::make_tuple("beast", "dynamodb")),
                         [](const auto& p) { return std::get<0>(p.param) + "_" + std::get<1>(p.param); });

// (server): a provider that answers hostile tokens; each is refused with a 400 and nobody is signed in.
class OidcHostileProvider : public ::testing::TestWithParam<std::string> {};

TEST_P(OidcHostileProvider, HostileIdTokensAreRefused) {
  websession::testing::HostileHttpProvider op("websession-demo");
  const std::uint16_t port = e2e::free_port();
  Demo demo({{"SERVER", GetParam()}, {"OIDC_ISSUER", op.issuer()}, {"OIDC_CLIENT_ID", "websession-demo"}}, port);
  using websession::testing::HostileProvider;
  const auto now = std::chrono::system_clock::now();
  const std::vector<std::pair<std::string, std::function<std::string(const std::string&)>>> cases = {
      {"alg none", [&](const std::string& n) {
         return HostileProvider::mint_unsigned(op.minter().id_token_claims(op.client_id(), n, now));
       }},
      {"HS256 with the public key", [&](const std::string& n) {
         return HostileProvider::mint_hmac({{"alg", "HS256"}, {"kid", "rsa-1"}}, op.minter().id_token_claims(op.client_id(), n, now),
                                           op.minter().key(0).public_key_pem());
       }},
      {"a key not in the JWKS", [&](const std::string& n) {
         return HostileProvider::mint({{"alg", "RS256"}}, op.minter().id_token_claims(op.client_id(), n, now),
                                      websession::testing::SigningKey::rsa("stranger"));
       }},
      {"wrong aud", [&](const std::string& n) { return op.id_token(n, {{"aud", "other"}}); }},
      {"wrong nonce", [&](const std::string&) { return op.id_token("not-the-nonce"); }},
      {"expired", [&](const std::string& n) {
         const auto t = websession::testing::epoch(now);
         return op.id_token(n, {{"exp", t - 600}, {"iat", t - 1200}});
       }},
  };
  for (const auto& [name, token] : cases) {
    Browser b;
    HttpResponse start = b.get(demo, "/signin");
    ASSERT_EQ(start.status, 303) << start.body;
    const std::string location = start.header("location");
    const std::string minted = token(param(location, "nonce"));
    op.on_token([&op, minted](const websession::testing::ProviderRequest&) { return op.token_answer(minted); });
    HttpResponse r = b.get(demo, "/auth/callback?code=c&state=" + param(location, "state") + "&iss=" + url_encode(op.issuer()));
    EXPECT_EQ(r.status, 400) << name << ": " << r.body;
    const std::string error(parse(r).at("error").as_string());
    EXPECT_TRUE(error == "invalid_token" || error == "unknown_key") << name << ": " << r.body;
    EXPECT_EQ(parse(b.get(demo, "/api/session")).at("authenticated").as_bool(), false) << name;
  }
  // The same path with a valid token signs in: the refusals above were the tokens' doing.
  Browser b;
  HttpResponse start = b.get(demo, "/signin");
  const std::string location = start.header("location");
  const std::string valid = op.id_token(param(location, "nonce"));
  op.on_token([&op, valid](const websession::testing::ProviderRequest&) { return op.token_answer(valid); });
  HttpResponse ok = b.get(demo, "/auth/callback?code=c&state=" + param(location, "state") + "&iss=" + url_encode(op.issuer()));
  EXPECT_EQ(ok.status, 303) << ok.body;
  EXPECT_EQ(parse(b.get(demo, "/api/session")).at("user").as_string(), "alice");
}

INSTANTIATE_TEST_SUITE_P(Servers, OidcHostileProvider, ::testing::Values("httplib", "beast"),
                         [](const auto& p) { return p.param; });

TEST(OidcE2EConfig, WithoutAnIssuerThereIsNoProviderSignIn) {
  for (const char* issuer : {"off", ""}) {
    std::map<std::string, std::string> env;
    if (*issuer != '\0') env["OIDC_ISSUER"] = issuer;
    Demo demo(env);
    EXPECT_EQ(e2e::get(demo.url("/signin")).status, 404);
    EXPECT_EQ(e2e::get(demo.url("/api/me")).status, 404);
    EXPECT_NE(e2e::get(demo.url("/")).body.find(R"(<section id="oidc" hidden>)"), std::string::npos);
    EXPECT_NE(demo.process().log().find("oidc=off"), std::string::npos) << demo.process().log();
  }
}

TEST(OidcE2EConfig, AnInvalidIssuerIsRefusedAtStart) {
  e2e::ChildProcess p({WEBSESSION_DEMO_BINARY},
                      {{"OIDC_ISSUER", "http://login.example.com"}, {"PORT", std::to_string(e2e::free_port())}},
                      "/tmp/websession-oidc-e2e-config-" + std::to_string(::getpid()) + ".log");
  auto code = p.wait_exit(std::chrono::seconds(10));
  ASSERT_TRUE(code.has_value());
  EXPECT_NE(*code, 0);
  EXPECT_NE(p.log().find("issuer"), std::string::npos) << p.log();
}

}  // namespace
