// Helpers shared by the fuzz targets: invariant checks that survive NDEBUG, and ways to read the
// input as text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <utility>

#include <boost/json/parser.hpp>
#include <boost/json/value.hpp>

/// FUZZ_CHECK(cond): an invariant of the code under test. A violation aborts, which libFuzzer
/// reports as a crash and saves the input; unlike assert(), it is checked in every build type.
#define FUZZ_CHECK(cond) ::websession::fuzz::check(static_cast<bool>(cond), #cond, __FILE__, __LINE__)

namespace websession::fuzz {

inline void check(bool ok, const char* what, const char* file, int line) {
  if (ok) return;
  std::fprintf(stderr, "%s:%d: invariant violated: %s\n", file, line, what);
  std::abort();
}

/// The fuzzer's bytes as text.
inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// Splits `text` at its first '\n': {before, after}. Without a newline: {text, ""}.
inline std::pair<std::string_view, std::string_view> split_line(std::string_view text) {
  const auto nl = text.find('\n');
  if (nl == std::string_view::npos) return {text, {}};
  return {text.substr(0, nl), text.substr(nl + 1)};
}

/// Parses JSON as the DynamoDB client does (nesting up to 80 levels: DynamoDB's 32 levels of
/// documents are two JSON levels each on the wire). False when `text` is not JSON.
inline bool parse_json(std::string_view text, boost::json::value& out, std::size_t max_depth = 80) {
  boost::json::parse_options options;
  options.max_depth = max_depth;
  boost::json::parser parser({}, options);
  boost::system::error_code ec;
  parser.write(text.data(), text.size(), ec);
  if (ec) return false;
  out = parser.release();
  return true;
}

}  // namespace websession::fuzz
