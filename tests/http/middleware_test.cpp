#include "websession/http/middleware.h"

#include <memory>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "adapter_support.h"

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
  EXPECT_NE(set->find("; Max-Age=1200; HttpOnly; SameSite=Lax"), std::string::npos);
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
  auto regenerated = request(cookie, [](Session& s) { ASSERT_TRUE(s.regenerate().ok()); });
  ASSERT_TRUE(regenerated);
  EXPECT_NE(cookie_of(*regenerated), cookie);
  EXPECT_EQ(store->size(), 1u) << "the old session was deleted";
  auto cleared = request(cookie_of(*regenerated), [](Session& s) { ASSERT_TRUE(s.destroy().ok()); });
  ASSERT_TRUE(cleared);
  EXPECT_EQ(cleared->rfind("sessionId=; Path=/; Max-Age=0", 0), 0u) << *cleared;
  EXPECT_EQ(store->size(), 0u);
}

TEST_F(MiddlewareTest, DuplicateCookiesFirstValidCounts) {
  const std::string cookie = cookie_of(*request("", [](Session& s) { s.set("x", 7); }));
  std::optional<std::int64_t> x;
  EXPECT_FALSE(request("sessionId=bogus.value; " + cookie, [&](Session& s) { x = s.get_int("x"); }));
  EXPECT_EQ(x, 7);
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
  o.max_age = std::chrono::seconds(60);
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
