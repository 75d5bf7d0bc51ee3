#include "websession/http/middleware.h"

#include <memory>
#include <stdexcept>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "adapter_support.h"
#include "support/set_cookie.h"

namespace {
using namespace websession;
using namespace websession::http;

class MiddlewareTest : public ::testing::Test {
 protected:
  MiddlewareTest() {
    (void)store->init();
    MiddlewareOptions o;
    o.store = store;
    o.secrets = {std::string(32, 'a')};
    mw = std::make_unique<Middleware>(o);
  }

  // Runs one request; returns the Set-Cookie value, if any.
  std::optional<std::string> request(const std::string& cookie, const std::function<void(Session&)>& handler) {
    auto rs = mw->begin(cookie);
    EXPECT_TRUE(rs.ok());
    handler(rs->session());
    auto out = rs->finish();
    EXPECT_TRUE(out.ok());
    return *out;
  }

  static std::string cookie_of(const std::string& set_cookie) {
    return "sessionId=" + set_cookie.substr(10, set_cookie.find(';') - 10);
  }

  std::shared_ptr<adapter_test::FlakyStore> store = std::make_shared<adapter_test::FlakyStore>();
  std::unique_ptr<Middleware> mw;
};

TEST_F(MiddlewareTest, NoCookieAndNoWriteForUntouchedSession) {
  EXPECT_FALSE(request("", [](Session&) {}));
  EXPECT_EQ(store->size(), 0u);
  EXPECT_EQ(store->gets, 0);
}

TEST_F(MiddlewareTest, WriteCreatesSessionAndCookie) {
  auto set = request("", [](Session& s) { s.set("user", "alice"); });
  ASSERT_TRUE(set);
  EXPECT_NE(set->find("; HttpOnly; SameSite=Lax"), std::string::npos) << *set;
  const auto max_age = test_support::max_age_attribute(*set);
  ASSERT_TRUE(max_age) << *set;
  EXPECT_GE(*max_age, 1199) << *set;
  EXPECT_LE(*max_age, 1200) << *set;
  const std::string cookie = cookie_of(*set);
  std::string user;
  EXPECT_FALSE(request(cookie, [&](Session& s) { user = s.get_string("user").value_or(""); }));
  EXPECT_EQ(user, "alice");
}

TEST_F(MiddlewareTest, TamperedCookieIsIgnoredWithoutStoreRead) {
  const std::string cookie = cookie_of(*request("", [](Session& s) { s.set("x", 1); }));
  store->gets = 0;
  std::string tampered = cookie;
  tampered[12] = tampered[12] == 'A' ? 'B' : 'A';
  for (const std::string& c : {tampered, std::string("sessionId=abc"), "sessionId=" + std::string(5000, 'a')}) {
    bool fresh = false;
    EXPECT_FALSE(request(c, [&](Session& s) { fresh = s.is_new(); }));
    EXPECT_TRUE(fresh);
  }
  EXPECT_EQ(store->gets, 0);
}

TEST_F(MiddlewareTest, GoneSessionGetsNewIdOnWrite) {
  const std::string cookie = cookie_of(*request("", [](Session& s) { s.set("x", 1); }));
  const std::string old_id = cookie.substr(10, 32);
  ASSERT_TRUE(store->destroy(old_id).ok());
  auto set = request(cookie, [](Session& s) { s.set("y", 2); });
  ASSERT_TRUE(set);
  EXPECT_EQ(set->find(old_id), std::string::npos);
}

TEST_F(MiddlewareTest, RegenerateAndDestroy) {
  const std::string cookie = cookie_of(*request("", [](Session& s) { s.set("x", 1); }));
  auto regenerated = request(cookie, [](Session& s) { s.regenerate(); });
  ASSERT_TRUE(regenerated);
  EXPECT_NE(cookie_of(*regenerated), cookie);
  EXPECT_EQ(store->size(), 1u) << "the old session was deleted";
  auto cleared = request(cookie_of(*regenerated), [](Session& s) { ASSERT_TRUE(s.destroy().ok()); });
  ASSERT_TRUE(cleared);
  EXPECT_EQ(cleared->rfind("sessionId=; Path=/; Max-Age=0", 0), 0u) << *cleared;
  EXPECT_EQ(store->size(), 0u);
}

TEST_F(MiddlewareTest, DuplicateCookiesOfOneSessionCount) {
  const std::string cookie = cookie_of(*request("", [](Session& s) { s.set("user", "alice"); }));
  std::string user;
  request("sessionId=garbage; " + cookie + "; " + cookie, [&](Session& s) { user = s.get_string("user").value_or(""); });
  EXPECT_EQ(user, "alice");
}

TEST_F(MiddlewareTest, TwoValidlySignedSessionsAreAmbiguousAndNeitherCounts) {
  // A sibling subdomain can set a parent-domain cookie of the same name (cookie tossing): the
  // browser then sends both, and the planted one may come first.
  const std::string victim = cookie_of(*request("", [](Session& s) { s.set("user", "victim"); }));
  const std::string planted = cookie_of(*request("", [](Session& s) { s.set("user", "attacker"); }));
  const int gets_before = store->gets;
  std::string user = "unset";
  request(planted + "; " + victim, [&](Session& s) {
    user = s.get_string("user").value_or("");
    EXPECT_TRUE(s.is_new());
  });
  EXPECT_EQ(user, "");
  EXPECT_EQ(store->gets, gets_before) << "no store read for an ambiguous request";
}

TEST_F(MiddlewareTest, TheAsynchronousPathBehavesAlike) {
  asio::io_context context;
  std::optional<std::string> set_cookie;
  asio::co_spawn(
      context,
      [&]() -> Task<void> {
        auto rs = co_await mw->co_begin("");
        EXPECT_TRUE(rs);
        rs->session().set("user", "alice");
        auto cookie = co_await rs->co_finish();
        EXPECT_TRUE(cookie && *cookie);
        set_cookie = **cookie;
        std::string header = cookie_of(*set_cookie);
        auto again = co_await mw->async_begin(header, asio::use_awaitable_t<Executor>{});
        EXPECT_EQ(again->session().get_string("user"), "alice");
        EXPECT_TRUE(co_await again->session().co_destroy());
        auto cleared = co_await again->async_finish(asio::use_awaitable_t<Executor>{});
        EXPECT_TRUE(cleared && *cleared && (*cleared)->find("Max-Age=0") != std::string::npos);
      },
      asio::detached);
  context.run();
  ASSERT_TRUE(set_cookie);
  EXPECT_EQ(store->size(), 0u);
}

TEST_F(MiddlewareTest, TheCookieEndsWithTheAbsoluteLifetime) {
  MiddlewareOptions o;
  o.store = store;
  o.secrets = {std::string(32, 'a')};
  o.max_age = std::chrono::seconds(1200);
  o.absolute_max_age = std::chrono::seconds(300);
  Middleware short_lived(o);
  auto rs = short_lived.begin("");
  rs->session().set("a", 1);
  auto cookie = rs->finish();
  ASSERT_TRUE(cookie && *cookie);
  const auto max_age = test_support::max_age_attribute(**cookie);
  ASSERT_TRUE(max_age) << **cookie;
  EXPECT_GE(*max_age, 299) << **cookie;
  EXPECT_LE(*max_age, 300) << **cookie;
}

TEST(MiddlewareOptions, HostPrefixedCookiesMustBeSecureHostOnlyAndRootPath) {
  MiddlewareOptions o;
  o.secrets = {std::string(32, 's')};
  o.cookie_name = "__Host-sessionId";
  EXPECT_THROW(Middleware{o}, std::invalid_argument);  // not Secure
  o.cookie.secure = true;
  o.cookie.domain = "example.com";
  EXPECT_THROW(Middleware{o}, std::invalid_argument);
  o.cookie.domain.clear();
  o.cookie.path = "/app";
  EXPECT_THROW(Middleware{o}, std::invalid_argument);
  o.cookie.path = "/";
  Middleware mw(o);
  auto rs = mw.begin("");
  rs->session().set("a", 1);
  auto cookie = rs->finish();
  ASSERT_TRUE(cookie && *cookie);
  EXPECT_EQ((*cookie)->rfind("__Host-sessionId=", 0), 0u);
  EXPECT_NE((*cookie)->find("; Secure"), std::string::npos);
  EXPECT_EQ((*cookie)->find("Domain"), std::string::npos);
}

TEST(MiddlewareOptions, TheSecretsAreNotKept) {
  MiddlewareOptions o;
  o.secrets = {std::string(32, 's'), std::string(40, 't')};
  Middleware mw(o);
  EXPECT_TRUE(mw.options().secrets.empty());
  EXPECT_EQ(mw.signer().secret_count(), 2u);
}

TEST(MiddlewareOptions, Validation) {
  MiddlewareOptions o;
  EXPECT_THROW(Middleware{o}, std::invalid_argument);  // no secret
  o.secrets = {"short"};
  EXPECT_THROW(Middleware{o}, std::invalid_argument);
  o.secrets = {std::string(32, 's')};
  o.cookie_name = "bad name";
  EXPECT_THROW(Middleware{o}, std::invalid_argument);
  o.cookie_name = "sid";
  o.max_age = std::chrono::seconds(0);
  EXPECT_THROW(Middleware{o}, std::invalid_argument);
  o.max_age = kMaxLifetime + std::chrono::seconds(1);
  EXPECT_THROW(Middleware{o}, std::invalid_argument);
  o.max_age = std::chrono::seconds(60);
  o.absolute_max_age = std::chrono::seconds(0);
  EXPECT_THROW(Middleware{o}, std::invalid_argument);
  o.absolute_max_age = std::chrono::seconds(3600);
  std::string warning;
  o.production = true;
  o.logger = [&](std::string_view line) { warning = line; };
  Middleware mw(o);
  EXPECT_NE(warning.find("memory"), std::string::npos);
  EXPECT_TRUE(mw.options().cookie.secure);
}

TEST(HttpStatus, MapsErrorCodes) {
  EXPECT_EQ(http_status(Error(ErrorCode::unavailable, "x")), 503);
  EXPECT_EQ(http_status(Error(ErrorCode::invalid_argument, "x")), 400);
  EXPECT_EQ(http_status(Error(ErrorCode::internal, "x")), 500);
  EXPECT_EQ(error_body(Error(ErrorCode::unavailable, "secret table name")).find("secret"), std::string::npos);
}

}  // namespace
