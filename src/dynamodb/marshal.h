// DynamoDB's JSON wire format (the "application/x-amz-json-1.0" protocol): request bodies and
// response parsing, as pure functions. Private to websession::dynamodb; tested directly.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>

#include "websession/dynamodb/attribute_value.h"
#include "websession/dynamodb/operations.h"
#include "websession/result.h"

namespace websession::dynamodb::detail {

/// {"S": "..."}, {"N": "..."}, {"B": "<base64>"}, ..., {"M": {...}}.
[[nodiscard]] boost::json::value to_wire(const AttributeValue& a, const boost::json::storage_ptr& sp);
/// An AttributeMap as a wire object.
[[nodiscard]] boost::json::value to_wire(const AttributeMap& m, const boost::json::storage_ptr& sp);
/// Parses a wire value; internal when it is not one (a corrupted answer).
[[nodiscard]] Result<AttributeValue> from_wire(const boost::json::value& v);
[[nodiscard]] Result<AttributeMap> map_from_wire(const boost::json::value& v);

/// Request bodies. `sp` is the scratch memory of the intermediate JSON (a monotonic buffer on the
/// hot path); the returned string is the body.
[[nodiscard]] std::string serialize(const GetItemRequest& r, const boost::json::storage_ptr& sp = {});
[[nodiscard]] std::string serialize(const PutItemRequest& r, const boost::json::storage_ptr& sp = {});
[[nodiscard]] std::string serialize(const UpdateItemRequest& r, const boost::json::storage_ptr& sp = {});
[[nodiscard]] std::string serialize(const DeleteItemRequest& r, const boost::json::storage_ptr& sp = {});
[[nodiscard]] std::string serialize(const CreateTableRequest& r, const boost::json::storage_ptr& sp = {});
[[nodiscard]] std::string serialize(const DescribeTableRequest& r, const boost::json::storage_ptr& sp = {});
[[nodiscard]] std::string serialize(const UpdateTimeToLiveRequest& r, const boost::json::storage_ptr& sp = {});
[[nodiscard]] std::string serialize(const DescribeTimeToLiveRequest& r, const boost::json::storage_ptr& sp = {});
[[nodiscard]] std::string serialize(const BatchGetItemRequest& r, const boost::json::storage_ptr& sp = {});
[[nodiscard]] std::string serialize(const ScanRequest& r, const boost::json::storage_ptr& sp = {});
[[nodiscard]] std::string serialize(const BatchWriteItemRequest& r, const boost::json::storage_ptr& sp = {});
[[nodiscard]] std::string serialize(const TagResourceRequest& r, const boost::json::storage_ptr& sp = {});
[[nodiscard]] std::string serialize(const UpdateContinuousBackupsRequest& r, const boost::json::storage_ptr& sp = {});
[[nodiscard]] std::string serialize(const DescribeContinuousBackupsRequest& r, const boost::json::storage_ptr& sp = {});

/// The scratch memory a call of `Request` wants for its JSON trees (request and answer). GetItem
/// builds none: its request is written as text and its answer streamed (decode_get_item), so its
/// coroutine frame stays small (an 8 KB frame costs a trip through malloc's slow path per call).
template <class Request>
inline constexpr std::size_t kJsonScratchBytes = 8192;
template <>
inline constexpr std::size_t kJsonScratchBytes<GetItemRequest> = 64;

/// GetItem's 2xx answer decoded straight from its text by a streaming parser (no JSON tree):
/// internal if the JSON has the wrong shape, unavailable (kMalformedResponse) if it is not JSON.
[[nodiscard]] Result<GetItemResponse> decode_get_item(unsigned status, std::string_view body);

/// Response parsers, from the parsed body of a 2xx answer. internal if the shape is wrong.
[[nodiscard]] Result<GetItemResponse> parse_get_item(const boost::json::value& body);
[[nodiscard]] Result<PutItemResponse> parse_put_item(const boost::json::value& body);
[[nodiscard]] Result<UpdateItemResponse> parse_update_item(const boost::json::value& body);
[[nodiscard]] Result<DeleteItemResponse> parse_delete_item(const boost::json::value& body);
[[nodiscard]] Result<CreateTableResponse> parse_create_table(const boost::json::value& body);
[[nodiscard]] Result<DescribeTableResponse> parse_describe_table(const boost::json::value& body);
[[nodiscard]] Result<UpdateTimeToLiveResponse> parse_update_time_to_live(const boost::json::value& body);
[[nodiscard]] Result<DescribeTimeToLiveResponse> parse_describe_time_to_live(const boost::json::value& body);
[[nodiscard]] Result<BatchGetItemResponse> parse_batch_get_item(const boost::json::value& body);
[[nodiscard]] Result<ScanResponse> parse_scan(const boost::json::value& body);
[[nodiscard]] Result<BatchWriteItemResponse> parse_batch_write_item(const boost::json::value& body);
[[nodiscard]] Result<TagResourceResponse> parse_tag_resource(const boost::json::value& body);
[[nodiscard]] Result<UpdateContinuousBackupsResponse> parse_update_continuous_backups(const boost::json::value& body);
[[nodiscard]] Result<DescribeContinuousBackupsResponse> parse_describe_continuous_backups(
    const boost::json::value& body);

}  // namespace websession::dynamodb::detail
