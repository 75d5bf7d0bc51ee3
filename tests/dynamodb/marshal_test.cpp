#include "dynamodb/marshal.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "dynamodb/crc32.h"
#include "websession/dynamodb/errors.h"
#include "websession/dynamodb/retry.h"

namespace websession::dynamodb {
namespace {

using boost::json::parse;

TEST(Marshal, GetItemRequest) {
  GetItemRequest r;
  r.table_name = "sessions";
  r.key = {{"id", AttributeValue::string("abc")}};
  EXPECT_EQ(parse(detail::serialize(r)), parse(R"({"TableName":"sessions","Key":{"id":{"S":"abc"}}})"));
  r.consistent_read = true;
  r.projection_expression = "#d";
  r.expression_attribute_names = {{"#d", "data"}};
  r.return_consumed_capacity = ReturnConsumedCapacity::total;
  EXPECT_EQ(parse(detail::serialize(r)),
            parse(R"({"TableName":"sessions","Key":{"id":{"S":"abc"}},"ConsistentRead":true,
                      "ProjectionExpression":"#d","ExpressionAttributeNames":{"#d":"data"},
                      "ReturnConsumedCapacity":"TOTAL"})"));
}

// GetItem's body is written as text directly: every byte of every string must come back.
TEST(Marshal, GetItemRequestEscapesEveryString) {
  std::string all_ascii;
  for (int c = 0; c < 0x80; ++c) all_ascii.push_back(static_cast<char>(c));
  GetItemRequest r;
  r.table_name = "t\"ab\\le";
  r.key = {{"id", AttributeValue::string(all_ascii + "h\xc3\xa9 \xe2\x82\xac")},
           {"n\x01", AttributeValue::number("-1.5E+3")},
           {"b", AttributeValue::binary(std::string("\0\xff\x10\"", 4))}};
  r.projection_expression = "#\n";
  r.expression_attribute_names = {{"#\n", "d\ta"}, {"#x", "\x7f"}};
  const boost::json::value v = parse(detail::serialize(r));
  EXPECT_EQ(v.at("TableName").as_string(), r.table_name);
  const auto key = detail::map_from_wire(v.at("Key"));
  ASSERT_TRUE(key);
  EXPECT_TRUE(*key == r.key);
  EXPECT_EQ(v.at("ProjectionExpression").as_string(), "#\n");
  EXPECT_EQ(v.at("ExpressionAttributeNames").at("#\n").as_string(), "d\ta");
  EXPECT_EQ(v.at("ExpressionAttributeNames").at("#x").as_string(), "\x7f");
  EXPECT_FALSE(v.as_object().contains("ConsistentRead"));

  // A key value of another type (which DynamoDB refuses in a key) is still written faithfully.
  r.key = {{"id", AttributeValue::boolean(true)}};
  const auto odd = detail::map_from_wire(parse(detail::serialize(r)).at("Key"));
  ASSERT_TRUE(odd);
  EXPECT_TRUE(*odd == r.key);
}

TEST(Marshal, WriteRequests) {
  UpdateItemRequest u;
  u.table_name = "t";
  u.key = {{"id", AttributeValue::string("k")}};
  u.update_expression = "SET #v = :v";
  u.condition_expression = "attribute_exists(id)";
  u.expression_attribute_names = {{"#v", "v"}};
  u.expression_attribute_values = {{":v", AttributeValue::number(std::int64_t{1})}};
  u.return_values = ReturnValues::all_new;
  EXPECT_EQ(parse(detail::serialize(u)),
            parse(R"j({"TableName":"t","Key":{"id":{"S":"k"}},"UpdateExpression":"SET #v = :v",
                      "ExpressionAttributeNames":{"#v":"v"},"ExpressionAttributeValues":{":v":{"N":"1"}},
                      "ConditionExpression":"attribute_exists(id)","ReturnValues":"ALL_NEW"})j"));
  PutItemRequest p;
  p.table_name = "t";
  p.item = {{"b", AttributeValue::binary("hi")}, {"bs", AttributeValue::binary_set({"hi"})},
            {"n", AttributeValue::null()}, {"ss", AttributeValue::string_set({"x"})},
            {"ns", AttributeValue::number_set({"1"})}, {"l", AttributeValue::list({AttributeValue::boolean(false)})},
            {"m", AttributeValue::map({})}};
  p.return_values = ReturnValues::all_old;
  EXPECT_EQ(parse(detail::serialize(p)),
            parse(R"({"TableName":"t","Item":{"b":{"B":"aGk="},"bs":{"BS":["aGk="]},"n":{"NULL":true},
                      "ss":{"SS":["x"]},"ns":{"NS":["1"]},"l":{"L":[{"BOOL":false}]},"m":{"M":{}}},
                      "ReturnValues":"ALL_OLD"})"));
  DeleteItemRequest d;
  d.table_name = "t";
  d.key = {{"id", AttributeValue::string("k")}};
  EXPECT_EQ(parse(detail::serialize(d)), parse(R"({"TableName":"t","Key":{"id":{"S":"k"}}})"));
}

TEST(Marshal, TableRequests) {
  CreateTableRequest c{"t", {{"id", "S"}}, {{"id", "HASH"}}};
  EXPECT_EQ(parse(detail::serialize(c)),
            parse(R"({"TableName":"t","AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],
                      "KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"})"));
  EXPECT_EQ(parse(detail::serialize(UpdateTimeToLiveRequest{"t", "expires", true})),
            parse(R"({"TableName":"t","TimeToLiveSpecification":{"AttributeName":"expires","Enabled":true}})"));
  EXPECT_EQ(parse(detail::serialize(DescribeTableRequest{"t"})), parse(R"({"TableName":"t"})"));
  EXPECT_EQ(parse(detail::serialize(DescribeTimeToLiveRequest{"t"})), parse(R"({"TableName":"t"})"));
}

TEST(Marshal, WireRoundTrip) {
  AttributeValue v = AttributeValue::map(
      {{"s", AttributeValue::string("é")}, {"b", AttributeValue::binary(std::string("\0\x01\xff", 3))},
       {"l", AttributeValue::list({AttributeValue::number("1.5"), AttributeValue::null()})},
       {"bs", AttributeValue::binary_set({"a", "b"})}});
  auto back = detail::from_wire(detail::to_wire(v, {}));
  ASSERT_TRUE(back);
  EXPECT_TRUE(*back == v);
}

TEST(Marshal, ParsesResponses) {
  auto g = detail::parse_get_item(parse(
      R"({"Item":{"id":{"S":"x"},"data":{"M":{"n":{"N":"3"}}}},"ConsumedCapacity":{"TableName":"t","CapacityUnits":0.5}})"));
  ASSERT_TRUE(g);
  ASSERT_TRUE(g->item);
  EXPECT_EQ(g->item->at("data").as_map().at("n").as_number(), "3");
  EXPECT_EQ(g->consumed_capacity_units, 0.5);
  auto empty = detail::parse_get_item(parse("{}"));
  ASSERT_TRUE(empty);
  EXPECT_FALSE(empty->item);

  auto u = detail::parse_update_item(parse(R"({"Attributes":{"v":{"N":"2"}}})"));
  ASSERT_TRUE(u);
  EXPECT_EQ(u->attributes->at("v").as_number(), "2");

  auto t = detail::parse_describe_table(parse(
      R"({"Table":{"TableName":"t","TableStatus":"ACTIVE","KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],
          "AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],
          "BillingModeSummary":{"BillingMode":"PAY_PER_REQUEST"}}})"));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->table.table_status, "ACTIVE");
  EXPECT_EQ(t->table.key_schema, (std::vector<KeySchemaElement>{{"id", "HASH"}}));
  EXPECT_EQ(t->table.billing_mode, "PAY_PER_REQUEST");

  auto ttl = detail::parse_describe_time_to_live(
      parse(R"({"TimeToLiveDescription":{"TimeToLiveStatus":"ENABLED","AttributeName":"expires"}})"));
  ASSERT_TRUE(ttl);
  EXPECT_EQ(ttl->status, "ENABLED");
  auto uttl = detail::parse_update_time_to_live(
      parse(R"({"TimeToLiveSpecification":{"AttributeName":"expires","Enabled":true}})"));
  ASSERT_TRUE(uttl);
  EXPECT_TRUE(uttl->enabled);
}

TEST(Marshal, RejectsMalformedResponses) {
  for (const char* bad : {R"([])", R"({"Item":[]})", R"({"Item":{"a":{"S":1}}})", R"({"Item":{"a":{"X":"1"}}})",
                          R"({"Item":{"a":{"S":"x","N":"1"}}})", R"({"Item":{"a":{"B":"!!"}}})"}) {
    auto r = detail::parse_get_item(parse(bad));
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.code(), ErrorCode::internal);
  }
  EXPECT_FALSE(detail::parse_describe_table(parse("{}")));
}

TEST(Crc32, MatchesZlib) {
  EXPECT_EQ(detail::crc32(""), 0u);
  EXPECT_EQ(detail::crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(detail::crc32("{}"), 2745614147u);  // DynamoDB's x-amz-crc32 of an empty object
}

// Byte i of the test pattern (not periodic, so that a wrong fold distance shows).
char pattern_byte(std::size_t i) { return static_cast<char>(((i * 7 + 3) * (i >> 3) + i) & 0xFFU); }

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = pattern_byte(i);
  return s;
}

TEST(Crc32, MatchesZlibAcrossTheFoldingBoundaries) {
  // zlib.crc32 of the pattern, computed by Python's zlib: lengths around the 64- and 16-byte folds.
  const std::pair<std::size_t, std::uint32_t> cases[] = {
      {63, 0x7c43e2c8u}, {64, 0x937ad60fu},  {65, 0x279e510cu},   {79, 0xc0628780u},   {80, 0x2e7b0576u},
      {127, 0x5d6ee9c0u}, {128, 0x4b56d0deu}, {191, 0x1e9a22b6u}, {1000, 0xe41a9028u}, {2309, 0xd8b0ee47u}};
  for (const auto& [n, expected] : cases) {
    const std::string data = pattern(n);
    EXPECT_EQ(detail::crc32(data), expected) << n;
    EXPECT_EQ(detail::crc32_portable(data), expected) << n;
  }
}

TEST(Crc32, TheAcceleratedPathAgreesWithTheTablesAtEveryLengthAndAlignment) {
  if (!detail::crc32_is_accelerated()) GTEST_SKIP() << "this CPU has no carry-less multiplication";
  const std::string data = pattern(700);
  for (std::size_t offset = 0; offset < 16; ++offset) {
    for (std::size_t n = 0; n + offset <= data.size(); n += (n < 200 ? 1 : 37)) {
      const std::string_view piece(data.data() + offset, n);
      ASSERT_EQ(detail::crc32(piece), detail::crc32_portable(piece)) << "offset " << offset << ", length " << n;
    }
  }
}

TEST(Errors, MapsDynamoDbErrorTypes) {
  struct Case {
    const char* type;
    ErrorCode code;
  } cases[] = {
      {"ConditionalCheckFailedException", ErrorCode::aborted},
      {"ResourceNotFoundException", ErrorCode::not_found},
      {"ResourceInUseException", ErrorCode::already_exists},
      {"ValidationException", ErrorCode::invalid_argument},
      {"SerializationException", ErrorCode::invalid_argument},
      {"ItemCollectionSizeLimitExceededException", ErrorCode::invalid_argument},
      {"ThrottlingException", ErrorCode::unavailable},
      {"ProvisionedThroughputExceededException", ErrorCode::unavailable},
      {"RequestLimitExceeded", ErrorCode::unavailable},
      {"UnrecognizedClientException", ErrorCode::permission_denied},
      {"InvalidSignatureException", ErrorCode::permission_denied},
      {"AccessDeniedException", ErrorCode::permission_denied},
      {"MissingAuthenticationToken", ErrorCode::permission_denied},
      {"IncompleteSignature", ErrorCode::permission_denied},
      {"ExpiredTokenException", ErrorCode::permission_denied},
      {"SomethingNewException", ErrorCode::internal},
  };
  for (const Case& c : cases) {
    std::string body = std::string(R"({"__type":"com.amazonaws.dynamodb.v20120810#)") + c.type +
                       R"(","message":"the message"})";
    Error e = error_from_response(400, body);
    EXPECT_EQ(e.code, c.code) << c.type;
    EXPECT_EQ(e.service_type, c.type);
    EXPECT_EQ(e.message, "the message");
  }
  Error capital = error_from_response(400, R"({"__type":"ValidationException","Message":"Capital M"})");
  EXPECT_EQ(capital.message, "Capital M");
  EXPECT_EQ(capital.service_type, "ValidationException");
}

TEST(Errors, ServerErrorsAndGarbageBodies) {
  Error e500 = error_from_response(500, R"({"__type":"com.amazon.coral.service#InternalFailure"})");
  EXPECT_EQ(e500.code, ErrorCode::unavailable);
  EXPECT_TRUE(is_retryable(e500));
  Error html = error_from_response(502, "<html><body>Bad Gateway secret-ish</body></html>");
  EXPECT_EQ(html.code, ErrorCode::unavailable);
  EXPECT_EQ(html.message.find("secret-ish"), std::string::npos);
  Error html400 = error_from_response(400, "<html>nope</html>");
  EXPECT_EQ(html400.code, ErrorCode::internal);
  EXPECT_EQ(html400.message.find("nope"), std::string::npos);
  EXPECT_EQ(error_from_response(429, "").code, ErrorCode::unavailable);
  EXPECT_EQ(error_from_response(403, "").code, ErrorCode::permission_denied);
  EXPECT_EQ(error_from_response(400, R"({"__type":)").code, ErrorCode::internal);
  EXPECT_TRUE(is_throttling("ThrottlingException"));
  EXPECT_FALSE(is_throttling("ValidationException"));
  EXPECT_TRUE(is_expired_token("ExpiredTokenException"));
}

// Found by fuzzing (dynamodb_error): a 5xx whose body named the client's own final transport
// failure was unavailable yet not retryable.
TEST(Errors, AServerCannotClaimTheClientsOwnTransportFailures) {
  for (const char* body : {R"({"__type": "ProtocolError"})", R"({"__type":"com.amazon#TlsError","message":"m"})"}) {
    const Error e5xx = error_from_response(500, body);
    EXPECT_EQ(e5xx.code, ErrorCode::unavailable) << body;
    EXPECT_TRUE(is_retryable(e5xx)) << body;
    EXPECT_EQ(e5xx.service_type, "InternalServerError") << body;
    const Error e4xx = error_from_response(400, body);
    EXPECT_EQ(e4xx.code, ErrorCode::internal) << body;
    EXPECT_FALSE(is_retryable(e4xx)) << body;
    EXPECT_EQ(e4xx.service_type, "") << body;
  }
}

TEST(RetryPolicy, ExponentialCapsAndFullJitter) {
  RetryPolicy p;  // 10 attempts, 25 ms base, 2 s cap
  EXPECT_EQ(p.delay_cap(1).count(), 25);
  EXPECT_EQ(p.delay_cap(2).count(), 50);
  EXPECT_EQ(p.delay_cap(4).count(), 200);
  EXPECT_EQ(p.delay_cap(7).count(), 1600);
  EXPECT_EQ(p.delay_cap(8).count(), 2000);
  EXPECT_EQ(p.delay_cap(100).count(), 2000);
  EXPECT_EQ(p.delay(3, 0.0).count(), 0);
  EXPECT_EQ(p.delay(3, 0.5).count(), 50);
  EXPECT_LT(p.delay(3, 0.999999).count(), 100);
  EXPECT_TRUE(p.may_retry(9));
  EXPECT_FALSE(p.may_retry(10));
}

}  // namespace
}  // namespace websession::dynamodb
