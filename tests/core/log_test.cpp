#include "websession/log.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace websession {
namespace {

struct Captured {
  LogLevel level;
  std::string message;
};

TEST(Log, ASinkReceivesMessagesAtOrAboveTheLevel) {
  std::vector<Captured> seen;
  set_log_sink([&](LogLevel level, std::string_view message) { seen.push_back({level, std::string(message)}); });
  set_log_level(LogLevel::warning);
  log(LogLevel::info, "dropped");
  log(LogLevel::warning, "kept");
  log(LogLevel::error, "also kept");
  set_log_level(LogLevel::info);
  set_log_sink({});
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].level, LogLevel::warning);
  EXPECT_EQ(seen[0].message, "kept");
  EXPECT_EQ(seen[1].message, "also kept");
  EXPECT_EQ(to_string(LogLevel::error), "error");
}

TEST(Log, TheDefaultSinkWritesWarningsToStandardError) {
  ::testing::internal::CaptureStderr();
  log(LogLevel::info, "quiet");
  log(LogLevel::warning, "the table has no TTL");
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(err, "websession: warning: the table has no TTL\n");
}

}  // namespace
}  // namespace websession
