#include "websession/oidc/jose.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "oidc/support/hostile_provider.h"

namespace websession::oidc {
namespace {

using testing::HostileProvider;
using testing::SigningKey;

// Keys are slow to generate: one of each kind for the whole suite.
const SigningKey& rsa_key() {
  static const SigningKey key = SigningKey::rsa("rsa-1");
  return key;
}
const SigningKey& ec_key() {
  static const SigningKey key = SigningKey::ec_p256("ec-1");
  return key;
}

Jwks jwks_of(std::initializer_list<boost::json::object> jwks) {
  boost::json::array keys;
  for (const auto& k : jwks) keys.push_back(k);
  auto parsed = Jwks::parse(boost::json::serialize(boost::json::object{{"keys", keys}}));
  EXPECT_TRUE(parsed.ok());
  return std::move(*parsed);
}

const boost::json::object kClaims{{"sub", "alice"}, {"iat", 1700000000}};

std::string expect_error(const Result<Jws>& r) {
  EXPECT_FALSE(r.ok());
  return r.ok() ? std::string() : r.error().message;
}

// --- base64url -------------------------------------------------------------------------------------

TEST(Base64url, RoundTripsEveryLength) {
  std::string bytes;
  for (int i = 0; i < 70; ++i) {
    auto decoded = base64url_decode(base64url_encode(bytes));
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(*decoded, bytes);
    bytes += static_cast<char>(i * 37);
  }
}

TEST(Base64url, EncodesRfc4648Vectors) {
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
}

TEST(Base64url, RefusesPaddingWhitespaceAndOtherAlphabets) {
  EXPECT_FALSE(base64url_decode("Zg==").ok());
  EXPECT_FALSE(base64url_decode("Zm 9v").ok());
  EXPECT_FALSE(base64url_decode("Zm9v\n").ok());
  EXPECT_FALSE(base64url_decode("+/8").ok());
  EXPECT_FALSE(base64url_decode("Z").ok());  // 4n+1 characters encode nothing
}

TEST(Base64url, RefusesNonCanonicalTrailingBits) {
  EXPECT_TRUE(base64url_decode("Zg").ok());
  EXPECT_FALSE(base64url_decode("Zh").ok());   // same byte, low bits set
  EXPECT_TRUE(base64url_decode("Zm8").ok());
  EXPECT_FALSE(base64url_decode("Zm9").ok());
}

// --- algorithms ------------------------------------------------------------------------------------

TEST(JwsAlgorithm, OnlyTheAllowListParses) {
  EXPECT_EQ(parse_jws_algorithm("RS256"), JwsAlgorithm::rs256);
  EXPECT_EQ(parse_jws_algorithm("PS256"), JwsAlgorithm::ps256);
  EXPECT_EQ(parse_jws_algorithm("ES256"), JwsAlgorithm::es256);
  for (const char* name : {"none", "None", "HS256", "HS512", "RS512", "ES384", "EdDSA", "rs256", ""}) {
    EXPECT_FALSE(parse_jws_algorithm(name).has_value()) << name;
  }
}

// --- JWK -------------------------------------------------------------------------------------------

TEST(PublicKey, LoadsRsaFromModulusAndExponent) {
  auto key = PublicKey::from_jwk(rsa_key().public_jwk());
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(key->type(), KeyType::rsa);
  EXPECT_EQ(key->kid(), "rsa-1");
  EXPECT_EQ(key->bits(), 2048);
  EXPECT_TRUE(key->allows(JwsAlgorithm::rs256));
  EXPECT_TRUE(key->allows(JwsAlgorithm::ps256));
  EXPECT_FALSE(key->allows(JwsAlgorithm::es256));
  EXPECT_NE(key->native_handle(), nullptr);
}

TEST(PublicKey, LoadsEcP256FromCoordinates) {
  auto key = PublicKey::from_jwk(ec_key().public_jwk());
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(key->type(), KeyType::ec_p256);
  EXPECT_EQ(key->bits(), 256);
  EXPECT_TRUE(key->allows(JwsAlgorithm::es256));
  EXPECT_FALSE(key->allows(JwsAlgorithm::rs256));
}

TEST(PublicKey, IsMoveOnlyAndKeepsItsKey) {
  auto key = PublicKey::from_jwk(ec_key().public_jwk());
  ASSERT_TRUE(key.ok());
  PublicKey moved = std::move(*key);
  EXPECT_EQ(moved.bits(), 256);
  static_assert(!std::is_copy_constructible_v<PublicKey>);
}

TEST(PublicKey, AlgMemberRestrictsTheKey) {
  auto key = PublicKey::from_jwk(rsa_key().public_jwk("PS256"));
  ASSERT_TRUE(key.ok());
  EXPECT_TRUE(key->allows(JwsAlgorithm::ps256));
  EXPECT_FALSE(key->allows(JwsAlgorithm::rs256));
  auto odd = PublicKey::from_jwk(rsa_key().public_jwk("HS256"));
  ASSERT_TRUE(odd.ok());
  for (const JwsAlgorithm alg : kAllowedAlgorithms) EXPECT_FALSE(odd->allows(alg));
}

TEST(PublicKey, RefusesShortRsaKeys) {
  const SigningKey small = SigningKey::rsa("small", 1024);
  auto key = PublicKey::from_jwk(small.public_jwk());
  ASSERT_FALSE(key.ok());
  EXPECT_NE(key.error().message.find("1024 bits; at least 2048"), std::string::npos) << key.error().message;
}

TEST(PublicKey, RefusesEvenOrTinyExponents) {
  auto jwk = rsa_key().public_jwk();
  jwk["e"] = base64url_encode(std::string("\x01\x00\x00", 3));  // 65536: even
  EXPECT_FALSE(PublicKey::from_jwk(jwk).ok());
  jwk["e"] = base64url_encode(std::string("\x01", 1));
  EXPECT_FALSE(PublicKey::from_jwk(jwk).ok());
}

TEST(PublicKey, RefusesPointsOffTheCurve) {
  auto jwk = ec_key().public_jwk();
  std::string y = *base64url_decode(std::string(jwk["y"].as_string()));
  y[31] = static_cast<char>(y[31] ^ 1);
  jwk["y"] = base64url_encode(y);
  auto key = PublicKey::from_jwk(jwk);
  ASSERT_FALSE(key.ok());
  EXPECT_NE(key.error().message.find("not on the curve"), std::string::npos) << key.error().message;
}

TEST(PublicKey, RefusesShortCoordinatesOtherCurvesAndTypes) {
  auto jwk = ec_key().public_jwk();
  jwk["x"] = base64url_encode(std::string(31, 'x'));
  EXPECT_FALSE(PublicKey::from_jwk(jwk).ok());
  jwk = ec_key().public_jwk();
  jwk["crv"] = "P-384";
  EXPECT_FALSE(PublicKey::from_jwk(jwk).ok());
  EXPECT_FALSE(PublicKey::from_jwk_json(R"({"kty":"oct","k":"c2VjcmV0"})").ok());
  EXPECT_FALSE(PublicKey::from_jwk_json(R"({"kty":"OKP","crv":"Ed25519","x":"AAAA"})").ok());
  EXPECT_FALSE(PublicKey::from_jwk_json(R"({"n":"AQAB","e":"AQAB"})").ok());
  EXPECT_FALSE(PublicKey::from_jwk_json("not json").ok());
}

TEST(PublicKey, RefusesMembersThatAreNotStrictBase64url) {
  auto jwk = rsa_key().public_jwk();
  jwk["n"] = std::string(jwk["n"].as_string()) + "=";
  EXPECT_FALSE(PublicKey::from_jwk(jwk).ok());
  jwk = rsa_key().public_jwk();
  jwk["e"] = 65537;
  EXPECT_FALSE(PublicKey::from_jwk(jwk).ok());
}

// --- JWKS ------------------------------------------------------------------------------------------

TEST(Jwks, SelectsByKidAndAlgorithm) {
  const Jwks jwks = jwks_of({rsa_key().public_jwk(), ec_key().public_jwk()});
  ASSERT_EQ(jwks.size(), 2U);
  auto rsa = jwks.select("rsa-1", JwsAlgorithm::rs256);
  ASSERT_TRUE(rsa.ok());
  EXPECT_EQ((*rsa)->kid(), "rsa-1");
  auto ec = jwks.select("ec-1", JwsAlgorithm::es256);
  ASSERT_TRUE(ec.ok());
  EXPECT_EQ((*ec)->kid(), "ec-1");
  EXPECT_TRUE(jwks.contains("rsa-1"));
  EXPECT_FALSE(jwks.contains("other"));
}

TEST(Jwks, UnknownKidIsTellableApartSoTheCallerCanRefetch) {
  const Jwks jwks = jwks_of({rsa_key().public_jwk()});
  auto r = jwks.select("rotated-away", JwsAlgorithm::rs256);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().service_type, kUnknownKey);
  EXPECT_NE(r.error().message.find("\"rotated-away\""), std::string::npos);
}

TEST(Jwks, KeyOfTheWrongTypeIsNotUsed) {
  const Jwks jwks = jwks_of({rsa_key().public_jwk(), ec_key().public_jwk()});
  auto r = jwks.select("rsa-1", JwsAlgorithm::es256);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().service_type, kInvalidToken);
  EXPECT_FALSE(jwks.select("ec-1", JwsAlgorithm::rs256).ok());
}

TEST(Jwks, SkipsKeysForOtherUsesAndTypes) {
  auto enc = rsa_key().public_jwk();
  enc["use"] = "enc";
  auto wrap_only = ec_key().public_jwk();
  wrap_only.erase("use");
  wrap_only["key_ops"] = boost::json::array{"wrapKey"};
  const Jwks jwks = jwks_of({enc, wrap_only, boost::json::object{{"kty", "oct"}, {"k", "c2VjcmV0"}, {"kid", "hmac"}},
                             boost::json::object{{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", "AA"}}});
  EXPECT_EQ(jwks.size(), 0U);
  EXPECT_FALSE(jwks.select("hmac", JwsAlgorithm::rs256).ok());
}

TEST(Jwks, RemembersWhyAKeyWasUnusable) {
  const SigningKey small = SigningKey::rsa("small", 1024);
  const Jwks jwks = jwks_of({small.public_jwk(), ec_key().public_jwk()});
  EXPECT_EQ(jwks.size(), 1U);
  auto r = jwks.select("small", JwsAlgorithm::rs256);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("unusable"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("1024"), std::string::npos) << r.error().message;
}

TEST(Jwks, WithoutKidOnlyASingleCandidateIsUsed) {
  const SigningKey other = SigningKey::rsa("rsa-2");
  const Jwks one = jwks_of({rsa_key().public_jwk(), ec_key().public_jwk()});
  EXPECT_TRUE(one.select("", JwsAlgorithm::rs256).ok());
  const Jwks two = jwks_of({rsa_key().public_jwk(), other.public_jwk()});
  auto r = two.select("", JwsAlgorithm::rs256);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("no \"kid\""), std::string::npos);
}

TEST(Jwks, RefusesDocumentsWithoutKeys) {
  EXPECT_FALSE(Jwks::parse("{}").ok());
  EXPECT_FALSE(Jwks::parse(R"({"keys": {}})").ok());
  EXPECT_FALSE(Jwks::parse("[]").ok());
  EXPECT_TRUE(Jwks::parse(R"({"keys": []})").ok());
}

// --- JWS -------------------------------------------------------------------------------------------

class JwsTest : public ::testing::Test {
 protected:
  JwsTest() : jwks_(jwks_of({rsa_key().public_jwk(), ec_key().public_jwk()})) {}
  Jwks jwks_;
};

TEST_F(JwsTest, VerifiesEveryAllowedAlgorithm) {
  for (const auto& [alg, key] : {std::pair{"RS256", &rsa_key()}, std::pair{"PS256", &rsa_key()},
                                 std::pair{"ES256", &ec_key()}}) {
    const std::string token = HostileProvider::mint({{"alg", alg}, {"typ", "JWT"}}, kClaims, *key);
    auto r = verify_jws(token, jwks_);
    ASSERT_TRUE(r.ok()) << alg << ": " << r.error().message;
    EXPECT_EQ(to_string(r->alg), alg);
    EXPECT_EQ(r->typ, "JWT");
    EXPECT_EQ(r->kid, key->kid());
    EXPECT_EQ(r->payload, boost::json::serialize(kClaims));
  }
}

TEST_F(JwsTest, TamperedPayloadFails) {
  for (const auto& [alg, key] : {std::pair{"RS256", &rsa_key()}, std::pair{"PS256", &rsa_key()},
                                 std::pair{"ES256", &ec_key()}}) {
    const std::string token = HostileProvider::mint({{"alg", alg}}, kClaims, *key);
    const std::size_t dot = token.find('.');
    const std::string forged = token.substr(0, dot + 1) +
                               HostileProvider::encode_part({{"sub", "mallory"}, {"iat", 1700000000}}) +
                               token.substr(token.rfind('.'));
    const std::string message = expect_error(verify_jws(forged, jwks_));
    EXPECT_NE(message.find("does not verify"), std::string::npos) << alg << ": " << message;
  }
}

TEST_F(JwsTest, TamperedSignatureFails) {
  for (const auto& [alg, key] : {std::pair{"RS256", &rsa_key()}, std::pair{"ES256", &ec_key()}}) {
    const std::string token = HostileProvider::mint({{"alg", alg}}, kClaims, *key);
    std::string sig = *base64url_decode(token.substr(token.rfind('.') + 1));
    sig[sig.size() / 2] = static_cast<char>(sig[sig.size() / 2] ^ 0x01);
    const std::string forged = token.substr(0, token.rfind('.') + 1) + base64url_encode(sig);
    EXPECT_FALSE(verify_jws(forged, jwks_).ok()) << alg;
  }
}

TEST_F(JwsTest, Es256NeedsRawSignaturesNotDer) {
  const boost::json::object header{{"alg", "ES256"}, {"kid", "ec-1"}};
  const std::string input = HostileProvider::encode_part(header) + "." + HostileProvider::encode_part(kClaims);
  const std::string der = input + "." + base64url_encode(ec_key().sign("ES256", input, true));
  const std::string message = expect_error(verify_jws(der, jwks_));
  EXPECT_NE(message.find("not 64"), std::string::npos) << message;
}

TEST_F(JwsTest, RefusesAlgNone) {
  const std::string message = expect_error(verify_jws(HostileProvider::mint_unsigned(kClaims), jwks_));
  EXPECT_NE(message.find("\"none\" is not accepted"), std::string::npos) << message;
}

TEST_F(JwsTest, RefusesHs256KeyedWithThePublicKey) {
  // The classic algorithm confusion: an attacker signs with HMAC, using the public key as secret.
  for (const std::string& secret : {rsa_key().public_key_pem(), rsa_key().public_key_der(),
                                    boost::json::serialize(rsa_key().public_jwk())}) {
    const std::string token = HostileProvider::mint_hmac({{"alg", "HS256"}, {"kid", "rsa-1"}}, kClaims, secret);
    const std::string message = expect_error(verify_jws(token, jwks_));
    EXPECT_NE(message.find("\"HS256\" is not accepted"), std::string::npos) << message;
  }
}

TEST_F(JwsTest, RefusesHmacSignatureUnderAnAllowedAlgName) {
  const std::string token = HostileProvider::mint_hmac({{"alg", "RS256"}, {"kid", "rsa-1"}}, kClaims,
                                                       rsa_key().public_key_pem());
  EXPECT_FALSE(verify_jws(token, jwks_).ok());
}

TEST_F(JwsTest, RefusesEcRsaConfusion) {
  // An RSA signature presented as ES256 with the RSA key's kid, and the other way round.
  const SigningKey& rsa = rsa_key();
  const std::string as_es = HostileProvider::mint({{"alg", "RS256"}}, kClaims, rsa);
  const std::string relabelled = HostileProvider::encode_part({{"alg", "ES256"}, {"kid", "rsa-1"}}) +
                                 as_es.substr(as_es.find('.'));
  EXPECT_FALSE(verify_jws(relabelled, jwks_).ok());
  const std::string es = HostileProvider::mint({{"alg", "ES256"}, {"kid", "rsa-1"}}, kClaims, ec_key());
  auto r = verify_jws(es, jwks_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("cannot verify ES256"), std::string::npos) << r.error().message;
}

TEST_F(JwsTest, RefusesKeysNotInTheJwks) {
  const SigningKey stranger = SigningKey::rsa("stranger");
  auto r = verify_jws(HostileProvider::mint({{"alg", "RS256"}}, kClaims, stranger), jwks_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().service_type, kUnknownKey);
  // The stranger's token claiming a published kid fails on the signature instead.
  auto spoofed = verify_jws(HostileProvider::mint({{"alg", "RS256"}, {"kid", "rsa-1"}}, kClaims, stranger), jwks_);
  ASSERT_FALSE(spoofed.ok());
  EXPECT_EQ(spoofed.error().service_type, kInvalidToken);
}

TEST_F(JwsTest, RefusesCriticalHeaders) {
  const std::string token = HostileProvider::mint({{"alg", "RS256"}, {"crit", boost::json::array{"exp"}}, {"exp", 1}},
                                                  kClaims, rsa_key());
  EXPECT_NE(expect_error(verify_jws(token, jwks_)).find("\"crit\""), std::string::npos);
}

TEST_F(JwsTest, IgnoresEmbeddedKeys) {
  // A token that brings its own key must still verify against the JWKS, never against that key.
  const SigningKey attacker = SigningKey::rsa("attacker");
  const std::string token = HostileProvider::mint(
      {{"alg", "RS256"}, {"kid", "rsa-1"}, {"jwk", attacker.public_jwk()}, {"jku", "https://evil.example/jwks"}},
      kClaims, attacker);
  EXPECT_FALSE(verify_jws(token, jwks_).ok());
}

TEST_F(JwsTest, RefusesMalformedTokens) {
  const std::string good = HostileProvider::mint({{"alg", "RS256"}}, kClaims, rsa_key());
  EXPECT_FALSE(parse_jws("").ok());
  EXPECT_FALSE(parse_jws("a.b").ok());
  EXPECT_FALSE(parse_jws(good + ".x").ok());
  EXPECT_NE(expect_error(parse_jws("a.b.c.d.e")).find("encrypted"), std::string::npos);
  EXPECT_FALSE(parse_jws(good.substr(0, good.rfind('.') + 1)).ok());  // no signature
  EXPECT_FALSE(parse_jws("=" + good).ok());
  EXPECT_FALSE(parse_jws(base64url_encode("[1]") + ".e30.AAAA").ok());
  EXPECT_FALSE(parse_jws(base64url_encode(R"({"alg":"RS256","kid":7})") + ".e30.AAAA").ok());
  EXPECT_FALSE(parse_jws(base64url_encode(R"({"typ":"JWT"})") + ".e30.AAAA").ok());
  EXPECT_FALSE(parse_jws(std::string(kMaxJwsSize + 1, 'a')).ok());
}

TEST_F(JwsTest, ErrorsNeverContainTheToken) {
  const std::string token = HostileProvider::mint({{"alg", "RS256"}}, kClaims, rsa_key());
  const std::string tampered = token.substr(0, token.size() - 4) + "AAAA";
  for (const std::string& t : {tampered, token + "x", HostileProvider::mint_unsigned(kClaims)}) {
    auto r = verify_jws(t, jwks_);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message.find(t.substr(0, 20)), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find(t.substr(t.size() - 10)), std::string::npos) << r.error().message;
  }
}

TEST_F(JwsTest, OutsideNamesAreNotEchoedRaw) {
  const std::string long_alg(300, 'A');
  const std::string token = HostileProvider::encode_part({{"alg", long_alg}}) + ".e30.AAAA";
  const std::string message = expect_error(parse_jws(token));
  EXPECT_EQ(message.find(long_alg), std::string::npos);
  EXPECT_NE(message.find("300 bytes"), std::string::npos) << message;
  const std::string newline = HostileProvider::encode_part({{"alg", "RS256\nforged log line"}}) + ".e30.AAAA";
  EXPECT_EQ(expect_error(parse_jws(newline)).find('\n'), std::string::npos);
}

}  // namespace
}  // namespace websession::oidc
