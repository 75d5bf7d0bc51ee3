// DynamoDB's typed values (AttributeValue) and their lossless conversion to and from JSON.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/json/value.hpp>

#include "websession/result.h"

namespace websession::dynamodb {

class AttributeValue;

/// An item or a map value: attribute name to value. Heterogeneous lookup: find(std::string_view).
using AttributeMap = std::map<std::string, AttributeValue, std::less<>>;

/// The DynamoDB data types. NUL stands for NULL (a macro name in C++).
enum class AttributeType { S, N, B, BOOL, NUL, M, L, SS, NS, BS };

/// DynamoDB's name of a type: "S", "N", ..., "NULL".
[[nodiscard]] std::string_view to_string(AttributeType type) noexcept;

/// One DynamoDB value. Numbers are kept as their decimal text (DynamoDB numbers have 38 digits of
/// precision, more than any C++ arithmetic type); binaries as raw bytes (base64 only on the wire).
///
///   AttributeMap item{{"id", AttributeValue::string("abc")},
///                     {"expires", AttributeValue::number(std::int64_t{1700000000})}};
///
/// Accessors of the wrong type throw std::bad_variant_access (a programmer error); test with
/// type() or is_x() first.
class AttributeValue {
 public:
  /// NULL.
  AttributeValue() = default;

  [[nodiscard]] static AttributeValue string(std::string s);
  /// A number from its decimal text, kept verbatim (DynamoDB validates it).
  [[nodiscard]] static AttributeValue number(std::string digits);
  [[nodiscard]] static AttributeValue number(std::int64_t n);
  [[nodiscard]] static AttributeValue number(std::uint64_t n);
  /// Shortest text that reads back as the same double; integral values keep a ".0" so that they
  /// read back as decimals. Non-finite values cannot be stored: they give NULL.
  [[nodiscard]] static AttributeValue number(double d);
  [[nodiscard]] static AttributeValue binary(std::string bytes);
  [[nodiscard]] static AttributeValue boolean(bool b);
  [[nodiscard]] static AttributeValue null();
  [[nodiscard]] static AttributeValue map(AttributeMap m);
  [[nodiscard]] static AttributeValue list(std::vector<AttributeValue> l);
  [[nodiscard]] static AttributeValue string_set(std::vector<std::string> ss);
  [[nodiscard]] static AttributeValue number_set(std::vector<std::string> ns);
  [[nodiscard]] static AttributeValue binary_set(std::vector<std::string> bs);

  [[nodiscard]] AttributeType type() const noexcept { return static_cast<AttributeType>(v_.index()); }
  [[nodiscard]] bool is_string() const noexcept { return type() == AttributeType::S; }
  [[nodiscard]] bool is_number() const noexcept { return type() == AttributeType::N; }
  [[nodiscard]] bool is_binary() const noexcept { return type() == AttributeType::B; }
  [[nodiscard]] bool is_bool() const noexcept { return type() == AttributeType::BOOL; }
  [[nodiscard]] bool is_null() const noexcept { return type() == AttributeType::NUL; }
  [[nodiscard]] bool is_map() const noexcept { return type() == AttributeType::M; }
  [[nodiscard]] bool is_list() const noexcept { return type() == AttributeType::L; }
  [[nodiscard]] bool is_string_set() const noexcept { return type() == AttributeType::SS; }
  [[nodiscard]] bool is_number_set() const noexcept { return type() == AttributeType::NS; }
  [[nodiscard]] bool is_binary_set() const noexcept { return type() == AttributeType::BS; }

  [[nodiscard]] const std::string& as_string() const { return std::get<0>(v_); }
  /// The number's decimal text.
  [[nodiscard]] const std::string& as_number() const { return std::get<1>(v_); }
  [[nodiscard]] const std::string& as_binary() const { return std::get<2>(v_); }
  [[nodiscard]] bool as_bool() const { return std::get<3>(v_); }
  [[nodiscard]] const AttributeMap& as_map() const { return *std::get<5>(v_).ptr; }
  [[nodiscard]] AttributeMap& as_map() { return *std::get<5>(v_).ptr; }
  [[nodiscard]] const std::vector<AttributeValue>& as_list() const { return std::get<6>(v_); }
  [[nodiscard]] std::vector<AttributeValue>& as_list() { return std::get<6>(v_); }
  [[nodiscard]] const std::vector<std::string>& as_string_set() const { return std::get<7>(v_); }
  [[nodiscard]] const std::vector<std::string>& as_number_set() const { return std::get<8>(v_); }
  [[nodiscard]] const std::vector<std::string>& as_binary_set() const { return std::get<9>(v_); }

  /// The number as an integer, if its text is one that fits.
  [[nodiscard]] std::optional<std::int64_t> as_int64() const;

  friend bool operator==(const AttributeValue& a, const AttributeValue& b);

 private:
  // A map of AttributeValue inside AttributeValue needs an indirection; this box gives it value
  // semantics (deep copy).
  struct MapBox {
    std::unique_ptr<AttributeMap> ptr;
    MapBox();
    explicit MapBox(AttributeMap m);
    MapBox(const MapBox& other);
    MapBox(MapBox&&) noexcept = default;
    MapBox& operator=(const MapBox& other);
    MapBox& operator=(MapBox&&) noexcept = default;
    ~MapBox();
  };
  struct Null {
    friend bool operator==(Null, Null) noexcept { return true; }
  };
  // The alternatives' order matches AttributeType.
  using Storage = std::variant<std::string, std::string, std::string, bool, Null, MapBox,
                               std::vector<AttributeValue>, std::vector<std::string>,
                               std::vector<std::string>, std::vector<std::string>>;
  Storage v_{std::in_place_index<4>};
};

/// Converts JSON to a value losslessly: string to S, number to N (integers keep their digits,
/// doubles their shortest round-trip text with a ".0" kept for integral doubles), bool to BOOL,
/// null to NULL, array to L, object to M.
[[nodiscard]] AttributeValue to_attribute(const boost::json::value& v);

/// Converts an object's entries, as to_attribute().
[[nodiscard]] AttributeMap to_attribute_map(const boost::json::object& o);

/// Converts a value to JSON: S to string, N to int64 if its text is an integer that fits, else
/// uint64, else double; BOOL, NULL, L and M as expected; SS and NS to arrays; B to a base64 string
/// and BS to an array of them. invalid_argument for a number that is not a valid number.
[[nodiscard]] Result<boost::json::value> to_json(const AttributeValue& a);

/// Converts a map to a JSON object, as to_json().
[[nodiscard]] Result<boost::json::object> to_json_object(const AttributeMap& m);

/// Standard base64 (with padding), as DynamoDB's wire format uses for B and BS.
[[nodiscard]] std::string base64_encode(std::string_view bytes);
/// Decodes standard base64 (padding optional); nullopt if malformed.
[[nodiscard]] std::optional<std::string> base64_decode(std::string_view text);

}  // namespace websession::dynamodb
