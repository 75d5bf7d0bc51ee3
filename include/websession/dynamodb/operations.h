// The DynamoDB operations websession uses: their requests and responses.
//
// Field names follow the DynamoDB API in snake_case; see the DynamoDB API reference for semantics.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "websession/dynamodb/attribute_value.h"

namespace websession::dynamodb {

/// Which item attributes a write returns.
enum class ReturnValues { none, all_old, updated_old, all_new, updated_new };
/// Whether the response reports consumed capacity.
enum class ReturnConsumedCapacity { none, total, indexes };

/// DynamoDB's spelling: "NONE", "ALL_OLD", ...
[[nodiscard]] std::string_view to_string(ReturnValues v) noexcept;
/// DynamoDB's spelling: "NONE", "TOTAL", "INDEXES".
[[nodiscard]] std::string_view to_string(ReturnConsumedCapacity v) noexcept;

/// Expression attribute names: "#n" to the attribute name.
using ExpressionNames = std::map<std::string, std::string>;

struct GetItemRequest {
  std::string table_name;
  AttributeMap key;
  bool consistent_read = false;
  std::optional<std::string> projection_expression;
  ExpressionNames expression_attribute_names;
  ReturnConsumedCapacity return_consumed_capacity = ReturnConsumedCapacity::none;
};
struct GetItemResponse {
  /// nullopt when no item has the key.
  std::optional<AttributeMap> item;
  std::optional<double> consumed_capacity_units;
};

struct PutItemRequest {
  std::string table_name;
  AttributeMap item;
  std::optional<std::string> condition_expression;
  ExpressionNames expression_attribute_names;
  AttributeMap expression_attribute_values;
  ReturnValues return_values = ReturnValues::none;
  ReturnConsumedCapacity return_consumed_capacity = ReturnConsumedCapacity::none;
};
struct PutItemResponse {
  std::optional<AttributeMap> attributes;
  std::optional<double> consumed_capacity_units;
};

struct UpdateItemRequest {
  std::string table_name;
  AttributeMap key;
  std::string update_expression;
  std::optional<std::string> condition_expression;
  ExpressionNames expression_attribute_names;
  AttributeMap expression_attribute_values;
  ReturnValues return_values = ReturnValues::none;
  ReturnConsumedCapacity return_consumed_capacity = ReturnConsumedCapacity::none;
};
struct UpdateItemResponse {
  std::optional<AttributeMap> attributes;
  std::optional<double> consumed_capacity_units;
};

struct DeleteItemRequest {
  std::string table_name;
  AttributeMap key;
  std::optional<std::string> condition_expression;
  ExpressionNames expression_attribute_names;
  AttributeMap expression_attribute_values;
  ReturnValues return_values = ReturnValues::none;
  ReturnConsumedCapacity return_consumed_capacity = ReturnConsumedCapacity::none;
};
struct DeleteItemResponse {
  std::optional<AttributeMap> attributes;
  std::optional<double> consumed_capacity_units;
};

struct KeySchemaElement {
  std::string attribute_name;
  std::string key_type;  ///< "HASH" or "RANGE"
  friend bool operator==(const KeySchemaElement&, const KeySchemaElement&) = default;
};
struct AttributeDefinition {
  std::string attribute_name;
  std::string attribute_type;  ///< "S", "N" or "B"
  friend bool operator==(const AttributeDefinition&, const AttributeDefinition&) = default;
};

struct CreateTableRequest {
  std::string table_name;
  std::vector<AttributeDefinition> attribute_definitions;
  std::vector<KeySchemaElement> key_schema;
  /// "PAY_PER_REQUEST" (on-demand). "PROVISIONED" is sent with 1 read and 1 write unit.
  std::string billing_mode = "PAY_PER_REQUEST";
};
struct TableDescription {
  std::string table_name;
  std::string table_status;  ///< "CREATING", "ACTIVE", ...
  std::vector<KeySchemaElement> key_schema;
  std::vector<AttributeDefinition> attribute_definitions;
  /// From BillingModeSummary; empty when the server does not report it.
  std::string billing_mode;
  /// The table's ARN (for TagResource); empty when the server does not report it.
  std::string table_arn;
};
struct CreateTableResponse {
  TableDescription table;
};
struct DescribeTableRequest {
  std::string table_name;
};
struct DescribeTableResponse {
  TableDescription table;
};

struct UpdateTimeToLiveRequest {
  std::string table_name;
  std::string attribute_name;
  bool enabled = true;
};
struct UpdateTimeToLiveResponse {
  std::string attribute_name;
  bool enabled = false;
};
struct DescribeTimeToLiveRequest {
  std::string table_name;
};
struct DescribeTimeToLiveResponse {
  std::string status;  ///< "ENABLED", "DISABLED", "ENABLING", "DISABLING"
  std::string attribute_name;
};

/// The keys to read from one table in a BatchGetItem, and how.
struct KeysAndAttributes {
  std::vector<AttributeMap> keys;
  bool consistent_read = false;
  std::optional<std::string> projection_expression;
  ExpressionNames expression_attribute_names;
};
/// Up to 100 keys over one or more tables.
struct BatchGetItemRequest {
  /// By table name.
  std::map<std::string, KeysAndAttributes> request_items;
  ReturnConsumedCapacity return_consumed_capacity = ReturnConsumedCapacity::none;
};
struct BatchGetItemResponse {
  /// The items found, by table name (in no particular order; missing keys are simply absent).
  std::map<std::string, std::vector<AttributeMap>> responses;
  /// What DynamoDB did not read this time (throttling, the 16 MB limit): send these again, with
  /// backoff. Empty when everything was read.
  std::map<std::string, KeysAndAttributes> unprocessed_keys;
};

/// One page of a table (or index) scan.
struct ScanRequest {
  std::string table_name;
  std::optional<std::string> index_name;
  /// The most items to evaluate in this page.
  std::optional<std::int32_t> limit;
  /// The previous page's last_evaluated_key, to continue from.
  std::optional<AttributeMap> exclusive_start_key;
  std::optional<std::string> projection_expression;
  std::optional<std::string> filter_expression;
  ExpressionNames expression_attribute_names;
  AttributeMap expression_attribute_values;
  bool consistent_read = false;
  /// Parallel scan: this segment of total_segments (both or neither).
  std::optional<std::int32_t> segment;
  std::optional<std::int32_t> total_segments;
  ReturnConsumedCapacity return_consumed_capacity = ReturnConsumedCapacity::none;
};
struct ScanResponse {
  std::vector<AttributeMap> items;
  /// Items returned (after the filter) and evaluated (before it).
  std::int64_t count = 0;
  std::int64_t scanned_count = 0;
  /// Set when there is another page: pass it as the next request's exclusive_start_key.
  std::optional<AttributeMap> last_evaluated_key;
  std::optional<double> consumed_capacity_units;
};

/// One write of a BatchWriteItem: a put of a whole item, or a delete by key.
struct WriteRequest {
  std::optional<AttributeMap> put_item;
  std::optional<AttributeMap> delete_key;
  [[nodiscard]] static WriteRequest put(AttributeMap item) { return {std::move(item), std::nullopt}; }
  [[nodiscard]] static WriteRequest remove(AttributeMap key) { return {std::nullopt, std::move(key)}; }
};
/// Up to 25 puts and deletes over one or more tables (unconditional, not a transaction).
struct BatchWriteItemRequest {
  /// By table name.
  std::map<std::string, std::vector<WriteRequest>> request_items;
  ReturnConsumedCapacity return_consumed_capacity = ReturnConsumedCapacity::none;
};
struct BatchWriteItemResponse {
  /// What DynamoDB did not write this time: send these again, with backoff. Empty when done.
  std::map<std::string, std::vector<WriteRequest>> unprocessed_items;
};

struct Tag {
  std::string key;
  std::string value;
  friend bool operator==(const Tag&, const Tag&) = default;
};
struct TagResourceRequest {
  std::string resource_arn;  ///< a table's TableDescription::table_arn
  std::vector<Tag> tags;
};
struct TagResourceResponse {};

/// A table's continuous backups and point-in-time recovery state.
struct ContinuousBackupsDescription {
  std::string continuous_backups_status;       ///< "ENABLED", "DISABLED"
  std::string point_in_time_recovery_status;  ///< "ENABLED", "DISABLED"
};
/// Turns point-in-time recovery on or off.
struct UpdateContinuousBackupsRequest {
  std::string table_name;
  bool point_in_time_recovery_enabled = true;
};
struct UpdateContinuousBackupsResponse {
  ContinuousBackupsDescription description;
};
struct DescribeContinuousBackupsRequest {
  std::string table_name;
};
struct DescribeContinuousBackupsResponse {
  ContinuousBackupsDescription description;
};

}  // namespace websession::dynamodb
