#include "oidc/support/hostile_provider.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <array>
#include <stdexcept>

#include <boost/json/serialize.hpp>

#include "websession/oidc/jose.h"

namespace websession::testing {
namespace {

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("OpenSSL failed: ") + what);
}

std::string bn_bytes(const EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  check(EVP_PKEY_get_bn_param(key, name, &bn) == 1, "get_bn_param");
  std::string out(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return out;
}

std::string ec_point(const EVP_PKEY* key) {
  std::array<unsigned char, 65> point{};
  std::size_t size = 0;
  check(EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size(), &size) == 1 &&
            size == 65,
        "get_octet_string_param");
  return std::string(reinterpret_cast<const char*>(point.data()), size);
}

// DER ECDSA signature to JOSE's R || S.
std::string der_to_raw(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  check(sig != nullptr, "d2i_ECDSA_SIG");
  std::string raw(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  ECDSA_SIG_free(sig);
  return raw;
}

}  // namespace

std::int64_t epoch(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

void SigningKey::Free::operator()(evp_pkey_st* key) const noexcept { EVP_PKEY_free(key); }

SigningKey::SigningKey(std::string kid, evp_pkey_st* key, bool rsa) : kid_(std::move(kid)), key_(key), rsa_(rsa) {}
SigningKey::SigningKey(SigningKey&&) noexcept = default;
SigningKey& SigningKey::operator=(SigningKey&&) noexcept = default;
SigningKey::~SigningKey() = default;

SigningKey SigningKey::rsa(std::string kid, int bits) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(bits));
  check(key != nullptr, "RSA keygen");
  return SigningKey(std::move(kid), key, true);
}

SigningKey SigningKey::ec_p256(std::string kid) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  check(key != nullptr, "EC keygen");
  return SigningKey(std::move(kid), key, false);
}

boost::json::object SigningKey::public_jwk(std::string_view alg) const {
  boost::json::object jwk;
  if (rsa_) {
    jwk["kty"] = "RSA";
    jwk["n"] = oidc::base64url_encode(bn_bytes(key_.get(), OSSL_PKEY_PARAM_RSA_N));
    jwk["e"] = oidc::base64url_encode(bn_bytes(key_.get(), OSSL_PKEY_PARAM_RSA_E));
  } else {
    const std::string point = ec_point(key_.get());
    jwk["kty"] = "EC";
    jwk["crv"] = "P-256";
    jwk["x"] = oidc::base64url_encode(point.substr(1, 32));
    jwk["y"] = oidc::base64url_encode(point.substr(33, 32));
  }
  jwk["kid"] = kid_;
  jwk["use"] = "sig";
  if (!alg.empty()) jwk["alg"] = alg;
  return jwk;
}

std::string SigningKey::public_key_der() const {
  unsigned char* out = nullptr;
  const int size = i2d_PUBKEY(key_.get(), &out);
  check(size > 0, "i2d_PUBKEY");
  std::string der(reinterpret_cast<const char*>(out), static_cast<std::size_t>(size));
  OPENSSL_free(out);
  return der;
}

std::string SigningKey::public_key_pem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  check(bio != nullptr && PEM_write_bio_PUBKEY(bio, key_.get()) == 1, "PEM_write_bio_PUBKEY");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  return pem;
}

std::string SigningKey::sign(std::string_view alg, std::string_view input, bool der) const {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  check(md != nullptr && EVP_DigestSignInit_ex(md, &pctx, "SHA256", nullptr, nullptr, key_.get(), nullptr) == 1,
        "DigestSignInit");
  if (alg == "PS256") {
    check(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
              EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1,
          "PSS padding");
  }
  std::size_t size = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  check(EVP_DigestSign(md, nullptr, &size, data, input.size()) == 1, "DigestSign size");
  std::string sig(size, '\0');
  check(EVP_DigestSign(md, reinterpret_cast<unsigned char*>(sig.data()), &size, data, input.size()) == 1, "DigestSign");
  sig.resize(size);
  EVP_MD_CTX_free(md);
  if (!rsa_ && !der) return der_to_raw(sig);
  return sig;
}

HostileProvider::HostileProvider(std::string issuer) : issuer_(std::move(issuer)) {}

const SigningKey& HostileProvider::add_key(SigningKey key) {
  keys_.push_back(std::move(key));
  return keys_.back();
}

std::string HostileProvider::jwks_json() const {
  boost::json::array keys;
  for (const SigningKey& k : keys_) keys.push_back(k.public_jwk());
  for (const boost::json::object& jwk : extra_) keys.push_back(jwk);
  return boost::json::serialize(boost::json::object{{"keys", std::move(keys)}});
}

std::string HostileProvider::encode_part(const boost::json::object& value) {
  return oidc::base64url_encode(boost::json::serialize(value));
}

std::string HostileProvider::mint(boost::json::object header, const boost::json::object& claims, const SigningKey& key) {
  if (!header.contains("kid")) header["kid"] = key.kid();
  if (header["kid"].is_null()) header.erase("kid");
  const std::string input = encode_part(header) + "." + encode_part(claims);
  const std::string alg(header.at("alg").as_string());
  return input + "." + oidc::base64url_encode(key.sign(alg, input));
}

std::string HostileProvider::mint_hmac(const boost::json::object& header, const boost::json::object& claims,
                                       std::string_view secret) {
  const std::string input = encode_part(header) + "." + encode_part(claims);
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  std::size_t size = 0;
  check(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(), secret.size(),
                  reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac.data(), mac.size(),
                  &size) != nullptr,
        "HMAC");
  return input + "." + oidc::base64url_encode(std::string_view(reinterpret_cast<const char*>(mac.data()), size));
}

std::string HostileProvider::mint_unsigned(const boost::json::object& claims) {
  return encode_part(boost::json::object{{"alg", "none"}}) + "." + encode_part(claims) + ".";
}

boost::json::object HostileProvider::id_token_claims(std::string_view client_id, std::string_view nonce,
                                                     std::chrono::system_clock::time_point now) const {
  const std::int64_t t = epoch(now);
  return boost::json::object{{"iss", issuer_},
                             {"sub", "alice-sub"},
                             {"aud", client_id},
                             {"exp", t + 300},
                             {"iat", t},
                             {"auth_time", t - 10},
                             {"nonce", nonce},
                             {"sid", "session-1"},
                             {"preferred_username", "alice"},
                             {"email", "alice@example.com"},
                             {"email_verified", true},
                             {"name", "Alice Example"}};
}

boost::json::object HostileProvider::logout_token_claims(std::string_view client_id,
                                                         std::chrono::system_clock::time_point now) const {
  const std::int64_t t = epoch(now);
  return boost::json::object{
      {"iss", issuer_},
      {"aud", client_id},
      {"iat", t},
      {"exp", t + 120},
      {"jti", "logout-jti-1"},
      {"events", boost::json::object{{"http://schemas.openid.net/event/backchannel-logout", boost::json::object{}}}},
      {"sub", "alice-sub"},
      {"sid", "session-1"}};
}

}  // namespace websession::testing
