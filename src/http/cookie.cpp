#include "websession/http/cookie.h"

#include <array>
#include <memory>
#include <stdexcept>

#include <openssl/crypto.h>

#include "core/base64url.h"
#include "core/sha256.h"

namespace websession::http {
namespace {

constexpr std::string_view kWhitespace = " \t";
constexpr std::size_t kMacChars = 43;  // base64url of 32 bytes, unpadded

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(kWhitespace);
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(kWhitespace);
  return s.substr(first, last - first + 1);
}

bool is_tchar(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// RFC 6265 cookie-octet: %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E.
bool is_cookie_octet(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u == 0x21 || (u >= 0x23 && u <= 0x2B) || (u >= 0x2D && u <= 0x3A) ||
         (u >= 0x3C && u <= 0x5B) || (u >= 0x5D && u <= 0x7E);
}

// Path and Domain attribute values: any CHAR except CTLs and ';'.
bool is_attribute_value(std::string_view v) noexcept {
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7F || c == ';') return false;
  }
  return true;
}

}  // namespace

namespace {

// Calls on_pair(name, value) for each pair of a Cookie header, as parse_cookie_header() describes.
template <class OnPair>
void for_each_cookie(std::string_view header, OnPair on_pair) {
  while (!header.empty()) {
    const auto semi = header.find(';');
    std::string_view part = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
    const auto eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view name = trim(part.substr(0, eq));
    std::string_view value = trim(part.substr(eq + 1));
    if (name.empty()) continue;
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    on_pair(name, value);
  }
}

}  // namespace

std::vector<CookiePair> parse_cookie_header(std::string_view header) {
  std::vector<CookiePair> pairs;
  for_each_cookie(header, [&](std::string_view name, std::string_view value) { pairs.push_back({name, value}); });
  return pairs;
}

std::vector<std::string_view> cookie_values(std::string_view header, std::string_view name) {
  std::vector<std::string_view> values;
  for_each_cookie(header, [&](std::string_view n, std::string_view value) {
    if (n == name) values.push_back(value);
  });
  return values;
}

std::string_view to_string(SameSite same_site) noexcept {
  switch (same_site) {
    case SameSite::lax:
      return "Lax";
    case SameSite::strict:
      return "Strict";
    case SameSite::none:
      return "None";
  }
  return "Lax";
}

bool is_cookie_name(std::string_view name) noexcept {
  if (name.empty()) return false;
  for (char c : name) {
    if (!is_tchar(c)) return false;
  }
  return true;
}

void validate(const CookieAttributes& attributes) {
  if (attributes.path.empty() || attributes.path.front() != '/' ||
      !is_attribute_value(attributes.path)) {
    throw std::invalid_argument("cookie.path must start with '/' and hold no control characters or ';'");
  }
  if (!is_attribute_value(attributes.domain)) {
    throw std::invalid_argument("cookie.domain must hold no control characters or ';'");
  }
  if (attributes.same_site == SameSite::none && !attributes.secure) {
    throw std::invalid_argument("cookie.same_site None requires cookie.secure (browsers reject it otherwise)");
  }
}

namespace {
std::string build(std::string_view name, std::string_view value, const CookieAttributes& a,
                  std::chrono::seconds max_age) {
  if (!is_cookie_name(name)) throw std::invalid_argument("cookie name must be an RFC 7230 token");
  // Unchecked attributes could carry CR/LF into the header: the builders never emit them.
  validate(a);
  for (char c : value) {
    if (!is_cookie_octet(c)) throw std::invalid_argument("cookie value holds a character RFC 6265 forbids");
  }
  std::string out;
  out.reserve(name.size() + value.size() + 96 + a.domain.size() + a.path.size());
  out.append(name).append(1, '=').append(value);
  out.append("; Path=").append(a.path);
  if (!a.domain.empty()) out.append("; Domain=").append(a.domain);
  out.append("; Max-Age=").append(std::to_string(max_age.count() < 0 ? 0 : max_age.count()));
  if (a.http_only) out.append("; HttpOnly");
  if (a.secure) out.append("; Secure");
  out.append("; SameSite=").append(to_string(a.same_site));
  return out;
}
}  // namespace

std::string set_cookie_header(std::string_view name, std::string_view value,
                              const CookieAttributes& attributes, std::chrono::seconds max_age) {
  return build(name, value, attributes, max_age);
}

std::string clear_cookie_header(std::string_view name, const CookieAttributes& attributes) {
  return build(name, "", attributes, std::chrono::seconds{0});
}

CookieSigner::CookieSigner(std::vector<std::string> secrets) {
  if (secrets.empty()) throw std::invalid_argument("secrets: at least one secret is required");
  for (std::size_t i = 0; i < secrets.size(); ++i) {
    if (secrets[i].size() < kMinSecretBytes) {
      throw std::invalid_argument("secrets[" + std::to_string(i) + "] must be at least " +
                                  std::to_string(kMinSecretBytes) + " bytes");
    }
  }
  for (std::string& secret : secrets) {
    keys_.push_back(std::make_shared<const detail::KeyedHmacSha256>(secret));
    OPENSSL_cleanse(secret.data(), secret.size());
  }
}

std::string CookieSigner::sign(std::string_view name, std::string_view value) const {
  const auto m = (*keys_.front())({name, "=", value});
  std::string out;
  out.reserve(value.size() + 1 + kMacChars);
  out.append(value).append(1, '.').append(detail::base64url_encode(std::string_view(reinterpret_cast<const char*>(m.data()), m.size())));
  return out;
}

std::optional<std::string_view> CookieSigner::verify(std::string_view name,
                                                      std::string_view signed_value) const {
  if (signed_value.size() > kMaxSignedValueBytes) return std::nullopt;
  const auto dot = signed_value.rfind('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const std::string_view value = signed_value.substr(0, dot);
  const std::string_view given = signed_value.substr(dot + 1);
  if (given.size() != kMacChars) return std::nullopt;
  bool ok = false;
  for (const auto& key : keys_) {
    const auto m = (*key)({name, "=", value});
    std::array<char, kMacChars> expected{};
    detail::base64url_encode_to(std::string_view(reinterpret_cast<const char*>(m.data()), m.size()), expected.data());
    // Every secret is tried even after a match, so timing does not tell which one signed.
    ok |= CRYPTO_memcmp(expected.data(), given.data(), kMacChars) == 0;
  }
  if (!ok) return std::nullopt;
  return value;
}

}  // namespace websession::http
