// A provider that signs whatever a test asks: real keys (RSA, EC P-256) published in a JWKS, and
// JWTs with any header and claims, well-formed or hostile (alg none, HS256 keyed with the public key,
// an unknown kid, a key of the wrong type). Unit tests use it now; an HTTP front comes with the
// relying party's end-to-end tests.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

struct evp_pkey_st;

namespace websession::testing {

/// A private signing key. Move-only.
class SigningKey {
 public:
  /// A new RSA key of `bits` bits (small ones too, to test that they are refused).
  static SigningKey rsa(std::string kid, int bits = 2048);
  /// A new EC key on P-256.
  static SigningKey ec_p256(std::string kid);

  SigningKey(SigningKey&&) noexcept;
  SigningKey& operator=(SigningKey&&) noexcept;
  ~SigningKey();

  [[nodiscard]] const std::string& kid() const { return kid_; }
  [[nodiscard]] bool is_rsa() const { return rsa_; }
  /// The public JWK: kty, kid, use "sig", n and e or crv, x and y; plus `alg` when not empty.
  [[nodiscard]] boost::json::object public_jwk(std::string_view alg = {}) const;
  /// The public key as SubjectPublicKeyInfo DER and PEM: what an attacker would use as an HMAC key.
  [[nodiscard]] std::string public_key_der() const;
  [[nodiscard]] std::string public_key_pem() const;
  /// Signs `input` with "RS256", "PS256" or "ES256" (R || S, 64 bytes; DER when `der` is set).
  [[nodiscard]] std::string sign(std::string_view alg, std::string_view input, bool der = false) const;

 private:
  SigningKey(std::string kid, evp_pkey_st* key, bool rsa);
  struct Free {
    void operator()(evp_pkey_st* key) const noexcept;
  };
  std::string kid_;
  std::unique_ptr<evp_pkey_st, Free> key_;
  bool rsa_ = true;
};

/// An issuer with keys, minting tokens.
class HostileProvider {
 public:
  explicit HostileProvider(std::string issuer = "https://op.example.com");

  [[nodiscard]] const std::string& issuer() const { return issuer_; }
  /// Adds a key to the JWKS; returns it.
  const SigningKey& add_key(SigningKey key);
  /// Publishes a raw JWK in the JWKS besides the keys (a broken one, an "enc" key, an "oct" key...).
  void publish(boost::json::object jwk) { extra_.push_back(std::move(jwk)); }
  /// The JWK Set document: {"keys": [...]} with every key's public JWK and the published extras.
  [[nodiscard]] std::string jwks_json() const;
  [[nodiscard]] const SigningKey& key(std::size_t i) const { return keys_.at(i); }

  /// "<header>.<claims>.<signature>" signed by `key` with header["alg"]; header["kid"] is set to the
  /// key's kid unless the header already has a "kid" (a null "kid" is removed).
  [[nodiscard]] static std::string mint(boost::json::object header, const boost::json::object& claims,
                                        const SigningKey& key);
  /// A token signed with HMAC-SHA256 keyed with `secret`, whatever header["alg"] says.
  [[nodiscard]] static std::string mint_hmac(const boost::json::object& header, const boost::json::object& claims,
                                             std::string_view secret);
  /// An unsecured token ("alg": "none") with an empty signature.
  [[nodiscard]] static std::string mint_unsigned(const boost::json::object& claims);
  /// Base64url of the JSON of `value`.
  [[nodiscard]] static std::string encode_part(const boost::json::object& value);

  /// The claims of a valid ID token for `client_id` with `nonce`, issued at `now`, valid 5 minutes:
  /// iss, sub "alice-sub", aud, exp, iat, auth_time, nonce, sid, preferred_username, email, name.
  [[nodiscard]] boost::json::object id_token_claims(std::string_view client_id, std::string_view nonce,
                                                    std::chrono::system_clock::time_point now) const;
  /// The claims of a valid back-channel logout token: iss, aud, iat, exp, jti, events, sub, sid.
  [[nodiscard]] boost::json::object logout_token_claims(std::string_view client_id,
                                                        std::chrono::system_clock::time_point now) const;

 private:
  std::string issuer_;
  std::vector<SigningKey> keys_;
  std::vector<boost::json::object> extra_;
};

/// Seconds since the epoch of `t`.
std::int64_t epoch(std::chrono::system_clock::time_point t);

}  // namespace websession::testing
