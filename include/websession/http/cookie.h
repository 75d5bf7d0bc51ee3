// Cookies: parsing the Cookie request header (RFC 6265 section 5.4), signing values with HMAC-SHA256,
// and building Set-Cookie headers.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace websession::detail {
class KeyedHmacSha256;
}

namespace websession::http {

/// One name=value pair from a Cookie header, as views into the header.
struct CookiePair {
  std::string_view name;
  std::string_view value;
};

/// Splits a Cookie header into its pairs, in order, the way RFC 6265 section 5.4 and the browsers
/// serialize it: pairs separated by ';', optional whitespace around names and values, a value in
/// double quotes unquoted. Pairs without '=' or with an empty name are skipped; duplicates are kept
/// (a browser sends one per matching path/domain, the longest path first).
std::vector<CookiePair> parse_cookie_header(std::string_view header);

/// Every value of the cookie `name` in `header`, in order (see parse_cookie_header).
std::vector<std::string_view> cookie_values(std::string_view header, std::string_view name);

/// The SameSite cookie attribute.
enum class SameSite { lax, strict, none };

/// "Lax", "Strict" or "None".
std::string_view to_string(SameSite same_site) noexcept;

/// Attributes of the session cookie.
struct CookieAttributes {
  std::string path = "/";
  /// Empty: no Domain attribute (a host-only cookie).
  std::string domain;
  bool http_only = true;
  SameSite same_site = SameSite::lax;
  bool secure = false;
};

/// Throws std::invalid_argument naming the offending option ("cookie.path", "cookie.domain",
/// "cookie.same_site") when an attribute cannot be sent: control characters or ';' in path or domain,
/// or SameSite=None without Secure (browsers reject that cookie).
void validate(const CookieAttributes& attributes);

/// True when `name` is an RFC 7230 token (what a cookie name must be).
bool is_cookie_name(std::string_view name) noexcept;

/// A Set-Cookie header value: `name=value; Path=/; Domain=...; Max-Age=n; HttpOnly; Secure;
/// SameSite=Lax`. `value` must consist of RFC 6265 cookie-octets (base64url and '.' qualify); `name`
/// must be a token; `attributes` must pass validate(). Throws std::invalid_argument otherwise (a
/// programming error).
std::string set_cookie_header(std::string_view name, std::string_view value,
                              const CookieAttributes& attributes, std::chrono::seconds max_age);

/// A Set-Cookie header value that makes the browser delete the cookie: empty value, `Max-Age=0`, same
/// Path and Domain as when it was set. Throws std::invalid_argument as set_cookie_header() does.
std::string clear_cookie_header(std::string_view name, const CookieAttributes& attributes);

/// Signs and verifies cookie values with HMAC-SHA256 under one or more secrets: the first signs, all
/// verify, so secrets can be rotated without logging everyone out. Thread-safe (immutable).
///
/// A signed value is `<value>.<base64url(HMAC-SHA256(secret, name "=" value))>`: the MAC covers the
/// cookie's name too, so a value signed for one cookie is refused as another.
///
///   CookieSigner signer({secret});
///   std::string v = signer.sign("sessionId", id);
///   std::optional<std::string_view> id2 = signer.verify("sessionId", v);  // == id
class CookieSigner {
 public:
  /// The shortest secret accepted, in bytes.
  static constexpr std::size_t kMinSecretBytes = 32;
  /// Longer signed values are refused before any MAC is computed.
  static constexpr std::size_t kMaxSignedValueBytes = 1024;

  /// Throws std::invalid_argument naming "secrets" when there is none or one is shorter than
  /// kMinSecretBytes.
  explicit CookieSigner(std::vector<std::string> secrets);

  /// `value` + "." + the base64url MAC under the first secret.
  [[nodiscard]] std::string sign(std::string_view name, std::string_view value) const;

  /// The value inside `signed_value` when its MAC matches under any secret (compared in constant
  /// time with CRYPTO_memcmp); std::nullopt when it is malformed, oversized or tampered with. The
  /// view points into `signed_value`.
  [[nodiscard]] std::optional<std::string_view> verify(std::string_view name,
                                                       std::string_view signed_value) const;

  [[nodiscard]] std::size_t secret_count() const noexcept { return keys_.size(); }

 private:
  // One pre-keyed HMAC per secret; the secrets themselves are not kept.
  std::vector<std::shared_ptr<const detail::KeyedHmacSha256>> keys_;
};

}  // namespace websession::http
