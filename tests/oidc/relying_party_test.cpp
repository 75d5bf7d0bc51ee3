// The relying party against a hostile provider over real sockets (HostileHttpProvider, in this
// process), on the memory store and on the DynamoDB store (dynalite): sign-in, the attempt's single
// use and browser binding, every refused ID token, refresh, UserInfo, sign-out and back-channel
// logout.
#include "websession/oidc/relying_party.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/serialize.hpp>

#include "oidc/support/hostile_http_provider.h"
#include "oidc/support/urls.h"
#include "oidc/support/stores.h"
#include "support/fake_clock.h"
#include "websession/session_id.h"

namespace websession::oidc {
namespace {

using testing::HostileHttpProvider;
using testing::HostileProvider;
using testing::ProviderAnswer;
using testing::ProviderRequest;
namespace json = boost::json;

constexpr std::string_view kSecret = "hostile-secret: with + and &";

using websession::testing::url_encode;

std::string param(const std::string& url, std::string_view name) { return websession::testing::url_param(url, name); }

struct Started {
  std::string url;
  std::string state;
  std::string nonce;
};

class RelyingPartyTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "dynamodb") WEBSESSION_REQUIRE_DYNALITE();
    store_ = testing::make_store(GetParam(), clock_.clock());
    op_ = std::make_unique<HostileHttpProvider>();
    rp_ = std::make_unique<RelyingParty>(options());
  }

  RelyingPartyOptions options() {
    RelyingPartyOptions o;
    o.issuer = op_->issuer();
    o.client_id = op_->client_id();
    o.client_secret = std::string(kSecret);
    o.redirect_uri = "http://127.0.0.1:9/auth/callback";
    o.post_logout_redirect_uri = "http://127.0.0.1:9/";
    o.store = store_;
    o.request_timeout = std::chrono::milliseconds(2000);
    o.token_timeout = std::chrono::milliseconds(2000);
    return o;
  }

  SessionOptions session_options() {
    SessionOptions o;
    o.clock = clock_.clock();
    return o;
  }
  Session browser() { return Session(*store_, session_options()); }
  // The session the middleware would load for the next request of the browser whose session is `s`.
  Session next_request(const Session& s) {
    auto loaded = Session::load(*store_, s.id(), session_options());
    if (!loaded) throw std::runtime_error(loaded.error().describe());
    return std::move(*loaded);
  }

  Started begin(Session& s, std::string_view return_to = "/") {
    auto url = rp_->begin_sign_in(s, return_to);
    if (!url) throw std::runtime_error(url.error().describe());
    Started started{*url, param(*url, "state"), param(*url, "nonce")};
    op_->remember_nonce(started.nonce);
    return started;
  }
  std::string callback(const Started& s, const std::string& code = "the-code") const {
    return "code=" + code + "&state=" + s.state + "&iss=" + url_encode(op_->issuer());
  }
  // Signs a fresh browser in; returns its session after the callback.
  Session signed_in(const boost::json::object& claims = {}, int expires_in = 300) {
    Session s = browser();
    const Started started = begin(s);
    const std::string token = op_->id_token(started.nonce, claims);
    op_->on_token([this, token, expires_in](const ProviderRequest& r) {
      return r.form.at("grant_type") == "refresh_token" ? op_->token_answer("") : op_->token_answer(token, expires_in);
    });
    Session at_callback = next_request(s);
    auto done = rp_->complete_sign_in(at_callback, callback(started), "test-agent/1.0");
    if (!done) throw std::runtime_error(done.error().describe());
    return next_request(at_callback);
  }
  // The token endpoint answers `id_token` for the code exchange.
  void answer_code_with(const std::string& id_token) {
    op_->on_token([this, id_token](const ProviderRequest&) { return op_->token_answer(id_token); });
  }
  std::size_t alice_sessions() {
    auto listed = store_->list_owner_sessions(owner_for(op_->issuer(), "alice-sub"));
    return listed ? listed->size() : 999;
  }

  testing::FakeClock clock_;
  std::shared_ptr<SessionStore> store_;
  std::unique_ptr<HostileHttpProvider> op_;
  std::unique_ptr<RelyingParty> rp_;
};

// --- starting a sign-in ----------------------------------------------------------------------------

TEST_P(RelyingPartyTest, BeginSignInRedirectsWithPkceStateAndNonce) {
  Session s = browser();
  const Started started = begin(s, "/orders?page=2");
  EXPECT_EQ(started.url.rfind(op_->issuer() + "/authorize?", 0), 0U) << started.url;
  EXPECT_EQ(param(started.url, "response_type"), "code");
  EXPECT_EQ(param(started.url, "client_id"), op_->client_id());
  EXPECT_EQ(param(started.url, "redirect_uri"), "http://127.0.0.1:9/auth/callback");
  EXPECT_EQ(param(started.url, "scope"), "openid profile email offline_access");
  EXPECT_EQ(param(started.url, "code_challenge_method"), "S256");
  EXPECT_EQ(param(started.url, "code_challenge").size(), 43U);
  EXPECT_TRUE(is_valid_session_id(started.state)) << started.state;
  EXPECT_EQ(started.nonce.size(), 43U);
  // The new visitor's session was saved so that the attempt can be bound to it.
  EXPECT_FALSE(s.is_new());
  EXPECT_TRUE(s.cookie_changed());
  // Several attempts at once (tabs) each get their own state.
  EXPECT_NE(begin(s).state, started.state);
  EXPECT_EQ(op_->count("/.well-known/openid-configuration"), 1);
}

TEST_P(RelyingPartyTest, CompleteSignInSignsTheSessionInWithANewId) {
  Session s = browser();
  s.set("views", 3);
  ASSERT_TRUE(s.save());
  const Started started = begin(s, "/orders?page=2");
  answer_code_with(op_->id_token(started.nonce));
  Session at_callback = next_request(s);
  const std::string before = at_callback.id();
  auto done = rp_->complete_sign_in(at_callback, callback(started), "test-agent/1.0");
  ASSERT_TRUE(done) << done.error().describe();
  EXPECT_EQ(done->return_to, "/orders?page=2");
  EXPECT_EQ(done->user, "alice");
  EXPECT_EQ(done->subject, "alice-sub");
  EXPECT_EQ(done->owner, "oidc:" + op_->issuer() + "#alice-sub");
  EXPECT_NE(at_callback.id(), before) << "sign-in must rotate the session ID";
  EXPECT_FALSE(next_request(s).get("views")) << "the session from before sign-in is gone";
  Session after = next_request(at_callback);
  EXPECT_TRUE(rp_->is_signed_in(after));
  EXPECT_EQ(after.owner(), done->owner);
  EXPECT_EQ(after.sid(), op_->issuer() + "#session-1");
  EXPECT_EQ(after.get_string("user"), "alice");
  EXPECT_EQ(after.get_string("sub"), "alice-sub");
  EXPECT_EQ(after.get_string("sid"), "session-1");
  EXPECT_EQ(after.get_string("auth"), "oidc");
  EXPECT_EQ(after.get_string("refresh_token"), "rt-1");
  EXPECT_EQ(after.get_string("access_token"), "at-1");
  EXPECT_TRUE(after.get_string("id_token").has_value());
  EXPECT_FALSE(after.get("views"));
  EXPECT_GT(after.get_int("access_expires_at").value_or(0), to_epoch_seconds(clock_.now()) + 200);
  // The code exchange: PKCE verifier, redirect URI, client_secret_basic.
  const ProviderRequest token = op_->last("/token");
  EXPECT_EQ(token.form.at("grant_type"), "authorization_code");
  EXPECT_EQ(token.form.at("code"), "the-code");
  EXPECT_EQ(code_challenge_s256(token.form.at("code_verifier")), param(started.url, "code_challenge"));
  EXPECT_EQ(token.authorization.rfind("Basic ", 0), 0U);
  EXPECT_EQ(token.form.count("client_secret"), 0U);
  EXPECT_EQ(alice_sessions(), 1U);
  auto listed = store_->list_owner_sessions(done->owner);
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->front().user_agent, "test-agent/1.0");
}

TEST_P(RelyingPartyTest, FurtherAuthorizationParametersAreSent) {
  RelyingPartyOptions o = options();
  o.authorization_params = {{"access_type", "offline"}, {"prompt", "consent"}};
  o.end_session_params = {{"logout_uri", "http://127.0.0.1:9/bye"}};
  rp_ = std::make_unique<RelyingParty>(o);
  Session s = browser();
  const Started started = begin(s);
  EXPECT_EQ(param(started.url, "access_type"), "offline");
  EXPECT_EQ(param(started.url, "prompt"), "consent");
  Session member = signed_in();
  auto out = rp_->sign_out(member);
  ASSERT_TRUE(out);
  EXPECT_EQ(param(out->redirect_to, "logout_uri"), "http://127.0.0.1:9/bye");
}

TEST_P(RelyingPartyTest, ClientSecretPostSendsTheSecretInTheBody) {
  RelyingPartyOptions o = options();
  o.client_auth = ClientAuthMethod::client_secret_post;
  rp_ = std::make_unique<RelyingParty>(o);
  Session s = signed_in();
  const ProviderRequest token = op_->last("/token");
  EXPECT_TRUE(token.authorization.empty());
  EXPECT_EQ(token.form.at("client_id"), op_->client_id());
  EXPECT_EQ(token.form.at("client_secret"), kSecret);
}

TEST_P(RelyingPartyTest, ReturnToIsOnlyAPathOnThisSite) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/ok/path?x=1", "/ok/path?x=1"}, {"//evil.example", "/"}, {"/\\evil.example", "/"},
      {"https://evil.example", "/"},  {"/%2F%2Fevil", "/"},     {"javascript:alert(1)", "/"},
      {"", "/"},                       {"/\t/evil", "/"}};
  for (const auto& [given, expected] : cases) {
    Session s = browser();
    const Started started = begin(s, given);
    answer_code_with(op_->id_token(started.nonce));
    Session at_callback = next_request(s);
    auto done = rp_->complete_sign_in(at_callback, callback(started), "ua");
    ASSERT_TRUE(done) << done.error().describe();
    EXPECT_EQ(done->return_to, expected) << given;
  }
}

// --- the attempt: single use, bound to the browser ---------------------------------------------------

TEST_P(RelyingPartyTest, AReplayedCallbackIsRefused) {
  Session s = browser();
  const Started started = begin(s);
  answer_code_with(op_->id_token(started.nonce));
  Session first = next_request(s);
  ASSERT_TRUE(rp_->complete_sign_in(first, callback(started), "ua"));
  // The same callback again, from the same browser (now signed in).
  Session replay = next_request(first);
  auto r = rp_->complete_sign_in(replay, callback(started), "ua");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().service_type, kInvalidState);
  EXPECT_NE(r.error().message.find("unknown, expired or already used"), std::string::npos) << r.error().message;
  EXPECT_TRUE(rp_->is_signed_in(next_request(first))) << "a refused callback leaves the session as it was";
  EXPECT_EQ(op_->count("/token"), 1) << "a replayed state never reaches the token endpoint";
}

TEST_P(RelyingPartyTest, TamperedAndUnknownStatesAreRefused) {
  Session s = browser();
  const Started started = begin(s);
  answer_code_with(op_->id_token(started.nonce));
  std::string flipped = started.state;
  flipped[5] = flipped[5] == 'A' ? 'B' : 'A';
  for (const std::string& state : {flipped, started.state.substr(1), std::string("garbage"), std::string(),
                                   generate_session_id(), s.id()}) {
    Session at_callback = next_request(s);
    Started forged = started;
    forged.state = state;
    auto r = rp_->complete_sign_in(at_callback, callback(forged), "ua");
    ASSERT_FALSE(r) << state;
    EXPECT_EQ(r.error().code, ErrorCode::invalid_argument) << state;
    EXPECT_EQ(r.error().service_type, kInvalidState) << state << ": " << r.error().describe();
    EXPECT_FALSE(rp_->is_signed_in(at_callback));
  }
  // The genuine state still works: forgeries do not consume it.
  Session at_callback = next_request(s);
  EXPECT_TRUE(rp_->complete_sign_in(at_callback, callback(started), "ua"));
  EXPECT_EQ(op_->count("/token"), 1);
}

TEST_P(RelyingPartyTest, ACallbackFromAnotherBrowserIsRefused) {
  // The attacker starts a sign-in in their browser and sends the callback URL to the victim.
  Session attacker = browser();
  const Started started = begin(attacker);
  answer_code_with(op_->id_token(started.nonce));
  Session victim = browser();
  victim.set("views", 1);
  ASSERT_TRUE(victim.save());
  Session at_callback = next_request(victim);
  auto r = rp_->complete_sign_in(at_callback, callback(started), "ua");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().service_type, kInvalidState);
  EXPECT_NE(r.error().message.find("another browser"), std::string::npos) << r.error().message;
  EXPECT_FALSE(rp_->is_signed_in(next_request(victim)));
  // A browser without any session is refused too.
  Session attacker2 = browser();
  const Started again = begin(attacker2);
  Session cookieless = browser();
  EXPECT_FALSE(rp_->complete_sign_in(cookieless, callback(again), "ua"));
  EXPECT_EQ(op_->count("/token"), 0);
  EXPECT_EQ(alice_sessions(), 0U);
}

TEST_P(RelyingPartyTest, AnExpiredAttemptIsRefused) {
  Session s = browser();
  const Started started = begin(s);
  answer_code_with(op_->id_token(started.nonce));
  clock_.advance(std::chrono::seconds(700));  // the attempt lives 600 s from when it began
  Session at_callback = next_request(s);
  auto r = rp_->complete_sign_in(at_callback, callback(started), "ua");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().service_type, kInvalidState);
}

TEST_P(RelyingPartyTest, ConcurrentCallbacksWithOneStateHaveOneWinner) {
  Session s = browser();
  const Started started = begin(s);
  answer_code_with(op_->id_token(started.nonce));
  constexpr int kCallers = 12;
  std::atomic<int> won{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kCallers; ++i) {
    threads.emplace_back([&] {
      Session at_callback = next_request(s);
      auto r = rp_->complete_sign_in(at_callback, callback(started), "ua");
      (r ? won : refused)++;
      if (!r) {
        EXPECT_EQ(r.error().service_type, kInvalidState) << r.error().describe();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(refused.load(), kCallers - 1);
  EXPECT_EQ(op_->count("/token"), 1);
}

// --- the callback's answer -------------------------------------------------------------------------

TEST_P(RelyingPartyTest, AnIssuerMixUpIsRefused) {
  Session s = browser();
  const Started started = begin(s);
  answer_code_with(op_->id_token(started.nonce));
  Session at_callback = next_request(s);
  auto r = rp_->complete_sign_in(at_callback, "code=c&state=" + started.state + "&iss=https%3A%2F%2Fevil.example",
                                 "ua");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
  // The provider advertises authorization_response_iss_parameter_supported: iss is required.
  Session s2 = browser();
  const Started second = begin(s2);
  Session at_callback2 = next_request(s2);
  EXPECT_FALSE(rp_->complete_sign_in(at_callback2, "code=c&state=" + second.state, "ua"));
  EXPECT_EQ(op_->count("/token"), 0);
}

TEST_P(RelyingPartyTest, TheProvidersErrorAnswerIsReported) {
  Session s = browser();
  const Started started = begin(s);
  Session at_callback = next_request(s);
  auto r = rp_->complete_sign_in(
      at_callback, "error=access_denied&error_description=no%20thanks&state=" + started.state + "&iss=" + url_encode(op_->issuer()),
      "ua");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::permission_denied);
  EXPECT_EQ(r.error().service_type, "access_denied");
  EXPECT_FALSE(rp_->is_signed_in(at_callback));
}

TEST_P(RelyingPartyTest, AFailedCodeExchangeIsReported) {
  struct Case {
    ProviderAnswer answer;
    ErrorCode code;
  };
  const std::vector<Case> cases = {
      {{400, R"({"error":"invalid_grant","error_description":"code expired"})"}, ErrorCode::invalid_argument},
      {{401, R"({"error":"invalid_client"})"}, ErrorCode::permission_denied},
      {{503, "down"}, ErrorCode::unavailable},
      {{200, "not json"}, ErrorCode::internal},
      {{200, R"({"access_token":"a","token_type":"Bearer"})"}, ErrorCode::invalid_argument},  // no ID token
      {{200, "{}", "application/json", std::chrono::milliseconds(3000)}, ErrorCode::unavailable},  // too slow
  };
  for (const Case& c : cases) {
    op_->on_token([c](const ProviderRequest&) { return c.answer; });
    Session s = browser();
    const Started started = begin(s);
    Session at_callback = next_request(s);
    const auto t0 = std::chrono::steady_clock::now();
    auto r = rp_->complete_sign_in(at_callback, callback(started, "secret-code-value"), "ua");
    ASSERT_FALSE(r) << c.answer.body;
    EXPECT_EQ(r.error().code, c.code) << r.error().describe();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(2800)) << "token_timeout is 2 s";
    EXPECT_EQ(r.error().message.find("secret-code-value"), std::string::npos);
    EXPECT_FALSE(rp_->is_signed_in(at_callback));
  }
  EXPECT_EQ(alice_sessions(), 0U);
}

// --- hostile ID tokens -----------------------------------------------------------------------------

struct HostileCase {
  const char* name;
  std::function<std::string(HostileHttpProvider&, const std::string& nonce)> token;
  std::string_view service_type = kInvalidToken;
};

std::vector<HostileCase> hostile_cases() {
  using std::chrono::system_clock;
  auto claims = [](HostileHttpProvider& op, const std::string& nonce) {
    return op.minter().id_token_claims(op.client_id(), nonce, system_clock::now());
  };
  const json::object rs256{{"alg", "RS256"}};
  return {
      {"alg none", [=](HostileHttpProvider& op, const std::string& n) { return HostileProvider::mint_unsigned(claims(op, n)); }},
      {"HS256 keyed with the public key",
       [=](HostileHttpProvider& op, const std::string& n) {
         return HostileProvider::mint_hmac({{"alg", "HS256"}, {"kid", "rsa-1"}}, claims(op, n), op.minter().key(0).public_key_pem());
       }},
      {"a key not in the JWKS",
       [=](HostileHttpProvider& op, const std::string& n) {
         return HostileProvider::mint(rs256, claims(op, n), testing::SigningKey::rsa("stranger"));
       },
       kUnknownKey},
      {"a known kid with another key",
       [=](HostileHttpProvider& op, const std::string& n) {
         return HostileProvider::mint({{"alg", "RS256"}, {"kid", "rsa-1"}}, claims(op, n), testing::SigningKey::rsa("x"));
       }},
      {"ES256 naming the RSA key",
       [=](HostileHttpProvider& op, const std::string& n) {
         return HostileProvider::mint({{"alg", "ES256"}, {"kid", "rsa-1"}}, claims(op, n), op.minter().key(1));
       }},
      {"wrong aud", [](HostileHttpProvider& op, const std::string& n) { return op.id_token(n, {{"aud", "someone-else"}}); }},
      {"extra untrusted aud",
       [](HostileHttpProvider& op, const std::string& n) {
         return op.id_token(n, {{"aud", json::array{op.client_id(), "other"}}, {"azp", op.client_id()}});
       }},
      {"wrong azp", [](HostileHttpProvider& op, const std::string& n) { return op.id_token(n, {{"azp", "other"}}); }},
      {"wrong iss", [](HostileHttpProvider& op, const std::string& n) { return op.id_token(n, {{"iss", "https://evil.example"}}); }},
      {"wrong nonce", [](HostileHttpProvider& op, const std::string&) { return op.id_token("another-nonce"); }},
      {"no nonce", [](HostileHttpProvider& op, const std::string& n) { return op.id_token(n, {{"nonce", nullptr}}); }},
      {"expired",
       [](HostileHttpProvider& op, const std::string& n) {
         const auto t = testing::epoch(system_clock::now());
         return op.id_token(n, {{"exp", t - 3600}, {"iat", t - 7200}});
       }},
      {"iat in the future",
       [](HostileHttpProvider& op, const std::string& n) {
         const auto t = testing::epoch(system_clock::now());
         return op.id_token(n, {{"iat", t + 3600}, {"exp", t + 7200}});
       }},
      {"no sub", [](HostileHttpProvider& op, const std::string& n) { return op.id_token(n, {{"sub", nullptr}}); }},
      {"a tampered payload",
       [](HostileHttpProvider& op, const std::string& n) {
         std::string t = op.id_token(n);
         const auto dot = t.find('.');
         t[dot + 5] = t[dot + 5] == 'A' ? 'B' : 'A';
         return t;
       }},
      {"a logout token",
       [](HostileHttpProvider& op, const std::string&) {
         return HostileProvider::mint({{"alg", "RS256"}, {"typ", "logout+jwt"}},
                                      op.minter().logout_token_claims(op.client_id(), system_clock::now()), op.minter().key(0));
       }},
  };
}

TEST_P(RelyingPartyTest, HostileIdTokensAreRefusedAndNobodyIsSignedIn) {
  for (const HostileCase& c : hostile_cases()) {
    Session s = browser();
    const Started started = begin(s);
    const std::string token = c.token(*op_, started.nonce);
    answer_code_with(token);
    Session at_callback = next_request(s);
    auto r = rp_->complete_sign_in(at_callback, callback(started), "ua");
    ASSERT_FALSE(r) << c.name;
    EXPECT_EQ(r.error().code, ErrorCode::invalid_argument) << c.name << ": " << r.error().describe();
    EXPECT_EQ(r.error().service_type, c.service_type) << c.name << ": " << r.error().describe();
    EXPECT_FALSE(r.error().message.empty());
    EXPECT_EQ(r.error().message.find(token.substr(0, 20)), std::string::npos) << c.name;
    EXPECT_EQ(r.error().message.find(started.nonce), std::string::npos) << c.name;
    EXPECT_FALSE(rp_->is_signed_in(at_callback)) << c.name;
    EXPECT_TRUE(at_callback.owner().empty()) << c.name;
  }
  EXPECT_EQ(alice_sessions(), 0U);
}

TEST_P(RelyingPartyTest, TheJwksIsFetchedAgainForAnUnknownKidAtMostOncePerInterval) {
  signed_in();
  EXPECT_EQ(op_->count("/jwks"), 1);
  // The provider rotates its keys: a token signed with the new one fetches the JWKS again.
  op_->minter().add_key(testing::SigningKey::rsa("rsa-2"));
  auto with_key = [this](const Started& started, std::size_t key) {
    const json::object claims = op_->minter().id_token_claims(op_->client_id(), started.nonce, std::chrono::system_clock::now());
    answer_code_with(HostileProvider::mint({{"alg", "RS256"}}, claims, op_->minter().key(key)));
  };
  Session s = browser();
  const Started started = begin(s);
  with_key(started, 2);
  Session at_callback = next_request(s);
  auto r = rp_->complete_sign_in(at_callback, callback(started), "ua");
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(op_->count("/jwks"), 2);
  // Another unknown kid within the interval: refused without asking the provider again.
  op_->minter().add_key(testing::SigningKey::rsa("rsa-3"));
  Session s2 = browser();
  const Started second = begin(s2);
  with_key(second, 3);
  Session at_callback2 = next_request(s2);
  auto refused = rp_->complete_sign_in(at_callback2, callback(second), "ua");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().service_type, kUnknownKey);
  EXPECT_EQ(op_->count("/jwks"), 2);
  EXPECT_EQ(op_->count("/.well-known/openid-configuration"), 1) << "discovery is cached";
}

TEST_P(RelyingPartyTest, DiscoveryMustNameTheConfiguredIssuer) {
  json::object doc = op_->default_discovery();
  doc["issuer"] = op_->issuer() + "/";
  op_->set_discovery(doc);
  Session s = browser();
  auto r = rp_->begin_sign_in(s, "/");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::internal);
  EXPECT_NE(r.error().message.find("issuer"), std::string::npos) << r.error().message;
  EXPECT_TRUE(s.is_new()) << "nothing is written when discovery fails";
}

// --- refresh, UserInfo ------------------------------------------------------------------------------

TEST_P(RelyingPartyTest, AnExpiredAccessTokenIsRefreshedOnce) {
  Session s = signed_in({}, 0);  // already expired
  auto token = rp_->access_token(s);
  ASSERT_TRUE(token) << token.error().describe();
  EXPECT_TRUE(token->refreshed);
  EXPECT_EQ(token->token, "at-2");
  EXPECT_EQ(op_->last("/token").form.at("refresh_token"), "rt-1");
  Session later = next_request(s);
  EXPECT_EQ(later.get_string("refresh_token"), "rt-2");
  auto again = rp_->access_token(later);
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->refreshed);
  EXPECT_EQ(again->token, "at-2");
  EXPECT_EQ(op_->count("/token", "grant_type", "refresh_token"), 1);
}

TEST_P(RelyingPartyTest, ConcurrentRequestsRedeemTheRefreshTokenOnce) {
  Session s = signed_in({}, 0);
  op_->on_token([this](const ProviderRequest&) {
    ProviderAnswer a = op_->token_answer("");
    a.delay = std::chrono::milliseconds(300);
    return a;
  });
  constexpr int kRequests = 20;
  std::atomic<int> refreshed{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kRequests; ++i) {
    threads.emplace_back([&] {
      Session mine = next_request(s);
      auto token = rp_->access_token(mine);
      if (!token) {
        ++failed;
        ADD_FAILURE() << token.error().describe();
        return;
      }
      EXPECT_EQ(token->token, "at-2");
      refreshed += token->refreshed ? 1 : 0;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(refreshed.load(), 1);
  EXPECT_EQ(op_->count("/token", "grant_type", "refresh_token"), 1);
}

TEST_P(RelyingPartyTest, InvalidGrantSignsTheUserOut) {
  Session s = signed_in({}, 0);
  op_->on_token([](const ProviderRequest&) { return ProviderAnswer{400, R"({"error":"invalid_grant"})"}; });
  auto token = rp_->access_token(s);
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().service_type, kInvalidGrant);
  EXPECT_TRUE(needs_sign_in(token.error()));
  EXPECT_TRUE(s.is_destroyed());
  EXPECT_EQ(alice_sessions(), 0U);
  EXPECT_TRUE(s.cookie_changed());
}

TEST_P(RelyingPartyTest, AnUnreachableProviderIsUnavailableAndTheSessionStays) {
  Session s = signed_in({}, 0);
  for (const ProviderAnswer& answer :
       {ProviderAnswer{503, R"({"error":"temporarily_unavailable"})"}, ProviderAnswer{502, "bad gateway"},
        ProviderAnswer{200, "{}", "application/json", std::chrono::milliseconds(3000)}}) {
    op_->on_token([answer](const ProviderRequest&) { return answer; });
    Session mine = next_request(s);
    const auto t0 = std::chrono::steady_clock::now();
    auto token = rp_->access_token(mine);
    ASSERT_FALSE(token);
    EXPECT_EQ(token.error().code, ErrorCode::unavailable) << token.error().describe();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(2800));
    Session kept = next_request(s);
    EXPECT_TRUE(rp_->is_signed_in(kept));
    EXPECT_EQ(kept.get_string("refresh_token"), "rt-1");
  }
}

TEST_P(RelyingPartyTest, ARefreshedIdTokenForAnotherSubjectIsRefused) {
  Session s = signed_in({}, 0);
  op_->on_token([this](const ProviderRequest&) { return op_->token_answer(op_->id_token("", {{"sub", "mallory"}})); });
  auto token = rp_->access_token(s);
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().code, ErrorCode::internal);
  EXPECT_EQ(next_request(s).get_string("sub"), "alice-sub");
}

TEST_P(RelyingPartyTest, UserInfoUsesTheAccessToken) {
  Session s = signed_in();
  auto info = rp_->userinfo(s);
  ASSERT_TRUE(info) << info.error().describe();
  EXPECT_EQ(info->claims.at("name").as_string(), "Alice Example");
  EXPECT_FALSE(info->refreshed);
  EXPECT_EQ(op_->last("/userinfo").authorization, "Bearer at-1");
  op_->on_userinfo([](const ProviderRequest&) { return ProviderAnswer{200, R"({"sub":"mallory"})"}; });
  EXPECT_FALSE(rp_->userinfo(s));
  Session anonymous = browser();
  auto refused = rp_->userinfo(anonymous);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().service_type, kNotSignedIn);
  EXPECT_TRUE(needs_sign_in(refused.error()));
}

TEST_P(RelyingPartyTest, TheThreeFormsOfAnOperationAgree) {
  Session s = signed_in();
  boost::asio::io_context io;
  std::future<Result<AccessToken>> future = rp_->async_access_token(s, boost::asio::use_future);
  auto via_future = future.get();
  ASSERT_TRUE(via_future);
  std::optional<Result<AccessToken>> via_coroutine;
  boost::asio::co_spawn(
      io, [&]() -> Task<void> { via_coroutine.emplace(co_await rp_->co_access_token(s)); }, boost::asio::detached);
  io.run();
  ASSERT_TRUE(via_coroutine && *via_coroutine);
  EXPECT_EQ((*via_coroutine)->token, via_future->token);
  EXPECT_EQ(rp_->access_token(s)->token, via_future->token);
}

// --- sign-out, back-channel logout ----------------------------------------------------------------

TEST_P(RelyingPartyTest, SignOutDestroysRevokesAndRedirectsToTheProvider) {
  Session s = signed_in();
  const std::string id_token = *s.get_string("id_token");
  auto out = rp_->sign_out(s);
  ASSERT_TRUE(out) << out.error().describe();
  EXPECT_TRUE(out->was_signed_in);
  EXPECT_TRUE(out->revoked);
  EXPECT_TRUE(s.is_destroyed());
  EXPECT_EQ(alice_sessions(), 0U);
  EXPECT_EQ(out->redirect_to.rfind(op_->issuer() + "/session/end?", 0), 0U) << out->redirect_to;
  EXPECT_EQ(param(out->redirect_to, "id_token_hint"), id_token);
  EXPECT_EQ(param(out->redirect_to, "post_logout_redirect_uri"), "http://127.0.0.1:9/");
  EXPECT_EQ(param(out->redirect_to, "client_id"), op_->client_id());
  const ProviderRequest revoke = op_->last("/revoke");
  EXPECT_EQ(revoke.form.at("token"), "rt-1");
  EXPECT_EQ(revoke.form.at("token_type_hint"), "refresh_token");
  EXPECT_EQ(revoke.authorization.rfind("Basic ", 0), 0U);
}

TEST_P(RelyingPartyTest, SignOutWorksWhenTheProviderDoesNotAndForLocalSessions) {
  Session s = signed_in();
  op_->on_revocation([](const ProviderRequest&) { return ProviderAnswer{503, "down"}; });
  auto out = rp_->sign_out(s);
  ASSERT_TRUE(out);
  EXPECT_FALSE(out->revoked);
  EXPECT_TRUE(s.is_destroyed());
  Session local = browser();
  local.sign_in({"alice", "", "ua", false});
  local.set("user", "alice");
  ASSERT_TRUE(local.save());
  auto local_out = rp_->sign_out(local);
  ASSERT_TRUE(local_out);
  EXPECT_FALSE(local_out->was_signed_in);
  EXPECT_EQ(local_out->redirect_to, "/");
  EXPECT_TRUE(local.is_destroyed());
}

std::string logout_token(HostileHttpProvider& op, const json::object& overrides = {}) {
  json::object claims = op.minter().logout_token_claims(op.client_id(), std::chrono::system_clock::now());
  claims["jti"] = random_token(12);
  for (const auto& [name, value] : overrides) {
    if (value.is_null()) {
      claims.erase(name);
    } else {
      claims[name] = value;
    }
  }
  return HostileProvider::mint({{"alg", "RS256"}, {"typ", "logout+jwt"}}, claims, op.minter().key(0));
}

TEST_P(RelyingPartyTest, BackchannelLogoutEndsTheProviderSessionOnceOnly) {
  Session a = signed_in();                             // sid session-1
  Session b = signed_in({{"sid", "session-2"}});       // the same user elsewhere
  Session c = signed_in();                             // session-1 again (another tab of that browser)
  ASSERT_EQ(alice_sessions(), 3U);
  const std::string token = logout_token(*op_);
  auto r = rp_->backchannel_logout(token);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->sessions_ended, 2U);
  EXPECT_FALSE(rp_->is_signed_in(next_request(a)));
  EXPECT_TRUE(rp_->is_signed_in(next_request(b)));
  auto replay = rp_->backchannel_logout(token);
  ASSERT_FALSE(replay);
  EXPECT_EQ(replay.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(replay.error().service_type, kReplayed);
  // Without sid: every session of the subject.
  auto by_sub = rp_->backchannel_logout(logout_token(*op_, {{"sid", nullptr}}));
  ASSERT_TRUE(by_sub) << by_sub.error().describe();
  EXPECT_EQ(by_sub->sessions_ended, 1U);
  EXPECT_EQ(alice_sessions(), 0U);
}

TEST_P(RelyingPartyTest, InvalidLogoutTokensAreRefused) {
  Session a = signed_in();
  const auto now = std::chrono::system_clock::now();
  const std::vector<std::string> tokens = {
      HostileProvider::mint_unsigned(op_->minter().logout_token_claims(op_->client_id(), now)),
      logout_token(*op_, {{"aud", "someone-else"}}),
      logout_token(*op_, {{"iss", "https://evil.example"}}),
      logout_token(*op_, {{"events", nullptr}}),
      logout_token(*op_, {{"nonce", "n"}}),
      logout_token(*op_, {{"jti", nullptr}}),
      logout_token(*op_, {{"iat", testing::epoch(now) - 3600}, {"exp", testing::epoch(now) + 60}}),
      op_->id_token("nonce"),
      "garbage",
  };
  for (const std::string& token : tokens) {
    auto r = rp_->backchannel_logout(token);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::invalid_argument) << r.error().describe();
  }
  EXPECT_TRUE(rp_->is_signed_in(next_request(a)));
}

TEST_P(RelyingPartyTest, ConcurrentDeliveriesOfOneLogoutTokenHaveOneWinner) {
  signed_in();
  const std::string token = logout_token(*op_);
  std::atomic<int> ok{0};
  std::atomic<int> replayed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto r = rp_->backchannel_logout(token);
      if (r) ++ok;
      if (!r && r.error().service_type == kReplayed) ++replayed;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(replayed.load(), 7);
}

INSTANTIATE_TEST_SUITE_P(Stores, RelyingPartyTest, ::testing::Values("memory", "dynamodb"),
                         [](const auto& p) { return p.param; });

// --- options ------------------------------------------------------------------------------------

TEST(RelyingPartyOptions, InvalidOptionsNameTheOption) {
  auto store = std::make_shared<MemorySessionStore>();
  auto valid = [&] {
    RelyingPartyOptions o;
    o.issuer = "https://login.example.com";
    o.client_id = "app";
    o.client_secret = "secret";
    o.redirect_uri = "https://app.example.com/auth/callback";
    o.store = store;
    return o;
  };
  EXPECT_NO_THROW(RelyingParty{valid()});
  const std::vector<std::pair<std::string, std::function<void(RelyingPartyOptions&)>>> cases = {
      {"issuer", [](auto& o) { o.issuer.clear(); }},
      {"issuer", [](auto& o) { o.issuer = "http://login.example.com"; }},
      {"issuer", [](auto& o) { o.issuer = "https://login.example.com?x=1"; }},
      {"client_id", [](auto& o) { o.client_id.clear(); }},
      {"client_secret", [](auto& o) { o.client_secret.clear(); }},
      {"redirect_uri", [](auto& o) { o.redirect_uri = "/auth/callback"; }},
      {"redirect_uri", [](auto& o) { o.redirect_uri = "http://app.example.com/auth/callback"; }},
      {"redirect_uri", [](auto& o) { o.redirect_uri = "https://app.example.com/cb#frag"; }},
      {"post_logout_redirect_uri", [](auto& o) { o.post_logout_redirect_uri = "nope"; }},
      {"scopes", [](auto& o) { o.scopes = "profile email"; }},
      {"store", [](auto& o) { o.store = nullptr; }},
      {"store", [](auto& o) {
         MemorySessionStoreOptions m;
         m.lock_verification_property = "other";
         o.store = std::make_shared<MemorySessionStore>(m);
       }},
      {"clock_skew", [](auto& o) { o.clock_skew = std::chrono::seconds(-1); }},
      {"sign_in_lifetime", [](auto& o) { o.sign_in_lifetime = std::chrono::seconds(0); }},
      {"token_timeout", [](auto& o) { o.token_timeout = std::chrono::milliseconds(0); }},
      {"request_timeout", [](auto& o) { o.request_timeout = std::chrono::hours(1); }},
      {"tls.verify", [](auto& o) { o.tls.verify = false; }},
      {"authorization_params", [](auto& o) { o.authorization_params = {{"state", "mine"}}; }},
  };
  for (const auto& [name, spoil] : cases) {
    RelyingPartyOptions o = valid();
    spoil(o);
    try {
      RelyingParty rp(o);
      ADD_FAILURE() << name << " was accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).rfind(name, 0), 0U) << name << ": " << e.what();
    }
  }
}

TEST(RelyingPartyOptions, TheSecretIsNotKeptInTheOptions) {
  RelyingPartyOptions o;
  o.issuer = "http://127.0.0.1:1";
  o.client_id = "app";
  o.client_secret = "very-secret";
  o.redirect_uri = "http://127.0.0.1:2/cb";
  o.store = std::make_shared<MemorySessionStore>();
  RelyingParty rp(o);
  EXPECT_TRUE(rp.options().client_secret.empty());
}

TEST(RelyingPartyHelpers, OwnersSidsAndForms) {
  EXPECT_EQ(owner_for("https://op.example.com", "248289761001"), "oidc:https://op.example.com#248289761001");
  EXPECT_EQ(sid_for("https://op.example.com", "abc"), "https://op.example.com#abc");
  EXPECT_EQ(sid_for("https://op.example.com", ""), "");
  EXPECT_EQ(*form_parameter("a=1&return_to=%2Forders%3Fx%3D1&b=", "return_to"), std::optional<std::string>("/orders?x=1"));
  EXPECT_EQ(*form_parameter("logout_token=a+b", "logout_token"), std::optional<std::string>("a b"));
  EXPECT_EQ(*form_parameter("a=1", "b"), std::optional<std::string>());
  EXPECT_FALSE(form_parameter("b=1&b=2", "b"));
  EXPECT_FALSE(form_parameter("b=%zz", "b"));
}

TEST(RelyingPartyHelpers, WhichErrorsMeanSignInAgain) {
  EXPECT_TRUE(needs_sign_in(Error(ErrorCode::not_found, "", std::string(kNotSignedIn))));
  EXPECT_TRUE(needs_sign_in(Error(ErrorCode::not_found, "", std::string(kLoginRequired))));
  EXPECT_TRUE(needs_sign_in(Error(ErrorCode::not_found, "", std::string(kInvalidGrant))));
  EXPECT_FALSE(needs_sign_in(Error(ErrorCode::invalid_argument, "", std::string(kInvalidGrant))));
  EXPECT_FALSE(needs_sign_in(Error(ErrorCode::unavailable, "down")));
}

}  // namespace
}  // namespace websession::oidc
