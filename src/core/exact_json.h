// JSON parsing whose numbers are exact: Boost.JSON 1.81 converts about one decimal in ten off by an
// ulp or two (its fast path is not correctly rounded), so a double it serialized does not always
// read back equal. This parser keeps Boost.JSON's grammar, limits and value types and reads every
// number with a fraction or an exponent with std::from_chars, which rounds correctly.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_stack.hpp>

namespace websession::detail {

/// A boost::json::basic_parser handler that builds a value, like Boost.JSON's own, except for the
/// conversion of decimal numbers.
class ExactJsonHandler {
 public:
  using error_code = boost::system::error_code;
  using string_view = boost::json::string_view;

  static constexpr std::size_t max_object_size = boost::json::object::max_size();
  static constexpr std::size_t max_array_size = boost::json::array::max_size();
  static constexpr std::size_t max_key_size = boost::json::string::max_size();
  static constexpr std::size_t max_string_size = boost::json::string::max_size();

  boost::json::value_stack stack;

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_object_begin(error_code&) { return true; }
  bool on_object_end(std::size_t n, error_code&) {
    stack.push_object(n);
    return true;
  }
  bool on_array_begin(error_code&) { return true; }
  bool on_array_end(std::size_t n, error_code&) {
    stack.push_array(n);
    return true;
  }
  bool on_key_part(string_view s, std::size_t, error_code&) {
    stack.push_chars(s);
    return true;
  }
  bool on_key(string_view s, std::size_t, error_code&) {
    stack.push_key(s);
    return true;
  }
  bool on_string_part(string_view s, std::size_t, error_code&) {
    stack.push_chars(s);
    return true;
  }
  bool on_string(string_view s, std::size_t, error_code&) {
    stack.push_string(s);
    return true;
  }
  bool on_number_part(string_view s, error_code&) {
    number_.append(s.data(), s.size());
    return true;
  }
  bool on_int64(std::int64_t i, string_view, error_code&) {
    number_.clear();
    stack.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, string_view, error_code&) {
    number_.clear();
    stack.push_uint64(u);
    return true;
  }
  bool on_double(double d, string_view s, error_code&) {
    number_.append(s.data(), s.size());
    stack.push_double(exact(d));
    number_.clear();
    return true;
  }
  bool on_bool(bool b, error_code&) {
    stack.push_bool(b);
    return true;
  }
  bool on_null(error_code&) {
    stack.push_null();
    return true;
  }
  bool on_comment_part(string_view, error_code&) { return true; }
  bool on_comment(string_view, error_code&) { return true; }

 private:
  // The number's text, read again with from_chars. Out of double's range (Boost.JSON then gives an
  // infinity or zero), Boost.JSON's answer stays.
  double exact(double boost_value) const {
    double d = 0;
    const auto [end, ec] = std::from_chars(number_.data(), number_.data() + number_.size(), d);
    return ec == std::errc() && end == number_.data() + number_.size() ? d : boost_value;
  }

  // The text of the number being parsed (in pieces when the input splits it).
  std::string number_;
};

/// Parses a complete JSON text as boost::json::parse() does (same errors, same `options`), with
/// numbers read exactly. On error, sets `ec` and returns null.
inline boost::json::value parse_json_exact(std::string_view text, boost::system::error_code& ec,
                                           const boost::json::parse_options& options = {}) {
  boost::json::basic_parser<ExactJsonHandler> parser(options);
  parser.handler().stack.reset();
  const std::size_t used = parser.write_some(false, text.data(), text.size(), ec);
  if (!ec && used < text.size()) ec = boost::json::error::extra_data;
  if (ec) return nullptr;
  return parser.handler().stack.release();
}

}  // namespace websession::detail
