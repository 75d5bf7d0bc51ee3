// JWTs as the relying party receives them (ID tokens, logout tokens): parse_jws() and verify_jws()
// on any text, and strict base64url.
//
// Invariants: a parsed JWS has an allow-listed algorithm, named exactly so in its header; its
// signing input is the text before the second '.'; its payload and signature re-encode to the
// segments received (base64url is canonical); verify_jws() succeeds only where parse_jws() does, and
// never against a key set that holds no key. base64url_decode() of any text that it accepts
// re-encodes to that text.
#include <string>

#include "fuzz_support.h"
#include "websession/oidc/jose.h"

namespace {

namespace oidc = websession::oidc;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = websession::fuzz::as_text(data, size);

  if (auto decoded = oidc::base64url_decode(text)) FUZZ_CHECK(oidc::base64url_encode(*decoded) == text);

  auto jws = oidc::parse_jws(text);
  static const oidc::Jwks empty;
  auto verified = oidc::verify_jws(text, empty);
  FUZZ_CHECK(!verified);  // no key, nothing verifies
  if (!jws) return 0;

  FUZZ_CHECK(oidc::parse_jws_algorithm(oidc::to_string(jws->alg)) == jws->alg);
  const auto* alg = jws->header.if_contains("alg");
  FUZZ_CHECK(alg != nullptr && alg->is_string() && alg->get_string() == oidc::to_string(jws->alg));
  const auto first = text.find('.');
  const auto second = text.find('.', first + 1);
  FUZZ_CHECK(first != std::string_view::npos && second != std::string_view::npos);
  FUZZ_CHECK(jws->signing_input == text.substr(0, second));
  FUZZ_CHECK(oidc::base64url_encode(jws->payload) == text.substr(first + 1, second - first - 1));
  FUZZ_CHECK(oidc::base64url_encode(jws->signature) == text.substr(second + 1));
  return 0;
}
