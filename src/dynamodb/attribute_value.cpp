#include "websession/dynamodb/attribute_value.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>

#include <array>
#include <charconv>
#include <cmath>
#include <system_error>
#include <utility>

namespace websession::dynamodb {

std::string_view to_string(AttributeType type) noexcept {
  switch (type) {
    case AttributeType::S: return "S";
    case AttributeType::N: return "N";
    case AttributeType::B: return "B";
    case AttributeType::BOOL: return "BOOL";
    case AttributeType::NUL: return "NULL";
    case AttributeType::M: return "M";
    case AttributeType::L: return "L";
    case AttributeType::SS: return "SS";
    case AttributeType::NS: return "NS";
    case AttributeType::BS: return "BS";
  }
  return "?";
}

AttributeValue::MapBox::MapBox() : ptr(std::make_unique<AttributeMap>()) {}
AttributeValue::MapBox::MapBox(AttributeMap m) : ptr(std::make_unique<AttributeMap>(std::move(m))) {}
AttributeValue::MapBox::MapBox(const MapBox& other) : ptr(std::make_unique<AttributeMap>(*other.ptr)) {}
AttributeValue::MapBox& AttributeValue::MapBox::operator=(const MapBox& other) {
  if (this != &other) ptr = std::make_unique<AttributeMap>(*other.ptr);
  return *this;
}
AttributeValue::MapBox::~MapBox() = default;

AttributeValue AttributeValue::string(std::string s) {
  AttributeValue a;
  a.v_.emplace<0>(std::move(s));
  return a;
}
AttributeValue AttributeValue::number(std::string digits) {
  AttributeValue a;
  a.v_.emplace<1>(std::move(digits));
  return a;
}
AttributeValue AttributeValue::number(std::int64_t n) {
  std::array<char, 24> buf{};
  auto r = std::to_chars(buf.data(), buf.data() + buf.size(), n);
  return number(std::string(buf.data(), r.ptr));
}
AttributeValue AttributeValue::number(std::uint64_t n) {
  std::array<char, 24> buf{};
  auto r = std::to_chars(buf.data(), buf.data() + buf.size(), n);
  return number(std::string(buf.data(), r.ptr));
}
AttributeValue AttributeValue::number(double d) {
  if (!std::isfinite(d)) return null();
  std::array<char, 40> buf{};
  auto r = std::to_chars(buf.data(), buf.data() + buf.size(), d);
  std::string text(buf.data(), r.ptr);
  // "3" would read back as the integer 3: keep decimals decimal.
  if (text.find_first_of(".eE") == std::string::npos) text.append(".0");
  return number(std::move(text));
}
AttributeValue AttributeValue::binary(std::string bytes) {
  AttributeValue a;
  a.v_.emplace<2>(std::move(bytes));
  return a;
}
AttributeValue AttributeValue::boolean(bool b) {
  AttributeValue a;
  a.v_.emplace<3>(b);
  return a;
}
AttributeValue AttributeValue::null() { return AttributeValue(); }
AttributeValue AttributeValue::map(AttributeMap m) {
  AttributeValue a;
  a.v_.emplace<5>(std::move(m));
  return a;
}
AttributeValue AttributeValue::list(std::vector<AttributeValue> l) {
  AttributeValue a;
  a.v_.emplace<6>(std::move(l));
  return a;
}
AttributeValue AttributeValue::string_set(std::vector<std::string> ss) {
  AttributeValue a;
  a.v_.emplace<7>(std::move(ss));
  return a;
}
AttributeValue AttributeValue::number_set(std::vector<std::string> ns) {
  AttributeValue a;
  a.v_.emplace<8>(std::move(ns));
  return a;
}
AttributeValue AttributeValue::binary_set(std::vector<std::string> bs) {
  AttributeValue a;
  a.v_.emplace<9>(std::move(bs));
  return a;
}

std::optional<std::int64_t> AttributeValue::as_int64() const {
  if (!is_number()) return std::nullopt;
  const std::string& t = as_number();
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || p != t.data() + t.size()) return std::nullopt;
  return v;
}

bool operator==(const AttributeValue& a, const AttributeValue& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case AttributeType::S: return a.as_string() == b.as_string();
    case AttributeType::N: return a.as_number() == b.as_number();
    case AttributeType::B: return a.as_binary() == b.as_binary();
    case AttributeType::BOOL: return a.as_bool() == b.as_bool();
    case AttributeType::NUL: return true;
    case AttributeType::M: return a.as_map() == b.as_map();
    case AttributeType::L: return a.as_list() == b.as_list();
    case AttributeType::SS: return a.as_string_set() == b.as_string_set();
    case AttributeType::NS: return a.as_number_set() == b.as_number_set();
    case AttributeType::BS: return a.as_binary_set() == b.as_binary_set();
  }
  return false;
}

namespace {

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Reads an N's text as JSON: int64 if it is an integer that fits, else uint64, else double.
Result<boost::json::value> number_to_json(const std::string& t, boost::json::storage_ptr sp) {
  const char* b = t.data();
  const char* e = t.data() + t.size();
  bool integer = !t.empty();
  for (std::size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (!((c >= '0' && c <= '9') || (i == 0 && (c == '-' || c == '+') && t.size() > 1))) integer = false;
  }
  if (integer) {
    const char* start = (*b == '+') ? b + 1 : b;
    std::int64_t i64 = 0;
    if (auto [p, ec] = std::from_chars(start, e, i64); ec == std::errc() && p == e) {
      return boost::json::value(i64, sp);
    }
    std::uint64_t u64 = 0;
    if (auto [p, ec] = std::from_chars(start, e, u64); ec == std::errc() && p == e) {
      return boost::json::value(u64, sp);
    }
  }
  const char* start = (!t.empty() && *b == '+') ? b + 1 : b;
  double d = 0;
  auto [p, ec] = std::from_chars(start, e, d);
  // Out of double's range is out of DynamoDB's too (1e-130 to 9.99e125): not a number we can read.
  if (t.empty() || p != e || ec != std::errc() || !std::isfinite(d)) {
    return Error(ErrorCode::invalid_argument, "attribute of type N is not a valid number");
  }
  return boost::json::value(d, sp);
}

Result<boost::json::value> to_json_impl(const AttributeValue& a, const boost::json::storage_ptr& sp) {
  switch (a.type()) {
    case AttributeType::S: return boost::json::value(boost::json::string(a.as_string(), sp));
    case AttributeType::N: return number_to_json(a.as_number(), sp);
    case AttributeType::B: return boost::json::value(boost::json::string(base64_encode(a.as_binary()), sp));
    case AttributeType::BOOL: return boost::json::value(a.as_bool(), sp);
    case AttributeType::NUL: return boost::json::value(nullptr, sp);
    case AttributeType::M: {
      boost::json::object o(sp);
      o.reserve(a.as_map().size());
      for (const auto& [k, v] : a.as_map()) {
        auto j = to_json_impl(v, sp);
        if (!j) return j;
        o.emplace(k, std::move(*j));
      }
      return boost::json::value(std::move(o));
    }
    case AttributeType::L: {
      boost::json::array arr(sp);
      arr.reserve(a.as_list().size());
      for (const auto& v : a.as_list()) {
        auto j = to_json_impl(v, sp);
        if (!j) return j;
        arr.push_back(std::move(*j));
      }
      return boost::json::value(std::move(arr));
    }
    case AttributeType::SS: {
      boost::json::array arr(sp);
      for (const auto& s : a.as_string_set()) arr.emplace_back(boost::json::string(s, sp));
      return boost::json::value(std::move(arr));
    }
    case AttributeType::NS: {
      boost::json::array arr(sp);
      for (const auto& s : a.as_number_set()) {
        auto j = number_to_json(s, sp);
        if (!j) return j;
        arr.push_back(std::move(*j));
      }
      return boost::json::value(std::move(arr));
    }
    case AttributeType::BS: {
      boost::json::array arr(sp);
      for (const auto& s : a.as_binary_set()) arr.emplace_back(boost::json::string(base64_encode(s), sp));
      return boost::json::value(std::move(arr));
    }
  }
  return Error(ErrorCode::internal, "unknown attribute type");
}

}  // namespace

AttributeValue to_attribute(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null: return AttributeValue::null();
    case boost::json::kind::bool_: return AttributeValue::boolean(v.get_bool());
    case boost::json::kind::int64: return AttributeValue::number(v.get_int64());
    case boost::json::kind::uint64: return AttributeValue::number(v.get_uint64());
    case boost::json::kind::double_: return AttributeValue::number(v.get_double());
    case boost::json::kind::string: return AttributeValue::string(std::string(v.get_string()));
    case boost::json::kind::array: {
      std::vector<AttributeValue> l;
      l.reserve(v.get_array().size());
      for (const auto& e : v.get_array()) l.push_back(to_attribute(e));
      return AttributeValue::list(std::move(l));
    }
    case boost::json::kind::object: return AttributeValue::map(to_attribute_map(v.get_object()));
  }
  return AttributeValue::null();
}

AttributeMap to_attribute_map(const boost::json::object& o) {
  AttributeMap m;
  for (const auto& kv : o) m.emplace(std::string(kv.key()), to_attribute(kv.value()));
  return m;
}

Result<boost::json::value> to_json(const AttributeValue& a) { return to_json_impl(a, {}); }

Result<boost::json::object> to_json_object(const AttributeMap& m) {
  boost::json::object o;
  o.reserve(m.size());
  for (const auto& [k, v] : m) {
    auto j = to_json_impl(v, {});
    if (!j) return std::move(j).error();
    o.emplace(k, std::move(*j));
  }
  return o;
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<unsigned>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    unsigned n = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out.push_back(kBase64[(n >> 18) & 63]);
    out.push_back(kBase64[(n >> 12) & 63]);
    out.push_back(kBase64[(n >> 6) & 63]);
    out.push_back(kBase64[n & 63]);
  }
  if (std::size_t rest = bytes.size() - i; rest > 0) {
    unsigned n = byte(i) << 16;
    if (rest == 2) n |= byte(i + 1) << 8;
    out.push_back(kBase64[(n >> 18) & 63]);
    out.push_back(kBase64[(n >> 12) & 63]);
    out.push_back(rest == 2 ? kBase64[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  unsigned acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

}  // namespace websession::dynamodb
