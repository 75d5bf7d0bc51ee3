// The relying party against the development OpenID provider (oidc-provider, a certified
// implementation, as a child process), on the memory store and on the DynamoDB store: the whole
// flow through its login page, and single-use refresh tokens under concurrency, with a token
// endpoint slower than the store's maxLockTime.
#include "websession/oidc/relying_party.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "oidc/support/dev_provider.h"
#include "oidc/support/stores.h"

namespace websession::oidc {
namespace {

using testing::DevProvider;
using testing::DevProviderOptions;

constexpr const char* kRedirect = "http://127.0.0.1:9/auth/callback";

std::int64_t count(const boost::json::object& events, const char* name) {
  const auto* v = events.if_contains(name);
  return v == nullptr ? 0 : v->as_int64();
}

// The provider, a store and a relying party on them.
class ProviderFixture {
 protected:
  void start(const std::string& store, const std::string& auth, const std::string& alg) {
    store_ = testing::make_store(store, {}, std::chrono::seconds(1));
    DevProviderOptions o;
    o.client_secret = "secret with spaces & symbols +%";
    o.client_auth_method = auth;
    o.id_token_alg = alg;
    o.redirect_uris = {kRedirect};
    op_ = std::make_unique<DevProvider>(o);
    rp_ = make_rp();
  }

  std::unique_ptr<RelyingParty> make_rp() {
    RelyingPartyOptions o;
    o.issuer = op_->issuer();
    o.client_id = op_->options().client_id;
    o.client_secret = op_->options().client_secret;
    o.client_auth = op_->options().client_auth_method == "client_secret_post" ? ClientAuthMethod::client_secret_post
                                                                              : ClientAuthMethod::client_secret_basic;
    o.redirect_uri = kRedirect;
    o.post_logout_redirect_uri = op_->options().post_logout_redirect_uris.front();
    o.store = store_;
    return std::make_unique<RelyingParty>(o);
  }

  Session load(const std::string& id) {
    auto s = Session::load(*store_, id, {});
    if (!s) throw std::runtime_error(s.error().describe());
    return std::move(*s);
  }

  // Signs "alice" in through the provider's login page; returns the signed-in session's ID.
  std::string sign_in(const std::string& login = "alice") {
    Session browser(*store_, {});
    auto url = rp_->begin_sign_in(browser, "/me");
    if (!url) throw std::runtime_error(url.error().describe());
    std::string why;
    const auto query = op_->sign_in(*url, login, &why);
    if (!query) throw std::runtime_error("the provider's login stopped: " + why);
    Session at_callback = load(browser.id());
    auto done = rp_->complete_sign_in(at_callback, *query, "provider-test");
    if (!done) throw std::runtime_error(done.error().describe());
    EXPECT_EQ(done->return_to, "/me");
    return at_callback.id();
  }

  // `requests` threads, each with its own copy of the session (as concurrent requests have), ask
  // for an access token at once; returns how many redeemed the refresh token.
  int race(const std::string& id, int requests, std::atomic<int>& failures) {
    std::atomic<int> refreshed{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < requests; ++i) {
      threads.emplace_back([&] {
        Session s = load(id);
        auto token = rp_->access_token(s);
        if (!token) {
          ++failures;
          ADD_FAILURE() << token.error().describe();
          return;
        }
        refreshed += token->refreshed ? 1 : 0;
      });
    }
    for (auto& th : threads) th.join();
    return refreshed.load();
  }

  std::shared_ptr<SessionStore> store_;
  std::unique_ptr<DevProvider> op_;
  std::unique_ptr<RelyingParty> rp_;
};

// (store, client authentication, ID token algorithm)
class RelyingPartyProviderTest : public ProviderFixture,
                                 public ::testing::TestWithParam<std::tuple<std::string, std::string, std::string>> {
 protected:
  void SetUp() override {
    WEBSESSION_REQUIRE_DEV_PROVIDER();
    const auto& [store, auth, alg] = GetParam();
    if (store == "dynamodb") WEBSESSION_REQUIRE_DYNALITE();
    start(store, auth, alg);
  }
};

TEST_P(RelyingPartyProviderTest, SignInUserInfoRefreshSignOut) {
  op_->configure({{"access_token_ttl", 2}});
  const std::string id = sign_in();
  Session s = load(id);
  EXPECT_EQ(s.get_string("user"), "alice");
  EXPECT_EQ(s.get_string("sub"), "alice");
  EXPECT_EQ(s.owner(), owner_for(op_->issuer(), "alice"));
  EXPECT_FALSE(s.sid().empty());
  auto info = rp_->userinfo(s);
  ASSERT_TRUE(info) << info.error().describe();
  EXPECT_EQ(info->claims.at("email").as_string(), "alice@example.com");
  EXPECT_FALSE(info->refreshed);
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  Session later = load(id);
  auto refreshed = rp_->userinfo(later);
  ASSERT_TRUE(refreshed) << refreshed.error().describe();
  EXPECT_TRUE(refreshed->refreshed);
  EXPECT_NE(load(id).get_string("refresh_token"), s.get_string("refresh_token"));
  auto out = rp_->sign_out(later);
  ASSERT_TRUE(out) << out.error().describe();
  EXPECT_TRUE(out->revoked);
  EXPECT_EQ(out->redirect_to.rfind(op_->issuer(), 0), 0U) << out->redirect_to;
  EXPECT_NE(out->redirect_to.find("id_token_hint="), std::string::npos);
  EXPECT_FALSE(rp_->is_signed_in(load(id)));
  const auto events = op_->events();
  EXPECT_EQ(count(events, "authorization_code"), 1);
  EXPECT_EQ(count(events, "refresh_token"), 1);
  EXPECT_EQ(count(events, "invalid_grant"), 0);
}

TEST_P(RelyingPartyProviderTest, BackchannelLogoutTokenOfTheProvider) {
  const std::string id = sign_in();
  Session s = load(id);
  const std::string sid(s.get_string("sid").value_or(""));
  ASSERT_FALSE(sid.empty());
  const auto minted = op_->backchannel_logout({{"sub", "alice"}, {"sid", sid}, {"deliver", false}});
  const std::string token(minted.at("logout_token").as_string());
  auto ended = rp_->backchannel_logout(token);
  ASSERT_TRUE(ended) << ended.error().describe();
  EXPECT_EQ(ended->sessions_ended, 1U);
  EXPECT_FALSE(rp_->is_signed_in(load(id)));
  auto replay = rp_->backchannel_logout(token);
  ASSERT_FALSE(replay);
  EXPECT_EQ(replay.error().service_type, kReplayed);
}

INSTANTIATE_TEST_SUITE_P(
    Variants, RelyingPartyProviderTest,
    ::testing::Values(std::make_tuple("memory", "client_secret_basic", "RS256"),
                      std::make_tuple("memory", "client_secret_post", "ES256"),
                      std::make_tuple("dynamodb", "client_secret_basic", "PS256")),
    [](const auto& p) {
      return std::get<0>(p.param) + "_" + std::get<1>(p.param).substr(14) + "_" + std::get<2>(p.param);
    });

// (store): single-use refresh tokens under concurrency.
class ProviderRefreshRace : public ProviderFixture, public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    WEBSESSION_REQUIRE_DEV_PROVIDER();
    if (GetParam() == "dynamodb") WEBSESSION_REQUIRE_DYNALITE();
    start(GetParam(), "client_secret_basic", "RS256");
  }
};

TEST_P(ProviderRefreshRace, FiftyRequestsAfterExpiryRedeemTheRefreshTokenOnce) {
  op_->configure({{"access_token_ttl", 1}});
  const std::string id = sign_in();
  op_->configure({{"access_token_ttl", 600}});  // the refreshed token lasts
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  std::atomic<int> failures{0};
  EXPECT_EQ(race(id, 50, failures), 1);
  EXPECT_EQ(failures.load(), 0);
  const auto events = op_->events();
  EXPECT_EQ(count(events, "refresh_token"), 1);
  EXPECT_EQ(count(events, "invalid_grant"), 0);
}

TEST_P(ProviderRefreshRace, ATokenEndpointSlowerThanMaxLockTimeIsAskedOnce) {
  // maxLockTime is 1 s; the token endpoint takes 2.5 s: the holder renews its lock meanwhile, so
  // no waiter takes it over and sends the same refresh token again.
  op_->configure({{"access_token_ttl", 1}});
  const std::string id = sign_in();
  op_->configure({{"token_delay_ms", 2500}, {"access_token_ttl", 600}});
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  std::atomic<int> failures{0};
  EXPECT_EQ(race(id, 10, failures), 1);
  EXPECT_EQ(failures.load(), 0);
  const auto events = op_->events();
  EXPECT_EQ(count(events, "refresh_token"), 1);
  EXPECT_EQ(count(events, "invalid_grant"), 0);
}

TEST_P(ProviderRefreshRace, AnExpiredGrantSignsTheUserOut) {
  op_->configure({{"access_token_ttl", 1}, {"refresh_token_ttl", 1}});
  const std::string id = sign_in();
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  Session s = load(id);
  auto token = rp_->access_token(s);
  ASSERT_FALSE(token);
  EXPECT_TRUE(needs_sign_in(token.error())) << token.error().describe();
  EXPECT_FALSE(rp_->is_signed_in(load(id)));
  EXPECT_EQ(count(op_->events(), "invalid_grant"), 1);
}

INSTANTIATE_TEST_SUITE_P(Stores, ProviderRefreshRace, ::testing::Values("memory", "dynamodb"),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace websession::oidc
