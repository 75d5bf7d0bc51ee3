// The client's protocol logic, without a socket: signing an attempt, interpreting answers, and
// the retry decisions (backoff, deadline, retry quota).
#include "dynamodb/protocol.h"

#include <gtest/gtest.h>

#include "dynamodb/crc32.h"
#include "dynamodb/marshal.h"
#include "websession/dynamodb/errors.h"

namespace websession::dynamodb::detail {
namespace {

using namespace std::chrono_literals;
using std::chrono::steady_clock;

TEST(SignRequest, SignsTheHeadersItSends) {
  aws::Signer signer("us-east-1", "dynamodb");
  SignedRequest out;
  aws::Credentials c{"AKID", "SECRET", "TOKEN", std::nullopt};
  auto s = sign_request(out, signer, c, "dynamodb.us-east-1.amazonaws.com", "/", Op::get_item, "{}",
                        "20150830T123600Z");
  ASSERT_TRUE(s) << s.error().describe();
  ASSERT_EQ(out.view().size(), 6u);
  EXPECT_EQ(out.view()[0].name, "Host");
  EXPECT_EQ(out.view()[2].value, "20150830T123600Z");
  EXPECT_EQ(out.view()[3].value, "DynamoDB_20120810.GetItem");
  EXPECT_NE(out.authorization.find("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target"),
            std::string::npos);
  EXPECT_EQ(out.view()[5].value, "TOKEN");
  EXPECT_EQ(operation_name(Op::describe_continuous_backups), "DescribeContinuousBackups");
}

// The session token went into a header unchecked: a token with a line break injected headers.
TEST(SignRequest, RefusesCredentialsWithLineBreaks) {
  aws::Signer signer("us-east-1", "dynamodb");
  for (const char* token : {"T\r\nX-Injected: 1", "T\n", "T\r"}) {
    SignedRequest out;
    auto s = sign_request(out, signer, aws::Credentials{"AKID", "S", token, std::nullopt}, "h", "/", Op::get_item, "{}",
                          "20150830T123600Z");
    ASSERT_FALSE(s);
    EXPECT_EQ(s.code(), ErrorCode::permission_denied);
    EXPECT_EQ(s.error().message.find("Injected"), std::string::npos);
  }
}

TEST(CheckResponse, ChecksTheChecksumThenTheStatus) {
  const std::string body = R"({"Item":{"id":{"S":"a"}}})";
  const std::string good = std::to_string(crc32(body));
  EXPECT_TRUE(check_response(Op::get_item, 200, &good, body));
  const std::string bad = "1";
  EXPECT_EQ(check_response(Op::get_item, 200, &bad, body).error().service_type, kCrc32Mismatch);
  EXPECT_EQ(check_response(Op::get_item, 200, &bad, "x").error().code, ErrorCode::unavailable);
  EXPECT_TRUE(check_response(Op::get_item, 200, nullptr, body));
  auto throttled = check_response(
      Op::get_item, 400, nullptr, R"({"__type":"x#ProvisionedThroughputExceededException","message":"slow"})");
  EXPECT_EQ(throttled.code(), ErrorCode::unavailable);
  auto unknown = check_response(Op::update_time_to_live, 400, nullptr,
                                R"({"__type":"com.amazon.coral.service#UnknownOperationException"})");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.code(), ErrorCode::invalid_argument);
  EXPECT_EQ(unknown.error().service_type, kUnknownOperation);
  EXPECT_NE(unknown.error().message.find("does not implement UpdateTimeToLive"), std::string::npos);
}

TEST(ParseBody, ParsesJsonAndRefusesTheRest) {
  EXPECT_TRUE(parse_body(200, R"({"a":1})", {})->is_object());
  EXPECT_TRUE(parse_body(200, "", {})->is_object());  // an empty answer (TagResource) is {}
  auto html = parse_body(200, "<html>", {});
  ASSERT_FALSE(html);
  EXPECT_EQ(html.code(), ErrorCode::unavailable);
  EXPECT_EQ(html.error().service_type, kMalformedResponse);
}

class DecideRetry : public ::testing::Test {
 protected:
  RetryDecision decide(const Error& e, int attempt, std::chrono::milliseconds left = 5s, bool refreshed = false) {
    const auto now = steady_clock::now();
    return decide_retry(e, attempt, refreshed, policy_, quota_, 0.5, now, now + left);
  }
  RetryPolicy policy_{10, 25ms, 2000ms};
  RetryQuota quota_{500};
  Error throttled_{ErrorCode::unavailable, "slow down", "ThrottlingException"};
  Error timeout_{ErrorCode::unavailable, "deadline exceeded", std::string(kTimeout)};
};

TEST_F(DecideRetry, RetriesTransientErrorsWithJitteredBackoff) {
  auto d = decide(throttled_, 1);
  EXPECT_EQ(d.action, RetryDecision::Action::retry);
  EXPECT_EQ(d.delay, 12ms);  // half of 25 ms
  EXPECT_EQ(d.quota_taken, RetryQuota::kRetryCost);
  EXPECT_EQ(decide(throttled_, 3).delay, 50ms);
  EXPECT_EQ(decide(timeout_, 1).quota_taken, RetryQuota::kTimeoutRetryCost);
  EXPECT_EQ(quota_.available(), 500 - 5 - 5 - 10);
}

TEST_F(DecideRetry, StopsAtTheAttemptLimitTheDeadlineAndForPermanentErrors) {
  auto last = decide(throttled_, 10);
  EXPECT_EQ(last.action, RetryDecision::Action::fail);
  EXPECT_EQ(last.reason, "gave up after 10 attempts");
  auto late = decide(throttled_, 1, 5ms);
  EXPECT_EQ(late.action, RetryDecision::Action::fail);
  EXPECT_EQ(late.reason, "deadline reached after 1 attempt");
  for (const Error& e : {Error(ErrorCode::aborted, "x", std::string(kConditionalCheckFailed)),
                         Error(ErrorCode::invalid_argument, "x", "ValidationException"),
                         Error(ErrorCode::unavailable, "x", std::string(kTlsError)),
                         Error(ErrorCode::unavailable, "x", std::string(kProtocolError))}) {
    EXPECT_EQ(decide(e, 1).action, RetryDecision::Action::fail) << e.describe();
  }
  EXPECT_EQ(quota_.available(), 500);  // nothing taken for what is not retried
}

TEST_F(DecideRetry, ExpiredCredentialsAreRefreshedOnce) {
  Error expired(ErrorCode::permission_denied, "expired", "ExpiredTokenException");
  EXPECT_EQ(decide(expired, 1).action, RetryDecision::Action::refresh_credentials);
  EXPECT_EQ(decide(expired, 2, 5s, true).action, RetryDecision::Action::fail);
}

TEST_F(DecideRetry, AnEmptyQuotaStopsRetries) {
  RetryQuota small(12);
  const auto now = steady_clock::now();
  EXPECT_EQ(decide_retry(throttled_, 1, false, policy_, small, 0.5, now, now + 5s).action, RetryDecision::Action::retry);
  EXPECT_EQ(decide_retry(throttled_, 2, false, policy_, small, 0.5, now, now + 5s).action, RetryDecision::Action::retry);
  auto d = decide_retry(throttled_, 3, false, policy_, small, 0.5, now, now + 5s);
  EXPECT_EQ(d.action, RetryDecision::Action::fail);
  EXPECT_TRUE(d.quota_exhausted);
  EXPECT_EQ(d.reason, "retry quota exhausted after 3 attempts");
  EXPECT_EQ(small.available(), 2);
}

// The streaming GetItem decoder gives what the JSON-tree path gives, for every attribute type.
TEST(DecodeGetItem, MatchesTheTreeDecoder) {
  const std::string body =
      R"({"ConsumedCapacity":{"TableName":"t","CapacityUnits":0.5,"Table":{"CapacityUnits":0.5}},"Item":{)"
      R"("s":{"S":"h\u00e9llo \"q\""},"n":{"N":"12345678901234567890.5"},"b":{"B":"AAH+/w=="},)"
      R"("t":{"BOOL":true},"f":{"BOOL":false},"z":{"NULL":true},"l":{"L":[{"N":"1"},{"S":"x"},{"L":[]},{"M":{}}]},)"
      R"("m":{"M":{"inner":{"M":{"deep":{"SS":["a","b"]}}},"ns":{"NS":["1","2"]},"bs":{"BS":["eA==","eQ=="]}}}}})";
  auto streamed = decode_get_item(200, body);
  ASSERT_TRUE(streamed) << streamed.error().describe();
  auto tree = parse_get_item(*parse_body(200, body, {}));
  ASSERT_TRUE(tree);
  ASSERT_TRUE(streamed->item && tree->item);
  EXPECT_TRUE(*streamed->item == *tree->item);
  EXPECT_EQ(streamed->item->at("s").as_string(), "h\xc3\xa9llo \"q\"");
  EXPECT_EQ(streamed->item->at("b").as_binary(), std::string("\0\x01\xfe\xff", 4));
  EXPECT_EQ(streamed->consumed_capacity_units, 0.5);
  EXPECT_EQ(streamed->item->at("m").as_map().at("bs").as_binary_set().at(1), "y");

  auto none = decode_get_item(200, "{}");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->item);
  EXPECT_FALSE(decode_get_item(200, "")->item);
}

TEST(DecodeGetItem, RefusesWhatIsNotDynamoDbs) {
  EXPECT_EQ(decode_get_item(200, "<html>").error().service_type, kMalformedResponse);
  EXPECT_EQ(decode_get_item(200, R"({"Item":{"a":{"S":"x"})").error().service_type, kMalformedResponse);
  for (const char* wrong : {R"({"Item":{"a":{"Q":"x"}}})", R"({"Item":{"a":{"S":"x","N":"1"}}})",
                            R"({"Item":{"a":{"N":1}}})", R"({"Item":{"a":{"B":"***"}}})", R"({"Item":{"a":{}}})",
                            R"({"Item":{"a":{"L":{}}}})", R"({"Item":{"a":{"S":null}}})", R"("just a string")", "[1]"}) {
    auto r = decode_get_item(200, wrong);
    ASSERT_FALSE(r) << wrong;
    EXPECT_EQ(r.code(), ErrorCode::internal) << wrong;
  }
  // Nesting deeper than DynamoDB allows is refused, not a stack overflow.
  std::string deep = R"({"Item":{"a":)";
  for (int i = 0; i < 200; ++i) deep += R"({"L":[)";
  EXPECT_FALSE(decode_get_item(200, deep));
}

TEST(RetryQuota, FollowsTheSdksStandardMode) {
  RetryQuota q(20);
  EXPECT_EQ(q.acquire(false), 5);
  EXPECT_EQ(q.acquire(true), 10);
  EXPECT_EQ(q.available(), 5);
  EXPECT_EQ(q.acquire(true), 0);  // cannot pay: no retry, nothing taken
  EXPECT_EQ(q.available(), 5);
  q.release(10);  // a retried call succeeded: its last retry's cost comes back
  EXPECT_EQ(q.available(), 15);
  q.release(0);  // a call that needed no retry: one token
  EXPECT_EQ(q.available(), 16);
  for (int i = 0; i < 10; ++i) q.release(10);
  EXPECT_EQ(q.available(), 20);  // never above the capacity
}

}  // namespace
}  // namespace websession::dynamodb::detail
