// DynamoDB's answers to the operations websession calls: every response parser in
// dynamodb/marshal.h (parse_get_item ... parse_describe_time_to_live) on the same body, parsed as
// the client parses it, then the item as the DynamoDB store reads it (each map attribute, such as
// `data`, converted to session JSON and validated).
//
// Also the GetItem decoder the client uses (streamed, no JSON tree) and the x-amz-crc32 checksum
// over the same bytes.
//
// Invariants: no parser crashes or throws; a failure is `internal` (a corrupted answer), or
// `unavailable` for the streamed decoder's answer that is not JSON at all; where both GetItem
// decoders accept an answer they give the same item; an item that parses goes back into a PutItem
// request body that parses to the same item; the accelerated CRC-32 equals the table-driven one.
#include <string>
#include <string_view>

#include "dynamodb/crc32.h"
#include "dynamodb/marshal.h"
#include "fuzz_support.h"
#include "websession/dynamodb/attribute_value.h"
#include "websession/values.h"

namespace {

namespace ddb = websession::dynamodb;

template <class T>
void check_failure(const websession::Result<T>& r) {
  if (!r) FUZZ_CHECK(r.error().code == websession::ErrorCode::internal);
}

// The DynamoDB store's read path: `data` (or any map attribute) as session fields.
void check_item(const ddb::AttributeMap& item) {
  for (const auto& [name, value] : item) {
    if (!value.is_map()) continue;
    if (auto fields = ddb::to_json_object(value.as_map())) (void)websession::validate_fields(*fields);
  }
  ddb::PutItemRequest put;
  put.table_name = "sessions";
  put.item = item;
  boost::json::value body;
  FUZZ_CHECK(websession::fuzz::parse_json(ddb::detail::serialize(put), body));
  const auto again = ddb::detail::map_from_wire(body.at("Item"));
  FUZZ_CHECK(again && *again == item);
}

template <class Response>
void check_write(const websession::Result<Response>& r) {
  check_failure(r);
  if (r && r->attributes) check_item(*r->attributes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = websession::fuzz::as_text(data, size);
  FUZZ_CHECK(ddb::detail::crc32(text) == ddb::detail::crc32_portable(text));
  const auto streamed = ddb::detail::decode_get_item(200, text);
  if (!streamed) {
    FUZZ_CHECK(streamed.error().code == websession::ErrorCode::internal ||
               streamed.error().code == websession::ErrorCode::unavailable);
  }
  boost::json::value body;
  if (!websession::fuzz::parse_json(text, body)) return 0;
  const auto get = ddb::detail::parse_get_item(body);
  check_failure(get);
  if (get && get->item) check_item(*get->item);
  if (get && streamed) {
    FUZZ_CHECK(get->item.has_value() == streamed->item.has_value());
    if (get->item && streamed->item) FUZZ_CHECK(*get->item == *streamed->item);
  }
  check_write(ddb::detail::parse_put_item(body));
  check_write(ddb::detail::parse_update_item(body));
  check_write(ddb::detail::parse_delete_item(body));
  check_failure(ddb::detail::parse_create_table(body));
  check_failure(ddb::detail::parse_describe_table(body));
  check_failure(ddb::detail::parse_update_time_to_live(body));
  check_failure(ddb::detail::parse_describe_time_to_live(body));
  return 0;
}
