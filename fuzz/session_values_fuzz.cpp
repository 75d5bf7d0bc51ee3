// Session values: JSON that an application stores in a session (often straight from a request
// body) checked by validate_fields() and the item-size rules, kept by the memory store as JSON
// text that it parses again on every read, and converted to DynamoDB values by the DynamoDB store.
//
// Invariants: validate_fields() agrees with validate_field_name() on every top-level name;
// check_item_size() agrees with session_item_size(); fields that validate and fit are accepted by
// the memory store and read back equal; JSON -> AttributeValue -> JSON gives the same fields.
#include <chrono>
#include <string>

#include <boost/json/object.hpp>

#include "fuzz_support.h"
#include "websession/dynamodb/attribute_value.h"
#include "websession/memory_session_store.h"
#include "websession/session_id.h"
#include "websession/values.h"

namespace {

using websession::Fields;

websession::MemorySessionStore& store() {
  static websession::MemorySessionStore s(
      websession::MemorySessionStoreOptions{.sweep_interval = std::chrono::milliseconds::zero()});
  return s;
}

const std::string& session_id() {
  static const std::string id = websession::generate_session_id();
  return id;
}

// True when the fields are acceptable to every store.
bool check_validation(const Fields& fields) {
  const bool valid = static_cast<bool>(websession::validate_fields(fields));
  bool names_valid = true;
  for (const auto& kv : fields) names_valid = names_valid && websession::validate_field_name(kv.key());
  if (valid) FUZZ_CHECK(names_valid);
  // Stores size the item by its key (session_key), never the ID.
  const std::string key = websession::session_key(session_id());
  const std::size_t size = websession::session_item_size(key, fields);
  const bool fits = static_cast<bool>(websession::check_item_size(key, fields));
  FUZZ_CHECK(fits == (size <= websession::kMaxItemBytes));
  return valid && fits;
}

void check_memory_store(const Fields& fields) {
  websession::NewSession session;
  session.data = fields;
  session.created = websession::system_now();
  session.expires = session.absolute_expires = session.created + std::chrono::hours(1);
  const websession::Status created = store().create(session_id(), session);
  FUZZ_CHECK(created);
  const auto got = store().get(session_id());
  FUZZ_CHECK(got && got->has_value());
  FUZZ_CHECK((*got)->data == fields);
  FUZZ_CHECK(store().destroy(session_id()));
}

void check_attribute_round_trip(const Fields& fields) {
  const auto back = websession::dynamodb::to_json_object(websession::dynamodb::to_attribute_map(fields));
  FUZZ_CHECK(back);
  FUZZ_CHECK(*back == fields);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  boost::json::value v;
  if (!websession::fuzz::parse_json(websession::fuzz::as_text(data, size), v)) return 0;
  (void)websession::attribute_value_size(v);
  if (!v.is_object()) return 0;
  const Fields& fields = v.get_object();
  if (!check_validation(fields)) return 0;
  check_memory_store(fields);
  check_attribute_round_trip(fields);
  return 0;
}
