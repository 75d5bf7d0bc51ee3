// Text helpers for the oidc part: safe quoting of outside values in messages, percent-encoding and
// decoding, and constant-time comparison.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace websession::oidc::detail {

/// `value` in double quotes when it is short printable ASCII; otherwise "(a value of N bytes)".
/// For names from outside (an algorithm, a key ID, an error code) that end up in messages and logs:
/// nothing long enough to be a token, and nothing that could forge a log line.
std::string quote_for_message(std::string_view value, std::size_t max_length = 64);

/// `value` cut to `max_length` bytes, with every control character and non-ASCII byte replaced by
/// '?': for free text from outside (an error description) in messages and logs.
std::string printable(std::string_view value, std::size_t max_length = 200);

/// RFC 3986 percent-encoding: every byte but the unreserved characters (ALPHA DIGIT - . _ ~) as %XX.
std::string percent_encode(std::string_view value);

/// application/x-www-form-urlencoded encoding as RFC 6749 Appendix B asks: percent_encode(), with a
/// space as '+'.
std::string form_encode(std::string_view value);

/// Percent-decoding; with `plus_is_space`, '+' decodes to a space (form encoding). nullopt for a '%'
/// not followed by two hexadecimal digits.
std::optional<std::string> percent_decode(std::string_view value, bool plus_is_space);

/// Whether the space-separated list `scopes` holds `wanted`.
bool has_scope(std::string_view scopes, std::string_view wanted);

/// Compares without leaking, through timing, where the first difference is.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace websession::oidc::detail
