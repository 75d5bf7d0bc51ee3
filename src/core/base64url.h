// base64url (RFC 4648 section 5) without padding.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace websession::detail {

inline constexpr char kBase64urlAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Which bytes are base64url characters, by table: session IDs and MACs are checked on every request.
inline constexpr auto kIsBase64urlChar = [] {
  std::array<bool, 256> table{};
  for (const char c : std::string_view(kBase64urlAlphabet)) table[static_cast<unsigned char>(c)] = true;
  return table;
}();

inline constexpr bool is_base64url_char(char c) noexcept { return kIsBase64urlChar[static_cast<unsigned char>(c)]; }

/// The encoded length of `n` bytes.
inline constexpr std::size_t base64url_size(std::size_t n) noexcept { return (n * 4 + 2) / 3; }

/// Encodes `bytes` into `out`, which has room for base64url_size(bytes.size()) characters.
inline void base64url_encode_to(std::string_view bytes, char* out) noexcept {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned>(static_cast<unsigned char>(bytes[i])); };
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    *out++ = kBase64urlAlphabet[(v >> 18) & 63];
    *out++ = kBase64urlAlphabet[(v >> 12) & 63];
    *out++ = kBase64urlAlphabet[(v >> 6) & 63];
    *out++ = kBase64urlAlphabet[v & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 0) return;
  const unsigned v = (byte(i) << 16) | (rest == 2 ? byte(i + 1) << 8 : 0U);
  *out++ = kBase64urlAlphabet[(v >> 18) & 63];
  *out++ = kBase64urlAlphabet[(v >> 12) & 63];
  if (rest == 2) *out = kBase64urlAlphabet[(v >> 6) & 63];
}

inline std::string base64url_encode(std::string_view bytes) {
  std::string out(base64url_size(bytes.size()), '\0');
  base64url_encode_to(bytes, out.data());
  return out;
}

}  // namespace websession::detail
