// DynamoDB's typed JSON ({"S": "x"}, {"N": "1"}, {"M": {...}}, ...) as it arrives in responses:
// detail::from_wire() and map_from_wire(), then the conversions to session JSON (to_json,
// to_json_object) and base64 (base64_decode, base64_encode).
//
// Invariants: a wire value that parses re-serializes (to_wire) into text that parses to an equal
// value; session JSON made from it converts back to AttributeValue and to the same JSON; base64
// round-trips bytes, and decoded text re-encodes to text that decodes the same.
#include <string>

#include <boost/json/serialize.hpp>

#include "dynamodb/marshal.h"
#include "fuzz_support.h"
#include "websession/dynamodb/attribute_value.h"

namespace {

namespace ddb = websession::dynamodb;

void check_wire_round_trip(const ddb::AttributeValue& a) {
  const std::string text = boost::json::serialize(ddb::detail::to_wire(a, {}));
  boost::json::value again;
  FUZZ_CHECK(websession::fuzz::parse_json(text, again));
  const auto reparsed = ddb::detail::from_wire(again);
  FUZZ_CHECK(reparsed);
  FUZZ_CHECK(*reparsed == a);
}

// JSON -> AttributeValue -> JSON is the identity on whatever to_json() produces.
void check_json_round_trip(const ddb::AttributeValue& a) {
  const auto json = ddb::to_json(a);
  if (!json) {
    FUZZ_CHECK(json.error().code == websession::ErrorCode::invalid_argument);
    return;
  }
  const auto again = ddb::to_json(ddb::to_attribute(*json));
  FUZZ_CHECK(again);
  FUZZ_CHECK(*again == *json);
}

void check_value(const ddb::AttributeValue& a) {
  check_wire_round_trip(a);
  check_json_round_trip(a);
  if (a.is_number()) (void)a.as_int64();
}

void check_map(const ddb::AttributeMap& m) {
  const std::string text = boost::json::serialize(ddb::detail::to_wire(m, {}));
  boost::json::value again;
  FUZZ_CHECK(websession::fuzz::parse_json(text, again));
  const auto reparsed = ddb::detail::map_from_wire(again);
  FUZZ_CHECK(reparsed && *reparsed == m);
  const auto object = ddb::to_json_object(m);
  if (!object) return;
  const auto converted = ddb::to_json_object(ddb::to_attribute_map(*object));
  FUZZ_CHECK(converted && *converted == *object);
}

void check_base64(std::string_view text) {
  const auto decoded_raw = ddb::base64_decode(ddb::base64_encode(text));
  FUZZ_CHECK(decoded_raw && *decoded_raw == text);
  const auto decoded = ddb::base64_decode(text);
  if (!decoded) return;
  const auto again = ddb::base64_decode(ddb::base64_encode(*decoded));
  FUZZ_CHECK(again && *again == *decoded);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = websession::fuzz::as_text(data, size);
  check_base64(text);
  boost::json::value v;
  if (!websession::fuzz::parse_json(text, v)) return 0;
  if (auto a = ddb::detail::from_wire(v)) check_value(*a);
  if (auto m = ddb::detail::map_from_wire(v)) check_map(*m);
  return 0;
}
