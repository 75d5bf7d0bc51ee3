#include "websession/result.h"

#include <gtest/gtest.h>

namespace websession {
namespace {

TEST(Result, HoldsAValue) {
  Result<int> r = 7;
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(*r, 7);
  EXPECT_EQ(r.value(), 7);
}

TEST(Result, HoldsAnErrorAndThrowsOnValueAccess) {
  Result<int> r = Error(ErrorCode::lock_held, "busy", "ConditionalCheckFailedException");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), ErrorCode::lock_held);
  EXPECT_EQ(r.error().describe(), "lock_held: busy [ConditionalCheckFailedException]");
  EXPECT_THROW((void)r.value(), BadResultAccess);
}

TEST(Result, VoidResult) {
  Status ok;
  EXPECT_TRUE(ok);
  EXPECT_NO_THROW(ok.value());
  Status bad = Error(ErrorCode::unavailable, "down");
  EXPECT_FALSE(bad);
  EXPECT_EQ(bad.code(), ErrorCode::unavailable);
  EXPECT_THROW(bad.value(), BadResultAccess);
}

TEST(Result, EveryCodeHasAName) {
  for (ErrorCode c : {ErrorCode::not_found, ErrorCode::already_exists, ErrorCode::lock_held,
                      ErrorCode::verification_mismatch, ErrorCode::aborted, ErrorCode::unavailable,
                      ErrorCode::invalid_argument, ErrorCode::permission_denied, ErrorCode::internal}) {
    EXPECT_NE(to_string(c), "unknown");
  }
  EXPECT_EQ(to_string(ErrorCode::verification_mismatch), "verification_mismatch");
}

}  // namespace
}  // namespace websession
