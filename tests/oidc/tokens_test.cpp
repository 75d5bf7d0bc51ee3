#include "websession/oidc/tokens.h"

#include <gtest/gtest.h>

#include "oidc/support/hostile_provider.h"

namespace websession::oidc {
namespace {

using std::chrono::seconds;
using testing::HostileProvider;
using testing::SigningKey;

constexpr std::string_view kClient = "demo-client";
constexpr std::string_view kNonce = "n-0S6_WzA2Mj";

class TokensTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    provider_ = new HostileProvider("https://op.example.com");
    provider_->add_key(SigningKey::rsa("rsa-1"));
    provider_->add_key(SigningKey::ec_p256("ec-1"));
    jwks_ = new Jwks(std::move(*Jwks::parse(provider_->jwks_json())));
  }
  static void TearDownTestSuite() {
    delete jwks_;
    delete provider_;
  }

  IdTokenCheck id_check() const {
    IdTokenCheck c;
    c.issuer = provider_->issuer();
    c.client_id = std::string(kClient);
    c.nonce = std::string(kNonce);
    return c;
  }
  LogoutTokenCheck logout_check() const {
    LogoutTokenCheck c;
    c.issuer = provider_->issuer();
    c.client_id = std::string(kClient);
    return c;
  }
  boost::json::object id_claims() const { return provider_->id_token_claims(kClient, kNonce, now_); }
  boost::json::object logout_claims() const { return provider_->logout_token_claims(kClient, now_); }

  static std::string sign(const boost::json::object& claims, std::string_view alg = "RS256",
                          boost::json::object header = {}) {
    header["alg"] = alg;
    return HostileProvider::mint(std::move(header), claims, provider_->key(alg == "ES256" ? 1 : 0));
  }
  Result<IdTokenClaims> validate(const boost::json::object& claims, const IdTokenCheck& check) const {
    return validate_id_token(sign(claims), *jwks_, check, now_);
  }
  Result<LogoutTokenClaims> validate_logout(const std::string& token) const {
    return validate_logout_token(token, *jwks_, logout_check(), now_);
  }

  // Expects a refusal whose message contains `fragment`.
  template <class R>
  static void expect_refused(const R& r, std::string_view fragment) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
    EXPECT_NE(r.error().message.find(fragment), std::string::npos) << r.error().message;
  }

  static HostileProvider* provider_;
  static Jwks* jwks_;
  TimePoint now_ = TimePoint(seconds(1'750'000'000));
};

HostileProvider* TokensTest::provider_ = nullptr;
Jwks* TokensTest::jwks_ = nullptr;

// --- ID tokens -------------------------------------------------------------------------------------

TEST_F(TokensTest, AcceptsAValidIdTokenAndReturnsItsClaims) {
  for (const char* alg : {"RS256", "PS256", "ES256"}) {
    auto r = validate_id_token(sign(id_claims(), alg), *jwks_, id_check(), now_);
    ASSERT_TRUE(r.ok()) << alg << ": " << r.error().message;
    EXPECT_EQ(r->issuer, "https://op.example.com");
    EXPECT_EQ(r->subject, "alice-sub");
    EXPECT_EQ(r->session_id, "session-1");
    EXPECT_EQ(r->preferred_username, "alice");
    EXPECT_EQ(r->email, "alice@example.com");
    EXPECT_EQ(r->email_verified, true);
    EXPECT_EQ(r->name, "Alice Example");
    EXPECT_EQ(r->nonce, kNonce);
    EXPECT_EQ(r->expires, now_ + seconds(300));
    EXPECT_EQ(r->issued_at, now_);
    ASSERT_TRUE(r->auth_time.has_value());
    EXPECT_EQ(r->audience, std::vector<std::string>{std::string(kClient)});
    EXPECT_EQ(r->display_name(), "alice");
    EXPECT_TRUE(r->claims.contains("sid"));
  }
}

TEST_F(TokensTest, DisplayNameFallsBackToEmailThenSubject) {
  auto claims = id_claims();
  claims.erase("preferred_username");
  auto r = validate(claims, id_check());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->display_name(), "alice@example.com");
  claims.erase("email");
  r = validate(claims, id_check());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->display_name(), "alice-sub");
}

TEST_F(TokensTest, RefusesWrongIssuer) {
  auto claims = id_claims();
  claims["iss"] = "https://evil.example.com";
  expect_refused(validate(claims, id_check()), "is not the configured issuer");
  claims["iss"] = "https://op.example.com/";  // exact comparison, no normalization
  expect_refused(validate(claims, id_check()), "is not the configured issuer");
  claims.erase("iss");
  expect_refused(validate(claims, id_check()), "no \"iss\"");
}

TEST_F(TokensTest, RefusesWrongAudience) {
  auto claims = id_claims();
  claims["aud"] = "other-client";
  expect_refused(validate(claims, id_check()), "not meant for this client");
  claims["aud"] = boost::json::array{"other-client"};
  expect_refused(validate(claims, id_check()), "not meant for this client");
  claims.erase("aud");
  expect_refused(validate(claims, id_check()), "not meant for this client");
  claims["aud"] = 7;
  expect_refused(validate(claims, id_check()), "\"aud\" is not an array of strings");
}

TEST_F(TokensTest, AudienceArrayNeedsAzpAndTrust) {
  auto claims = id_claims();
  claims["aud"] = boost::json::array{kClient, "api.example.com"};
  expect_refused(validate(claims, id_check()), "untrusted audience");
  IdTokenCheck check = id_check();
  check.trusted_audiences = {"api.example.com"};
  expect_refused(validate(claims, check), "several audiences but no \"azp\"");
  claims["azp"] = "api.example.com";
  expect_refused(validate(claims, check), "\"azp\" is not this client's ID");
  claims["azp"] = kClient;
  EXPECT_TRUE(validate(claims, check).ok());
  auto single = id_claims();
  single["aud"] = boost::json::array{kClient};
  EXPECT_TRUE(validate(single, id_check()).ok());
}

TEST_F(TokensTest, AzpIsCheckedWhenPresent) {
  auto claims = id_claims();
  claims["azp"] = "someone-else";
  expect_refused(validate(claims, id_check()), "\"azp\" is not this client's ID");
}

TEST_F(TokensTest, RefusesWrongOrMissingNonce) {
  auto claims = id_claims();
  claims["nonce"] = "replayed-nonce";
  expect_refused(validate(claims, id_check()), "nonce is not the one of this sign-in attempt");
  claims.erase("nonce");
  expect_refused(validate(claims, id_check()), "no \"nonce\"");
  IdTokenCheck empty = id_check();
  empty.nonce = "";
  claims["nonce"] = "";
  expect_refused(validate(claims, empty), "nonce");
}

TEST_F(TokensTest, RefreshedIdTokenSkipsNonceButKeepsTheSubject) {
  auto claims = id_claims();
  claims.erase("nonce");
  IdTokenCheck check = id_check();
  check.nonce.reset();
  check.subject = "alice-sub";
  EXPECT_TRUE(validate(claims, check).ok());
  check.subject = "bob-sub";
  expect_refused(validate(claims, check), "subject is not the one of the original sign-in");
}

TEST_F(TokensTest, RefusesExpiredTokensBeyondTheSkew) {
  auto claims = id_claims();
  claims["exp"] = testing::epoch(now_) - 30;  // within the 60 s skew
  EXPECT_TRUE(validate(claims, id_check()).ok());
  claims["exp"] = testing::epoch(now_) - 60;
  expect_refused(validate(claims, id_check()), "has expired");
  IdTokenCheck strict = id_check();
  strict.clock_skew = seconds(0);
  claims["exp"] = testing::epoch(now_);
  expect_refused(validate(claims, strict), "has expired");
  claims.erase("exp");
  expect_refused(validate(claims, id_check()), "no \"exp\"");
  claims["exp"] = "tomorrow";
  expect_refused(validate(claims, id_check()), "\"exp\" is not a number");
  claims["exp"] = 1e300;
  expect_refused(validate(claims, id_check()), "\"exp\" is not a date");
}

TEST_F(TokensTest, RefusesTokensIssuedInTheFuture) {
  auto claims = id_claims();
  claims["iat"] = testing::epoch(now_) + 60;
  EXPECT_TRUE(validate(claims, id_check()).ok());
  claims["iat"] = testing::epoch(now_) + 61;
  expect_refused(validate(claims, id_check()), "issued in the future");
  claims.erase("iat");
  expect_refused(validate(claims, id_check()), "no \"iat\"");
}

TEST_F(TokensTest, OptionalMaximumTokenAge) {
  auto claims = id_claims();
  claims["iat"] = testing::epoch(now_) - 600;
  EXPECT_TRUE(validate(claims, id_check()).ok());
  IdTokenCheck check = id_check();
  check.max_token_age = seconds(300);
  expect_refused(validate(claims, check), "issued too long ago");
}

TEST_F(TokensTest, MaxAgeNeedsARecentAuthTime) {
  IdTokenCheck check = id_check();
  check.max_age = seconds(60);
  auto claims = id_claims();
  EXPECT_TRUE(validate(claims, check).ok());  // auth_time 10 s ago
  claims["auth_time"] = testing::epoch(now_) - 3600;
  expect_refused(validate(claims, check), "older than the requested max_age");
  claims.erase("auth_time");
  expect_refused(validate(claims, check), "no \"auth_time\"");
  IdTokenCheck required = id_check();
  required.require_auth_time = true;
  expect_refused(validate(claims, required), "no \"auth_time\"");
}

TEST_F(TokensTest, RefusesMissingSubject) {
  auto claims = id_claims();
  claims["sub"] = "";
  expect_refused(validate(claims, id_check()), "no \"sub\"");
  claims.erase("sub");
  expect_refused(validate(claims, id_check()), "no \"sub\"");
}

TEST_F(TokensTest, AlgorithmMustBeOneTheProviderUses) {
  IdTokenCheck check = id_check();
  check.algorithms = {JwsAlgorithm::rs256};
  EXPECT_TRUE(validate_id_token(sign(id_claims(), "RS256"), *jwks_, check, now_).ok());
  expect_refused(validate_id_token(sign(id_claims(), "ES256"), *jwks_, check, now_), "does not allow");
}

TEST_F(TokensTest, HostileIdTokensAreRefused) {
  const auto claims = id_claims();
  expect_refused(validate_id_token(HostileProvider::mint_unsigned(claims), *jwks_, id_check(), now_),
                 "\"none\" is not accepted");
  const std::string hs = HostileProvider::mint_hmac({{"alg", "HS256"}, {"kid", "rsa-1"}}, claims,
                                                    provider_->key(0).public_key_pem());
  expect_refused(validate_id_token(hs, *jwks_, id_check(), now_), "\"HS256\" is not accepted");
  const SigningKey stranger = SigningKey::rsa("stranger");
  auto unknown = validate_id_token(HostileProvider::mint({{"alg", "RS256"}}, claims, stranger), *jwks_, id_check(), now_);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().service_type, kUnknownKey);
  expect_refused(validate_id_token(sign(claims, "RS256", {{"crit", boost::json::array{"b64"}}, {"b64", false}}), *jwks_,
                                   id_check(), now_),
                 "\"crit\"");
}

TEST_F(TokensTest, LogoutTokenIsNotAnIdToken) {
  auto claims = logout_claims();
  claims["nonce"] = kNonce;
  claims["exp"] = testing::epoch(now_) + 60;
  IdTokenCheck check = id_check();
  expect_refused(validate_id_token(sign(claims, "RS256", {{"typ", "logout+jwt"}}), *jwks_, check, now_),
                 "typed as a logout token");
  expect_refused(validate_id_token(sign(claims), *jwks_, check, now_), "back-channel logout event");
  expect_refused(validate_id_token(sign(id_claims(), "RS256", {{"typ", "at+jwt"}}), *jwks_, check, now_),
                 "typed as an access token");
  EXPECT_TRUE(validate_id_token(sign(id_claims(), "RS256", {{"typ", "JWT"}}), *jwks_, check, now_).ok());
}

TEST_F(TokensTest, ErrorsNeverQuoteTheNonceOrTheToken) {
  auto claims = id_claims();
  claims["nonce"] = "attacker-nonce-value";
  const std::string token = sign(claims);
  auto r = validate_id_token(token, *jwks_, id_check(), now_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.find("attacker-nonce-value"), std::string::npos);
  EXPECT_EQ(r.error().message.find(std::string(kNonce)), std::string::npos);
  EXPECT_EQ(r.error().message.find(token.substr(0, 16)), std::string::npos);
}

// --- logout tokens ---------------------------------------------------------------------------------

TEST_F(TokensTest, AcceptsAValidLogoutToken) {
  for (const char* typ : {"logout+jwt", "application/logout+jwt", "JWT", ""}) {
    boost::json::object header;
    if (*typ != '\0') header["typ"] = typ;
    auto r = validate_logout(sign(logout_claims(), "ES256", header));
    ASSERT_TRUE(r.ok()) << typ << ": " << r.error().message;
    EXPECT_EQ(r->subject, "alice-sub");
    EXPECT_EQ(r->session_id, "session-1");
    EXPECT_EQ(r->jwt_id, "logout-jti-1");
    EXPECT_EQ(r->issued_at, now_);
    ASSERT_TRUE(r->expires.has_value());
    EXPECT_EQ(r->replay_until, now_ + seconds(120) + kDefaultClockSkew);
  }
}

TEST_F(TokensTest, LogoutTokenWithOnlySidOrOnlySub) {
  auto claims = logout_claims();
  claims.erase("sub");
  auto r = validate_logout(sign(claims));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->subject.empty());
  claims = logout_claims();
  claims.erase("sid");
  r = validate_logout(sign(claims));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->session_id.empty());
  claims.erase("sub");
  expect_refused(validate_logout(sign(claims)), "neither \"sub\" nor \"sid\"");
}

TEST_F(TokensTest, LogoutTokenWithoutExpIsRememberedForTheMaximumAge) {
  auto claims = logout_claims();
  claims.erase("exp");
  auto r = validate_logout(sign(claims));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->expires.has_value());
  EXPECT_EQ(r->replay_until, now_ + seconds(600) + kDefaultClockSkew);
}

TEST_F(TokensTest, LogoutTokenRules) {
  auto claims = logout_claims();
  claims["nonce"] = "n";
  expect_refused(validate_logout(sign(claims)), "must not have");
  claims = logout_claims();
  claims.erase("events");
  expect_refused(validate_logout(sign(claims)), "no back-channel logout event");
  claims["events"] = boost::json::object{{"http://schemas.openid.net/event/other", boost::json::object{}}};
  expect_refused(validate_logout(sign(claims)), "no back-channel logout event");
  claims["events"] = boost::json::object{{std::string(kBackchannelLogoutEvent), "yes"}};
  expect_refused(validate_logout(sign(claims)), "is not a JSON object");
  claims["events"] = boost::json::array{};
  expect_refused(validate_logout(sign(claims)), "\"events\" is not a JSON object");
  claims = logout_claims();
  claims.erase("jti");
  expect_refused(validate_logout(sign(claims)), "no \"jti\"");
  claims = logout_claims();
  expect_refused(validate_logout(sign(claims, "RS256", {{"typ", "at+jwt"}})), "is not logout+jwt");
}

TEST_F(TokensTest, LogoutTokenTimes) {
  auto claims = logout_claims();
  claims["exp"] = testing::epoch(now_) - 120;
  expect_refused(validate_logout(sign(claims)), "has expired");
  claims = logout_claims();
  claims["iat"] = testing::epoch(now_) + 600;
  expect_refused(validate_logout(sign(claims)), "issued in the future");
  claims["iat"] = testing::epoch(now_) - 3600;
  claims.erase("exp");
  expect_refused(validate_logout(sign(claims)), "issued too long ago");
  claims.erase("iat");
  expect_refused(validate_logout(sign(claims)), "no \"iat\"");
}

TEST_F(TokensTest, LogoutTokenIssuerAndAudience) {
  auto claims = logout_claims();
  claims["iss"] = "https://evil.example.com";
  expect_refused(validate_logout(sign(claims)), "is not the configured issuer");
  claims = logout_claims();
  claims["aud"] = "other";
  expect_refused(validate_logout(sign(claims)), "not meant for this client");
}

TEST_F(TokensTest, HostileLogoutTokensAreRefused) {
  const auto claims = logout_claims();
  expect_refused(validate_logout(HostileProvider::mint_unsigned(claims)), "\"none\"");
  expect_refused(validate_logout(HostileProvider::mint_hmac({{"alg", "HS256"}, {"typ", "logout+jwt"}}, claims,
                                                            provider_->key(1).public_key_der())),
                 "\"HS256\"");
  const SigningKey stranger = SigningKey::ec_p256("ec-1");  // a published kid, another key
  expect_refused(validate_logout(HostileProvider::mint({{"alg", "ES256"}}, claims, stranger)), "does not verify");
}

}  // namespace
}  // namespace websession::oidc
