#include "websession/values.h"

#include <charconv>
#include <string>

namespace websession {
namespace {

// Length of the UTF-8 sequence starting at s[i], or 0 if it is not valid UTF-8 (overlong forms,
// surrogates and code points past U+10FFFF are rejected, as in RFC 3629).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t len = 0;
  unsigned min_second = 0x80, max_second = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) min_second = 0xA0;
    if (c == 0xED) max_second = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) min_second = 0x90;
    if (c == 0xF4) max_second = 0x8F;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  if (byte(i + 1) < min_second || byte(i + 1) > max_second) return 0;
  for (std::size_t k = 2; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  return len;
}

bool is_valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t len = utf8_sequence_length(s, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

Status validate_nested(const Value& v, int depth) {
  // DynamoDB nests documents at most 32 levels deep.
  if (depth > 32) return Error(ErrorCode::invalid_argument, "session value nested deeper than 32 levels");
  if (v.is_string()) {
    if (!is_valid_utf8(v.get_string())) {
      return Error(ErrorCode::invalid_argument, "session string value is not valid UTF-8");
    }
  } else if (v.is_array()) {
    for (const Value& e : v.get_array()) {
      if (auto st = validate_nested(e, depth + 1); !st) return st;
    }
  } else if (v.is_object()) {
    for (const auto& kv : v.get_object()) {
      if (!is_valid_utf8(kv.key())) {
        return Error(ErrorCode::invalid_argument, "nested object key is not valid UTF-8");
      }
      if (auto st = validate_nested(kv.value(), depth + 1); !st) return st;
    }
  } else if (v.is_double()) {
    const double d = v.get_double();
    if (d != d || d - d != 0) {  // NaN or infinite: DynamoDB numbers are finite
      return Error(ErrorCode::invalid_argument, "session number value is not finite");
    }
  }
  return {};
}

std::size_t number_size(const Value& v) {
  // DynamoDB: one byte per two significant digits, plus one. Count the digits of the shortest text.
  char buf[32];
  std::to_chars_result r{};
  if (v.is_int64()) {
    r = std::to_chars(buf, buf + sizeof buf, v.get_int64());
  } else if (v.is_uint64()) {
    r = std::to_chars(buf, buf + sizeof buf, v.get_uint64());
  } else {
    r = std::to_chars(buf, buf + sizeof buf, v.get_double());
  }
  std::size_t digits = 0;
  for (const char* p = buf; p != r.ptr && *p != 'e'; ++p) {
    if (*p >= '0' && *p <= '9') ++digits;
  }
  return (digits + 1) / 2 + 1;
}

}  // namespace

Status validate_field_name(std::string_view name) {
  if (name.empty()) return Error(ErrorCode::invalid_argument, "field name is empty");
  if (name.size() > kMaxFieldNameBytes) {
    return Error(ErrorCode::invalid_argument, "field name is " + std::to_string(name.size()) +
                                                  " bytes; the limit is " +
                                                  std::to_string(kMaxFieldNameBytes));
  }
  if (!is_valid_utf8(name)) return Error(ErrorCode::invalid_argument, "field name is not valid UTF-8");
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      return Error(ErrorCode::invalid_argument, "field name contains a control character");
    }
  }
  return {};
}

Status validate_fields(const Fields& fields) {
  for (const auto& kv : fields) {
    if (auto st = validate_field_name(kv.key()); !st) return st;
    if (auto st = validate_nested(kv.value(), 1); !st) return st;
  }
  return {};
}

std::size_t attribute_value_size(const Value& value) {
  switch (value.kind()) {
    case boost::json::kind::string: return value.get_string().size();
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_: return number_size(value);
    case boost::json::kind::bool_:
    case boost::json::kind::null: return 1;
    case boost::json::kind::array: {
      std::size_t n = 3;
      for (const Value& e : value.get_array()) n += 1 + attribute_value_size(e);
      return n;
    }
    case boost::json::kind::object: {
      std::size_t n = 3;
      for (const auto& kv : value.get_object()) n += 1 + kv.key().size() + attribute_value_size(kv.value());
      return n;
    }
  }
  return 0;
}

std::size_t session_item_size(std::string_view id, const Fields& data) {
  std::size_t n = 0;
  n += 2 + id.size();            // id
  n += 7 + 7;                    // expires: ten-digit epoch seconds
  n += 10 + 32;                  // lock_owner: a 32-character token
  n += 9 + 8;                    // lock_time: thirteen-digit epoch milliseconds
  n += 4 + 3;                    // data: the map itself
  n += kMaxSessionMetadataBytes;  // created, last seen, absolute expiry, owner, sid, user agent
  for (const auto& kv : data) n += 1 + kv.key().size() + attribute_value_size(kv.value());
  return n;
}

Status check_item_size(std::string_view id, const Fields& data) {
  const std::size_t size = session_item_size(id, data);
  if (size > kMaxItemBytes) {
    return Error(ErrorCode::invalid_argument, "session item would be " + std::to_string(size) +
                                                  " bytes; DynamoDB's limit is " +
                                                  std::to_string(kMaxItemBytes) + " bytes");
  }
  return {};
}

}  // namespace websession
