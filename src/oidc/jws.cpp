// JWK Sets and compact JWS: the half of jose.h that decides which key and which algorithm.
#include "websession/oidc/jose.h"

#include <algorithm>
#include <utility>

#include "oidc/detail/json.h"
#include "oidc/detail/text.h"

namespace websession::oidc {
namespace {

using detail::invalid;

Error token_error(std::string message) { return invalid(std::move(message), kInvalidToken); }

std::string algorithm_list() {
  std::string out;
  for (const JwsAlgorithm alg : kAllowedAlgorithms) {
    if (!out.empty()) out += ", ";
    out += to_string(alg);
  }
  return out;
}

// Whether a JWK Set entry is meant for signature verification and of a type this library can use.
// Entries for other purposes or types are skipped without a word, as RFC 7517 section 5 asks.
bool wanted(const boost::json::object& jwk) {
  if (const auto* use = jwk.if_contains("use"); use != nullptr && !(use->is_string() && use->get_string() == "sig")) {
    return false;
  }
  if (const auto* ops = jwk.if_contains("key_ops"); ops != nullptr) {
    if (!ops->is_array()) return false;
    const auto& a = ops->get_array();
    if (std::none_of(a.begin(), a.end(), [](const boost::json::value& v) { return v.is_string() && v.get_string() == "verify"; })) {
      return false;
    }
  }
  const auto* kty = jwk.if_contains("kty");
  if (kty == nullptr || !kty->is_string()) return false;
  if (kty->get_string() == "RSA") return true;
  const auto* crv = jwk.if_contains("crv");
  return kty->get_string() == "EC" && crv != nullptr && crv->is_string() && crv->get_string() == "P-256";
}

// Splits a compact serialization into its parts at the dots.
std::vector<std::string_view> split_dots(std::string_view compact) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = compact.find('.', start);
    parts.push_back(compact.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos || parts.size() > 5) return parts;
    start = dot + 1;
  }
}

Status read_header(Jws& jws) {
  auto alg = detail::optional_string(jws.header, "alg", "the token's header", kInvalidToken);
  if (!alg) return std::move(alg).error();
  if (!alg->has_value()) return token_error("the token's header has no \"alg\"");
  const auto parsed = parse_jws_algorithm(**alg);
  if (!parsed) {
    return token_error("the token's algorithm " + detail::quote_for_message(**alg) +
                       " is not accepted (only " + algorithm_list() + ")");
  }
  jws.alg = *parsed;
  // No extension is understood here, so a header that marks one critical must be refused
  // (RFC 7515 section 4.1.11).
  if (jws.header.contains("crit")) return token_error("the token's header has \"crit\": no JWS extension is supported");
  auto kid = detail::optional_string(jws.header, "kid", "the token's header", kInvalidToken);
  if (!kid) return std::move(kid).error();
  auto typ = detail::optional_string(jws.header, "typ", "the token's header", kInvalidToken);
  if (!typ) return std::move(typ).error();
  jws.kid = kid->value_or("");
  jws.typ = typ->value_or("");
  return {};
}

}  // namespace

Jwks::Jwks(std::vector<PublicKey> keys) : keys_(std::move(keys)) {}

Result<Jwks> Jwks::parse(std::string_view json) {
  auto doc = detail::parse_object(json, "the JWK Set", kInvalidToken);
  if (!doc) return std::move(doc).error();
  const auto* keys = doc->if_contains("keys");
  if (keys == nullptr || !keys->is_array()) return token_error("the JWK Set has no \"keys\" array");
  Jwks out;
  for (const boost::json::value& entry : keys->get_array()) {
    if (!entry.is_object() || !wanted(entry.get_object())) continue;
    auto key = PublicKey::from_jwk(entry.get_object());
    if (key) {
      out.keys_.push_back(std::move(*key));
      continue;
    }
    const auto* kid = entry.get_object().if_contains("kid");
    out.skipped_.emplace_back(kid != nullptr && kid->is_string() ? std::string(kid->get_string()) : std::string(),
                              key.error().message);
  }
  return out;
}

bool Jwks::contains(std::string_view kid) const noexcept {
  return std::any_of(keys_.begin(), keys_.end(), [&](const PublicKey& k) { return k.kid() == kid; });
}

Result<const PublicKey*> Jwks::select(std::string_view kid, JwsAlgorithm alg) const {
  const std::string alg_name(to_string(alg));
  if (kid.empty()) {
    const PublicKey* found = nullptr;
    std::size_t count = 0;
    for (const PublicKey& k : keys_) {
      if (k.allows(alg)) {
        found = &k;
        ++count;
      }
    }
    if (count == 1) return found;
    if (count == 0) return invalid("no key in the provider's JWKS can verify " + alg_name, kUnknownKey);
    return token_error("the token has no \"kid\" and the provider's JWKS has " + std::to_string(count) +
                       " keys for " + alg_name);
  }
  bool kid_known = false;
  for (const PublicKey& k : keys_) {
    if (k.kid() != kid) continue;
    if (k.allows(alg)) return &k;
    kid_known = true;
  }
  const std::string quoted = detail::quote_for_message(kid);
  if (kid_known) return token_error("the provider's key " + quoted + " cannot verify " + alg_name);
  for (const auto& [skipped_kid, reason] : skipped_) {
    if (skipped_kid == kid) return invalid("the provider's key " + quoted + " is unusable: " + reason, kUnknownKey);
  }
  return invalid("no key in the provider's JWKS has the token's kid " + quoted, kUnknownKey);
}

Result<Jws> parse_jws(std::string_view compact) {
  if (compact.size() > kMaxJwsSize) {
    return token_error("the token is larger than " + std::to_string(kMaxJwsSize) + " bytes");
  }
  const std::vector<std::string_view> parts = split_dots(compact);
  if (parts.size() == 5) return token_error("the token is encrypted (JWE), which is not supported");
  if (parts.size() != 3) return token_error("the token is not a JWS in compact serialization");
  Jws jws;
  auto header_json = base64url_decode(parts[0]);
  if (!header_json) return token_error("the token's header is not strict base64url");
  auto header = detail::parse_object(*header_json, "the token's header", kInvalidToken);
  if (!header) return std::move(header).error();
  jws.header = std::move(*header);
  if (Status s = read_header(jws); !s) return std::move(s).error();
  auto payload = base64url_decode(parts[1]);
  if (!payload) return token_error("the token's payload is not strict base64url");
  auto signature = base64url_decode(parts[2]);
  if (!signature) return token_error("the token's signature is not strict base64url");
  if (signature->empty()) return token_error("the token is not signed");
  jws.payload = std::move(*payload);
  jws.signature = std::move(*signature);
  jws.signing_input = std::string(compact.substr(0, parts[0].size() + 1 + parts[1].size()));
  return jws;
}

Result<Jws> verify_jws(std::string_view compact, const Jwks& jwks) {
  auto jws = parse_jws(compact);
  if (!jws) return jws;
  auto key = jwks.select(jws->kid, jws->alg);
  if (!key) return std::move(key).error();
  if (Status s = (*key)->verify(jws->alg, jws->signing_input, jws->signature); !s) return std::move(s).error();
  return jws;
}

}  // namespace websession::oidc
