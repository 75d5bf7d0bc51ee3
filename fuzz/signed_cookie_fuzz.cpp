// Signed cookie values (CookieSigner::verify and sign) and the session-ID shape check, as the
// middleware applies them to every cookie a client sends. Input: "<cookie name>\n<signed value>";
// without a newline the whole input is the value of "sessionId".
//
// Invariants: a value that verifies re-signs to exactly the input (one encoding per MAC), is a
// prefix of it and verifies under rotated secrets but not under a foreign one; whatever is signed
// verifies, under its own cookie name only, and a signature with one character changed does not.
#include <optional>
#include <string>

#include "fuzz_support.h"
#include "websession/http/cookie.h"
#include "websession/session_id.h"

namespace {

using websession::http::CookieSigner;

const std::string kOld(32, 'o');
const std::string kNew(40, 'n');

// The first signer signs with the old secret; after rotation the new one signs and both verify.
const CookieSigner& old_signer() {
  static const CookieSigner signer({kOld});
  return signer;
}
const CookieSigner& rotated_signer() {
  static const CookieSigner signer({kNew, kOld});
  return signer;
}
const CookieSigner& foreign_signer() {
  static const CookieSigner signer({kNew});
  return signer;
}

void check_verify(std::string_view name, std::string_view signed_value) {
  const std::optional<std::string_view> value = old_signer().verify(name, signed_value);
  const std::optional<std::string_view> rotated = rotated_signer().verify(name, signed_value);
  const std::optional<std::string_view> foreign = foreign_signer().verify(name, signed_value);
  FUZZ_CHECK(rotated.has_value() == (value.has_value() || foreign.has_value()));
  if (!value) return;
  FUZZ_CHECK(!foreign.has_value());
  FUZZ_CHECK(signed_value.size() <= CookieSigner::kMaxSignedValueBytes);
  FUZZ_CHECK(signed_value.starts_with(*value));
  FUZZ_CHECK(rotated == value);
  FUZZ_CHECK(old_signer().sign(name, *value) == signed_value);
  // What the middleware does next: only an ID-shaped value reaches the store.
  (void)websession::is_valid_session_id(*value);
}

void check_sign(std::string_view name, std::string_view value) {
  const std::string signed_value = old_signer().sign(name, value);
  if (signed_value.size() > CookieSigner::kMaxSignedValueBytes) {
    FUZZ_CHECK(!old_signer().verify(name, signed_value).has_value());
    return;
  }
  FUZZ_CHECK(old_signer().verify(name, signed_value) == std::optional<std::string_view>(value));
  FUZZ_CHECK(rotated_signer().verify(name, signed_value) == std::optional<std::string_view>(value));
  FUZZ_CHECK(!foreign_signer().verify(name, signed_value).has_value());
  FUZZ_CHECK(!old_signer().verify(std::string(name) + "x", signed_value).has_value());
  std::string tampered = signed_value;
  tampered[tampered.size() - 1 - value.size() % 43] ^= 0x01;
  FUZZ_CHECK(!old_signer().verify(name, tampered).has_value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = websession::fuzz::as_text(data, size);
  auto [name, value] = websession::fuzz::split_line(text);
  if (text.find('\n') == std::string_view::npos) {
    name = "sessionId";
    value = text;
  }
  check_verify(name, value);
  check_sign(name, value);
  return 0;
}
