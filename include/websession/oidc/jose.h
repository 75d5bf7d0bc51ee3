// JOSE for a relying party: strict base64url, JSON Web Keys (RFC 7517/7518) as OpenSSL public keys,
// JWK Sets, and JWS compact serialization (RFC 7515) verified against an algorithm allow-list.
//
// Only RS256, PS256 and ES256 are ever accepted. `none`, every HMAC algorithm and every other name
// are refused whatever the key set holds, and a key is used only with an algorithm of its own type
// (RSA keys for RS256/PS256, P-256 keys for ES256), so a public key can never be turned into an HMAC
// secret or an RSA key into an EC one. Error messages name the problem, never the token.
//
//   auto jwks = websession::oidc::Jwks::parse(jwks_json);             // from the provider's jwks_uri
//   auto jws = websession::oidc::verify_jws(id_token, *jwks);         // signature checked
//   if (!jws) return jws.error();                                     // then validate the claims
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "websession/result.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY

namespace websession::oidc {

/// The Error::service_type of a token whose `kid` (or, without a `kid`, whose algorithm) matches no
/// usable key of the JWK Set: the caller may fetch the provider's JWKS again (keys rotate) and retry.
inline constexpr std::string_view kUnknownKey = "unknown_key";
/// The Error::service_type of every other refused token (malformed, bad signature, failed claims).
inline constexpr std::string_view kInvalidToken = "invalid_token";

/// base64url (RFC 4648 section 5) without padding.
std::string base64url_encode(std::string_view bytes);

/// Decodes strict base64url: only the URL-safe alphabet, no padding, no whitespace, no length of the
/// form 4n+1, and canonical trailing bits (the unused low bits of the last character are zero), so
/// each byte string has exactly one accepted encoding. invalid_argument otherwise.
[[nodiscard]] Result<std::string> base64url_decode(std::string_view text);

/// The JWS algorithms websession accepts. Nothing else is ever verified.
enum class JwsAlgorithm {
  rs256,  ///< RSASSA-PKCS1-v1_5 with SHA-256
  ps256,  ///< RSASSA-PSS with SHA-256, MGF1 with SHA-256, 32-byte salt
  es256,  ///< ECDSA on P-256 with SHA-256; signatures are R || S, 64 bytes
};

/// Every accepted algorithm, in order of preference.
inline constexpr JwsAlgorithm kAllowedAlgorithms[] = {JwsAlgorithm::rs256, JwsAlgorithm::ps256,
                                                      JwsAlgorithm::es256};

/// The JOSE name of `alg`: "RS256", "PS256" or "ES256".
std::string_view to_string(JwsAlgorithm alg) noexcept;

/// The allow-listed algorithm called `name` (case-sensitive, as JOSE names are), or nullopt for
/// every other name: "none", "HS256", "RS512", "rs256"...
std::optional<JwsAlgorithm> parse_jws_algorithm(std::string_view name) noexcept;

/// The type of a public key.
enum class KeyType {
  rsa,      ///< RSA, at least 2048 bits
  ec_p256,  ///< EC on P-256 (secp256r1)
};

/// A public signature key from a JWK: an OpenSSL EVP_PKEY, owned. Move-only.
class PublicKey {
 public:
  /// Minimum and maximum accepted RSA modulus sizes, in bits.
  static constexpr int kMinRsaBits = 2048;
  static constexpr int kMaxRsaBits = 8192;

  /// Builds a key from a JWK object (RFC 7517 section 4, RFC 7518 section 6).
  ///   - "kty": "RSA" with "n" and "e" (base64url, big-endian; the modulus at least 2048 and at most
  ///     8192 bits, the exponent odd and at least 3);
  ///   - "kty": "EC" with "crv": "P-256" and "x" and "y" (32 bytes each); the point must lie on the
  ///     curve.
  /// Optional members: "kid", "alg" (restricts the key to that algorithm; a name outside the
  /// allow-list leaves the key usable for nothing), "use" and "key_ops" (kept; Jwks filters on them).
  /// invalid_argument for another key type or curve, a missing or malformed member, a short RSA
  /// modulus, or a point that is not on the curve.
  [[nodiscard]] static Result<PublicKey> from_jwk(const boost::json::object& jwk);

  /// from_jwk() of the JSON text `json`.
  [[nodiscard]] static Result<PublicKey> from_jwk_json(std::string_view json);

  PublicKey(PublicKey&& other) noexcept;
  PublicKey& operator=(PublicKey&& other) noexcept;
  PublicKey(const PublicKey&) = delete;
  PublicKey& operator=(const PublicKey&) = delete;
  ~PublicKey();

  [[nodiscard]] KeyType type() const noexcept { return type_; }
  /// The JWK's "kid", empty when it has none.
  [[nodiscard]] const std::string& kid() const noexcept { return kid_; }
  /// The JWK's "alg" member, empty when it has none.
  [[nodiscard]] const std::string& alg() const noexcept { return alg_; }
  /// The key size in bits (2048 or more for RSA, 256 for P-256).
  [[nodiscard]] int bits() const noexcept;

  /// True when this key may verify `alg`: its type matches (RSA for RS256 and PS256, P-256 for
  /// ES256) and its JWK "alg", when present, names `alg`.
  [[nodiscard]] bool allows(JwsAlgorithm alg) const noexcept;

  /// Verifies `signature` (raw bytes; R || S for ES256) over `signing_input` with `alg`.
  /// invalid_argument (service type kInvalidToken) when the key does not allow `alg`, the signature
  /// has the wrong length, or it does not verify.
  [[nodiscard]] Status verify(JwsAlgorithm alg, std::string_view signing_input,
                              std::string_view signature) const;

  /// The underlying OpenSSL key, still owned by this object.
  [[nodiscard]] evp_pkey_st* native_handle() const noexcept { return key_.get(); }

 private:
  struct Free {
    void operator()(evp_pkey_st* key) const noexcept;
  };
  PublicKey(std::unique_ptr<evp_pkey_st, Free> key, KeyType type) noexcept;

  std::unique_ptr<evp_pkey_st, Free> key_;
  KeyType type_ = KeyType::rsa;
  std::string kid_;
  std::string alg_;
};

/// A JWK Set (RFC 7517 section 5) reduced to the keys that can verify signatures here.
class Jwks {
 public:
  /// Parses a JWK Set document: a JSON object with a "keys" array. Keys whose "use" is present and
  /// not "sig", whose "key_ops" lacks "verify", or whose type is not RSA or EC P-256 (symmetric "oct"
  /// keys, OKP, other curves) are skipped, as RFC 7517 section 5 asks; keys of a supported type that
  /// fail to load (a short RSA modulus, a point off the curve) are skipped too, and the reason is
  /// kept for the error of a token that names them. invalid_argument when the document is not JSON,
  /// not an object, or has no "keys" array.
  [[nodiscard]] static Result<Jwks> parse(std::string_view json);

  /// A set made of `keys`.
  explicit Jwks(std::vector<PublicKey> keys = {});

  /// Selects the key to verify a token signed with `alg` and carrying key ID `kid` (empty: the
  /// token has none). With a `kid`: the key with that ID that allows `alg`. Without: the only key
  /// that allows `alg` (OpenID Connect Core 10.1 requires a `kid` when there are several).
  /// invalid_argument with service type kUnknownKey when no key fits: the caller may refresh the
  /// set and try again. The message says why (unknown kid, a key of another type, an unusable key).
  [[nodiscard]] Result<const PublicKey*> select(std::string_view kid, JwsAlgorithm alg) const;

  /// True when a usable key has this `kid`.
  [[nodiscard]] bool contains(std::string_view kid) const noexcept;
  [[nodiscard]] const std::vector<PublicKey>& keys() const noexcept { return keys_; }
  [[nodiscard]] std::size_t size() const noexcept { return keys_.size(); }

 private:
  std::vector<PublicKey> keys_;
  /// kid -> why a key with that kid was skipped.
  std::vector<std::pair<std::string, std::string>> skipped_;
};

/// A JWS in compact serialization, decoded but not yet verified.
struct Jws {
  /// The protected header, as a JSON object.
  boost::json::object header;
  /// The header's "alg", already known to be allow-listed.
  JwsAlgorithm alg = JwsAlgorithm::rs256;
  /// The header's "kid" and "typ", empty when absent.
  std::string kid;
  std::string typ;
  /// The decoded payload bytes (for a JWT, the claims set as JSON text).
  std::string payload;
  /// "<header>.<payload>" as received: what the signature covers.
  std::string signing_input;
  /// The decoded signature bytes.
  std::string signature;
};

/// The longest compact JWS accepted, in bytes: larger inputs are refused before any decoding.
inline constexpr std::size_t kMaxJwsSize = 64 * 1024;

/// Parses a compact JWS: three base64url parts (strict); the header a JSON object whose "alg" is
/// allow-listed, whose "kid" and "typ" are strings when present, and with no "crit" (no extension is
/// understood here, so RFC 7515 section 4.1.11 requires refusing it); a non-empty signature.
/// Keys named or embedded in the header ("jku", "x5u", "jwk", "x5c") are never used: keys come only
/// from the provider's JWKS. invalid_argument (service type kInvalidToken) otherwise; an encrypted
/// JWT (five parts) is refused as unsupported. Messages never contain the token.
[[nodiscard]] Result<Jws> parse_jws(std::string_view compact);

/// parse_jws(), then the key selection of Jwks::select() and the signature check. Returns the
/// verified JWS. Errors: those of parse_jws(), kUnknownKey from select(), and kInvalidToken for a
/// signature that does not verify.
[[nodiscard]] Result<Jws> verify_jws(std::string_view compact, const Jwks& jwks);

}  // namespace websession::oidc
