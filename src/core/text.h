// Byte checks shared by the HTTP client, the signer and the DynamoDB client.
#pragma once

#include <string_view>

namespace websession::detail {

/// Whether `s` holds CR, LF or NUL: the bytes that would end or cut a header line. The headers of
/// every request pass through it, some more than once: one comparison decides most bytes (a plain
/// loop; `find_first_of` would call memchr once per byte).
[[nodiscard]] inline bool has_cr_lf_nul(std::string_view s) noexcept {
  for (const char c : s) {
    if (static_cast<unsigned char>(c) <= '\r' && (c == '\r' || c == '\n' || c == '\0')) return true;
  }
  return false;
}

}  // namespace websession::detail
