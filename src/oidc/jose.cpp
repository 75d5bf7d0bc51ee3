#include "websession/oidc/jose.h"

#include <openssl/core_names.h>
#include <openssl/rsa.h>

#include <array>
#include <cstdint>
#include <utility>

#include "oidc/detail/json.h"
#include "oidc/detail/openssl.h"
#include "oidc/detail/text.h"

namespace websession::oidc {
namespace {

using detail::invalid;

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<std::int8_t, 256> make_decode_table() {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
    t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
  }
  return t;
}
constexpr std::array<std::int8_t, 256> kDecode = make_decode_table();

Error key_error(std::string message) { return invalid(std::move(message), kInvalidToken); }

// The kid of a key that could not be used, described for an error message.
std::string describe_kid(std::string_view kid) {
  if (kid.empty()) return "without a kid";
  return "with kid " + detail::quote_for_message(kid);
}

// Big-endian unsigned integer bytes without leading zero octets.
std::string_view strip_leading_zeros(std::string_view bytes) {
  while (!bytes.empty() && bytes.front() == '\0') bytes.remove_prefix(1);
  return bytes;
}

detail::BnPtr to_bignum(std::string_view bytes) {
  return detail::BnPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                                 static_cast<int>(bytes.size()), nullptr));
}

// Builds a public EVP_PKEY of `type` ("RSA" or "EC") from parameters; null on failure.
detail::PkeyPtr key_from_params(const char* type, OSSL_PARAM_BLD* bld) {
  detail::ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  detail::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return nullptr;
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) return nullptr;
  return detail::PkeyPtr(raw);
}

Result<std::string> decode_member(const boost::json::object& jwk, std::string_view name) {
  auto text = detail::optional_string(jwk, name, "the JWK", kInvalidToken);
  if (!text) return std::move(text).error();
  if (!text->has_value()) return key_error("the JWK has no \"" + std::string(name) + "\"");
  auto bytes = base64url_decode(**text);
  if (!bytes) return key_error("the JWK's \"" + std::string(name) + "\" is not strict base64url");
  return bytes;
}

Result<detail::PkeyPtr> rsa_key(const boost::json::object& jwk) {
  auto n = decode_member(jwk, "n");
  if (!n) return std::move(n).error();
  auto e = decode_member(jwk, "e");
  if (!e) return std::move(e).error();
  const detail::BnPtr bn_n = to_bignum(strip_leading_zeros(*n));
  const detail::BnPtr bn_e = to_bignum(strip_leading_zeros(*e));
  if (!bn_n || !bn_e) throw std::bad_alloc();
  const int bits = BN_num_bits(bn_n.get());
  if (bits < PublicKey::kMinRsaBits) {
    return key_error("the RSA key's modulus has " + std::to_string(bits) + " bits; at least " +
                     std::to_string(PublicKey::kMinRsaBits) + " are required");
  }
  if (bits > PublicKey::kMaxRsaBits) {
    return key_error("the RSA key's modulus has " + std::to_string(bits) + " bits; at most " +
                     std::to_string(PublicKey::kMaxRsaBits) + " are accepted");
  }
  if (BN_num_bits(bn_e.get()) < 2 || BN_num_bits(bn_e.get()) > 64 || !BN_is_odd(bn_e.get())) {
    return key_error("the RSA key's public exponent is not an odd number between 3 and 2^64");
  }
  detail::ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return Error(ErrorCode::internal, "OpenSSL could not hold an RSA key", std::string(kInvalidToken));
  }
  detail::PkeyPtr key = key_from_params("RSA", bld.get());
  if (!key) return key_error("OpenSSL refused the RSA key");
  return key;
}

// Off-curve points, the point at infinity and points outside the prime-order group are refused:
// verifying against them would let a forger choose the outcome.
bool valid_public_point(EVP_PKEY* key) {
  detail::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  return ctx && EVP_PKEY_public_check(ctx.get()) == 1;
}

Result<detail::PkeyPtr> ec_key(const boost::json::object& jwk) {
  auto crv = detail::optional_string(jwk, "crv", "the JWK", kInvalidToken);
  if (!crv) return std::move(crv).error();
  if (!crv->has_value() || **crv != "P-256") return key_error("the EC key's curve is not P-256");
  auto x = decode_member(jwk, "x");
  if (!x) return std::move(x).error();
  auto y = decode_member(jwk, "y");
  if (!y) return std::move(y).error();
  if (x->size() != 32 || y->size() != 32) {
    return key_error("the P-256 key's coordinates are not 32 bytes each");
  }
  std::string point = "\x04" + *x + *y;
  detail::ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1) {
    return Error(ErrorCode::internal, "OpenSSL could not hold an EC key", std::string(kInvalidToken));
  }
  detail::PkeyPtr key = key_from_params("EC", bld.get());
  if (!key || !valid_public_point(key.get())) return key_error("the P-256 key's point is not on the curve");
  return key;
}

// A raw ES256 signature (R || S, 32 bytes each) in the DER form EVP verifies.
Result<std::string> ecdsa_der(std::string_view raw) {
  if (raw.size() != 64) {
    return key_error("the ES256 signature is " + std::to_string(raw.size()) + " bytes, not 64");
  }
  detail::EcdsaSigPtr sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    throw std::bad_alloc();
  }
  const int size = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (size <= 0) return key_error("the ES256 signature cannot be encoded");
  std::string der(static_cast<std::size_t>(size), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(sig.get(), &out) != size) return key_error("the ES256 signature cannot be encoded");
  return der;
}

bool configure_padding(EVP_PKEY_CTX* pctx, JwsAlgorithm alg) {
  if (alg == JwsAlgorithm::rs256) return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
  if (alg == JwsAlgorithm::ps256) {
    // RFC 7518 section 3.5: MGF1 with the same hash, and a salt as long as the hash.
    return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
  }
  return true;
}

}  // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : bytes) {
    acc = (acc << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 63U];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63U];
  return out;
}

Result<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return invalid("not base64url: impossible length", kInvalidToken);
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : text) {
    const std::int8_t v = kDecode[static_cast<unsigned char>(c)];
    if (v < 0) return invalid("not base64url: a character outside the URL-safe alphabet", kInvalidToken);
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFFU);
    }
  }
  // The 2 or 4 bits left over must be zero: otherwise several texts would decode to these bytes.
  if (bits > 0 && (acc & ((1U << bits) - 1U)) != 0) {
    return invalid("not base64url: non-zero trailing bits", kInvalidToken);
  }
  return out;
}

std::string_view to_string(JwsAlgorithm alg) noexcept {
  switch (alg) {
    case JwsAlgorithm::rs256:
      return "RS256";
    case JwsAlgorithm::ps256:
      return "PS256";
    case JwsAlgorithm::es256:
      return "ES256";
  }
  return "?";
}

std::optional<JwsAlgorithm> parse_jws_algorithm(std::string_view name) noexcept {
  for (const JwsAlgorithm alg : kAllowedAlgorithms) {
    if (to_string(alg) == name) return alg;
  }
  return std::nullopt;
}

void PublicKey::Free::operator()(evp_pkey_st* key) const noexcept { EVP_PKEY_free(key); }

PublicKey::PublicKey(std::unique_ptr<evp_pkey_st, Free> key, KeyType type) noexcept
    : key_(std::move(key)), type_(type) {}
PublicKey::PublicKey(PublicKey&& other) noexcept = default;
PublicKey& PublicKey::operator=(PublicKey&& other) noexcept = default;
PublicKey::~PublicKey() = default;

Result<PublicKey> PublicKey::from_jwk(const boost::json::object& jwk) {
  const detail::ErrorQueueGuard guard;
  auto kty = detail::optional_string(jwk, "kty", "the JWK", kInvalidToken);
  if (!kty) return std::move(kty).error();
  auto kid = detail::optional_string(jwk, "kid", "the JWK", kInvalidToken);
  if (!kid) return std::move(kid).error();
  auto alg = detail::optional_string(jwk, "alg", "the JWK", kInvalidToken);
  if (!alg) return std::move(alg).error();
  if (!kty->has_value()) return key_error("the JWK has no \"kty\"");
  Result<detail::PkeyPtr> key = Error();
  KeyType type = KeyType::rsa;
  if (**kty == "RSA") {
    key = rsa_key(jwk);
  } else if (**kty == "EC") {
    type = KeyType::ec_p256;
    key = ec_key(jwk);
  } else {
    return key_error("the JWK's key type " + detail::quote_for_message(**kty) +
                     " is not supported (only RSA and EC P-256)");
  }
  if (!key) return std::move(key).error();
  PublicKey out(std::unique_ptr<evp_pkey_st, Free>(key->release()), type);
  out.kid_ = kid->value_or("");
  out.alg_ = alg->value_or("");
  return out;
}

Result<PublicKey> PublicKey::from_jwk_json(std::string_view json) {
  auto object = detail::parse_object(json, "the JWK", kInvalidToken);
  if (!object) return std::move(object).error();
  return from_jwk(*object);
}

int PublicKey::bits() const noexcept { return EVP_PKEY_get_bits(key_.get()); }

bool PublicKey::allows(JwsAlgorithm alg) const noexcept {
  const bool type_fits = alg == JwsAlgorithm::es256 ? type_ == KeyType::ec_p256 : type_ == KeyType::rsa;
  return type_fits && (alg_.empty() || alg_ == to_string(alg));
}

Status PublicKey::verify(JwsAlgorithm alg, std::string_view signing_input, std::string_view signature) const {
  const detail::ErrorQueueGuard guard;
  if (!allows(alg)) {
    return key_error("the key " + describe_kid(kid_) + " cannot verify " + std::string(to_string(alg)));
  }
  std::string der;
  if (alg == JwsAlgorithm::es256) {
    auto converted = ecdsa_der(signature);
    if (!converted) return std::move(converted).error();
    der = std::move(*converted);
    signature = der;
  } else if (signature.size() != static_cast<std::size_t>(EVP_PKEY_get_size(key_.get()))) {
    return key_error("the " + std::string(to_string(alg)) + " signature does not have the modulus's length");
  }
  detail::MdCtxPtr md(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by md
  if (!md || EVP_DigestVerifyInit_ex(md.get(), &pctx, "SHA256", nullptr, nullptr, key_.get(), nullptr) != 1 ||
      !configure_padding(pctx, alg)) {
    return Error(ErrorCode::internal, "OpenSSL could not set up a signature check", std::string(kInvalidToken));
  }
  const int rc = EVP_DigestVerify(md.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                                  signature.size(),
                                  reinterpret_cast<const unsigned char*>(signing_input.data()),
                                  signing_input.size());
  if (rc != 1) return key_error("the token's signature does not verify");
  return {};
}

}  // namespace websession::oidc
