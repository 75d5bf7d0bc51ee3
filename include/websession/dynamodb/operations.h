// The DynamoDB operations websession uses: their requests and responses.
//
// Field names follow the DynamoDB API in snake_case; see the DynamoDB API reference for semantics.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
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

}  // namespace websession::dynamodb
