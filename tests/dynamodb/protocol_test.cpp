// The client's protocol logic, without a socket: signing an attempt, interpreting answers, and
// the retry decisions (backoff, deadline, retry quota).
#include "dynamodb/protocol.h"

#include <gtest/gtest.h>

#include "dynamodb/crc32.h"
#include "websession/dynamodb/errors.h"

namespace websession::dynamodb::detail {
namespace {

using namespace std::chrono_literals;
using std::chrono::steady_clock;

TEST(SignRequest, SignsTheHeadersItSends) {
  aws::Signer signer("us-east-1", "dynamodb");
  SignedRequest out;
  aws::Credentials c{"AKID", "SECRET", "TOKEN", std::nullopt};
  using namespace std::chrono;
  auto s = sign_request(out, signer, c, "dynamodb.us-east-1.amazonaws.com", "/", Op::get_item, "{}",
                        sys_days{2015y / August / 30} + 12h + 36min);
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
                          std::chrono::system_clock::now());
    ASSERT_FALSE(s);
    EXPECT_EQ(s.code(), ErrorCode::permission_denied);
    EXPECT_EQ(s.error().message.find("Injected"), std::string::npos);
  }
}

TEST(InterpretResponse, ChecksTheChecksumThenTheStatus) {
  const std::string body = R"({"Item":{"id":{"S":"a"}}})";
  const std::string good = std::to_string(crc32(body));
  auto ok = interpret_response(Op::get_item, 200, &good, body, {});
  ASSERT_TRUE(ok);
  EXPECT_TRUE(ok->is_object());
  const std::string bad = "1";
  EXPECT_EQ(interpret_response(Op::get_item, 200, &bad, body, {}).error().service_type, kCrc32Mismatch);
  EXPECT_TRUE(interpret_response(Op::get_item, 200, nullptr, body, {}));
  EXPECT_TRUE(interpret_response(Op::tag_resource, 200, nullptr, "", {}));  // an empty answer is {}
  EXPECT_EQ(interpret_response(Op::get_item, 200, nullptr, "<html>", {}).error().service_type, kMalformedResponse);
  auto throttled = interpret_response(
      Op::get_item, 400, nullptr, R"({"__type":"x#ProvisionedThroughputExceededException","message":"slow"})", {});
  EXPECT_EQ(throttled.code(), ErrorCode::unavailable);
  auto unknown = interpret_response(Op::update_time_to_live, 400, nullptr,
                                    R"({"__type":"com.amazon.coral.service#UnknownOperationException"})", {});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.code(), ErrorCode::invalid_argument);
  EXPECT_EQ(unknown.error().service_type, kUnknownOperation);
  EXPECT_NE(unknown.error().message.find("does not implement UpdateTimeToLive"), std::string::npos);
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
