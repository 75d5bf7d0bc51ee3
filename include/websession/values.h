// Session values: a session's data is a JSON object (Boost.JSON), one entry per field.
#pragma once

#include <cstddef>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "websession/result.h"

namespace websession {

/// A session's fields: name to JSON value.
using Fields = boost::json::object;
/// One field's value.
using Value = boost::json::value;

/// DynamoDB's item size limit, which every store enforces so that data behaves the same everywhere.
inline constexpr std::size_t kMaxItemBytes = 400 * 1024;
/// The longest owner (principal) and provider session (`sid`) accepted, in bytes each.
inline constexpr std::size_t kMaxOwnerBytes = 1024;
/// The longest user agent kept; longer ones are cut (at a UTF-8 boundary).
inline constexpr std::size_t kMaxUserAgentBytes = 256;
/// What a session item's own attributes may take besides its data: the three timestamps, owner,
/// sid and user agent at their longest, with their names.
inline constexpr std::size_t kMaxSessionMetadataBytes = 2 * kMaxOwnerBytes + kMaxUserAgentBytes + 128;
/// The longest field name accepted, in bytes.
inline constexpr std::size_t kMaxFieldNameBytes = 255;

/// Checks a field name: 1 to kMaxFieldNameBytes bytes, valid UTF-8, no control characters.
/// Returns invalid_argument naming the problem (never the name itself if it is not printable).
Status validate_field_name(std::string_view name);

/// Checks every field name in `fields`, recursively for nested objects' keys being valid UTF-8.
Status validate_fields(const Fields& fields);

/// The size DynamoDB would count for a value: strings and names in UTF-8 bytes, numbers by their
/// significant digits (about one byte per two digits, plus one), booleans and null one byte, plus
/// three bytes per list or map and one per element, as the DynamoDB developer guide describes.
std::size_t attribute_value_size(const Value& value);

/// The size DynamoDB would count for an item holding `id`, `expires`, the data map, the lock
/// attributes and the session's metadata (an upper bound: the lock attributes and the metadata are
/// counted as if present and at their longest).
std::size_t session_item_size(std::string_view id, const Fields& data);

/// invalid_argument with the size when session_item_size() exceeds kMaxItemBytes.
Status check_item_size(std::string_view id, const Fields& data);

}  // namespace websession
