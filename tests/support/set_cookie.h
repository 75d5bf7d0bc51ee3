#pragma once

#include <charconv>
#include <optional>
#include <string_view>

namespace test_support {

/// The `Max-Age` attribute of a Set-Cookie header value, if it has one.
///
/// A session's expiry is kept in whole seconds (rounded down) and the cookie's Max-Age is the time
/// left until it, rounded up; when a second boundary passes between the write and the cookie, a
/// cookie for a lifetime of n seconds says n - 1. Tests of real-clock requests accept both.
inline std::optional<long long> max_age_attribute(std::string_view set_cookie) {
  constexpr std::string_view kName = "; Max-Age=";
  const auto at = set_cookie.find(kName);
  if (at == std::string_view::npos) return std::nullopt;
  const char* first = set_cookie.data() + at + kName.size();
  const char* last = set_cookie.data() + set_cookie.size();
  long long value = 0;
  const auto [end, ec] = std::from_chars(first, last, value);
  if (ec != std::errc{} || (end != last && *end != ';')) return std::nullopt;
  return value;
}

}  // namespace test_support
