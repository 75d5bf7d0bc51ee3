// URL helpers of the OpenID Connect tests: encoding what a browser would send, and reading a
// parameter of a redirect's URL.
#pragma once

#include <cctype>
#include <string>
#include <string_view>

#include "websession/oidc/relying_party.h"

namespace websession::testing {

/// RFC 3986 percent-encoding of everything but the unreserved characters (independent of the
/// library's own encoder, which the tests check).
inline std::string url_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 15];
    }
  }
  return out;
}

/// The form-decoded parameter `name` of `url`'s query; empty when absent.
inline std::string url_param(const std::string& url, std::string_view name) {
  auto v = oidc::form_parameter(std::string_view(url).substr(url.find('?') + 1), name);
  return v && *v ? **v : std::string();
}

}  // namespace websession::testing
