// The Cookie request header (parse_cookie_header, cookie_values) and the Set-Cookie builders
// (set_cookie_header, clear_cookie_header, validate), fed with any bytes a client can send.
//
// Invariants: every pair is a view into the header, with a non-empty name free of ';', '=' and
// surrounding whitespace; the pairs re-serialize into a header that parses to the same pairs;
// cookie_values() is the filter of the pairs by name; a Set-Cookie header that is built holds no
// control characters and parses back to the name and value it was built from; the builders throw
// nothing but std::invalid_argument.
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "websession/http/cookie.h"

namespace {

using websession::http::CookieAttributes;
using websession::http::CookiePair;

bool is_space(char c) { return c == ' ' || c == '\t'; }

// An empty view points nowhere in particular; a non-empty one must point into the header.
bool inside(std::string_view part, std::string_view whole) {
  if (part.empty()) return true;
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

void check_pair(const CookiePair& p, std::string_view header) {
  FUZZ_CHECK(!p.name.empty());
  FUZZ_CHECK(inside(p.name, header) && inside(p.value, header));
  FUZZ_CHECK(p.name.find_first_of(";=") == std::string_view::npos);
  FUZZ_CHECK(p.value.find(';') == std::string_view::npos);
  FUZZ_CHECK(!is_space(p.name.front()) && !is_space(p.name.back()));
}

// A value that parsing would alter (surrounding whitespace, or surrounding quotes that would be
// stripped) is written in quotes, which parsing removes again.
std::string serialize(const std::vector<CookiePair>& pairs) {
  std::string out;
  for (const CookiePair& p : pairs) {
    if (!out.empty()) out.append("; ");
    out.append(p.name).append(1, '=');
    const std::string_view v = p.value;
    const bool quote = !v.empty() && (is_space(v.front()) || is_space(v.back()) ||
                                      (v.size() >= 2 && v.front() == '"' && v.back() == '"'));
    if (quote) out.append(1, '"');
    out.append(v);
    if (quote) out.append(1, '"');
  }
  return out;
}

void check_round_trip(const std::vector<CookiePair>& pairs) {
  const std::string again = serialize(pairs);
  const std::vector<CookiePair> reparsed = websession::http::parse_cookie_header(again);
  FUZZ_CHECK(reparsed.size() == pairs.size());
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    FUZZ_CHECK(reparsed[i].name == pairs[i].name);
    FUZZ_CHECK(reparsed[i].value == pairs[i].value);
  }
}

void check_values(std::string_view header, const std::vector<CookiePair>& pairs, std::string_view name) {
  std::vector<std::string_view> expected;
  for (const CookiePair& p : pairs) {
    if (p.name == name) expected.push_back(p.value);
  }
  FUZZ_CHECK(websession::http::cookie_values(header, name) == expected);
}

bool has_control(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) return true;
  }
  return false;
}

// Builds a Set-Cookie header from a parsed pair, with attributes taken from the input too.
void check_builders(const CookiePair& p, std::size_t salt) {
  CookieAttributes a;
  a.path = "/" + std::string(p.value.substr(0, p.value.size() / 2));
  a.domain = std::string(p.value.substr(p.value.size() / 2));
  a.same_site = static_cast<websession::http::SameSite>(salt % 3);
  a.secure = (salt / 3) % 2 == 0;
  a.http_only = (salt / 6) % 2 == 0;
  const auto max_age = std::chrono::seconds(static_cast<long long>(salt % 100) - 10);
  for (int clear = 0; clear < 2; ++clear) {
    std::string header;
    try {
      header = clear != 0 ? websession::http::clear_cookie_header(p.name, a)
                          : websession::http::set_cookie_header(p.name, p.value, a, max_age);
    } catch (const std::invalid_argument&) {
      continue;
    }
    FUZZ_CHECK(websession::http::is_cookie_name(p.name));
    FUZZ_CHECK(!has_control(header));
    const auto parsed = websession::http::parse_cookie_header(header);
    FUZZ_CHECK(!parsed.empty() && parsed.front().name == p.name);
    FUZZ_CHECK(parsed.front().value == (clear != 0 ? std::string_view() : p.value));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view header = websession::fuzz::as_text(data, size);
  const std::vector<CookiePair> pairs = websession::http::parse_cookie_header(header);
  for (const CookiePair& p : pairs) check_pair(p, header);
  check_round_trip(pairs);
  check_values(header, pairs, pairs.empty() ? std::string_view("sessionId") : pairs.front().name);
  if (!pairs.empty()) check_builders(pairs.back(), size);
  return 0;
}
