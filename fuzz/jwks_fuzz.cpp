// JWK Sets and single JWKs as a provider's jwks_uri serves them: Jwks::parse() and
// PublicKey::from_jwk_json() on any text.
//
// Invariants: every key loaded is RSA of 2048 to 8192 bits or EC on P-256 (256 bits); a key allows
// exactly the algorithms of its type (RS256 and PS256 for RSA, ES256 for P-256), and only the one its
// JWK "alg" names when it has one; a loaded key with a kid is found by contains() and selected for an
// algorithm it allows; a key set never holds more keys than the document's "keys" array.
#include <string>

#include <boost/json/parse.hpp>

#include "fuzz_support.h"
#include "websession/oidc/jose.h"

namespace {

namespace oidc = websession::oidc;
using oidc::JwsAlgorithm;

void check_key(const oidc::PublicKey& key) {
  const bool rsa = key.type() == oidc::KeyType::rsa;
  if (rsa) {
    FUZZ_CHECK(key.bits() >= oidc::PublicKey::kMinRsaBits && key.bits() <= oidc::PublicKey::kMaxRsaBits);
  } else {
    FUZZ_CHECK(key.bits() == 256);
  }
  for (JwsAlgorithm alg : oidc::kAllowedAlgorithms) {
    const bool type_fits = rsa ? alg != JwsAlgorithm::es256 : alg == JwsAlgorithm::es256;
    const bool alg_fits = key.alg().empty() || key.alg() == oidc::to_string(alg);
    FUZZ_CHECK(key.allows(alg) == (type_fits && alg_fits));
  }
}

std::size_t keys_in(std::string_view json) {
  boost::system::error_code ec;
  const boost::json::value doc = boost::json::parse(json, ec);
  if (ec || !doc.is_object()) return 0;
  const auto* keys = doc.get_object().if_contains("keys");
  return keys != nullptr && keys->is_array() ? keys->get_array().size() : 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = websession::fuzz::as_text(data, size);

  if (auto key = oidc::PublicKey::from_jwk_json(text)) check_key(*key);

  auto jwks = oidc::Jwks::parse(text);
  if (!jwks) return 0;
  FUZZ_CHECK(jwks->size() <= keys_in(text));
  for (const oidc::PublicKey& key : jwks->keys()) {
    check_key(key);
    if (key.kid().empty()) continue;
    FUZZ_CHECK(jwks->contains(key.kid()));
    for (JwsAlgorithm alg : oidc::kAllowedAlgorithms) {
      if (!key.allows(alg)) continue;
      auto selected = jwks->select(key.kid(), alg);
      FUZZ_CHECK(selected && (*selected)->kid() == key.kid() && (*selected)->allows(alg));
    }
  }
  return 0;
}
