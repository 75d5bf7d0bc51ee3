#include "oidc/detail/text.h"

#include <algorithm>

#include <openssl/crypto.h>

namespace websession::oidc::detail {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";

bool unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string encode(std::string_view value, bool space_as_plus) {
  std::string out;
  out.reserve(value.size() * 3);
  for (const char c : value) {
    if (unreserved(c)) {
      out += c;
    } else if (c == ' ' && space_as_plus) {
      out += '+';
    } else {
      const auto b = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[b >> 4];
      out += kHex[b & 15];
    }
  }
  return out;
}

}  // namespace

std::string quote_for_message(std::string_view value, std::size_t max_length) {
  bool printable = value.size() <= max_length;
  for (const char c : value) {
    if (c < 0x20 || c > 0x7E || c == '"' || c == '\\') printable = false;
  }
  if (printable) {
    std::string out;
    out.reserve(value.size() + 2);
    out.push_back('"');
    out.append(value);
    out.push_back('"');
    return out;
  }
  return "(a value of " + std::to_string(value.size()) + " bytes)";
}

std::string printable(std::string_view value, std::size_t max_length) {
  std::string out(value.substr(0, max_length));
  for (char& c : out) {
    if (c < 0x20 || c > 0x7E) c = '?';
  }
  if (value.size() > max_length) out += "...";
  return out;
}

std::string percent_encode(std::string_view value) { return encode(value, false); }

std::string form_encode(std::string_view value) { return encode(value, true); }

std::optional<std::string> percent_decode(std::string_view value, bool plus_is_space) {
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c == '%') {
      if (value.size() - i < 3) return std::nullopt;
      const int hi = hex_value(value[i + 1]);
      const int lo = hex_value(value[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool has_scope(std::string_view scopes, std::string_view wanted) {
  std::size_t start = 0;
  while (start <= scopes.size()) {
    const std::size_t end = std::min(scopes.find(' ', start), scopes.size());
    if (scopes.substr(start, end - start) == wanted) return true;
    start = end + 1;
  }
  return false;
}

}  // namespace websession::oidc::detail
