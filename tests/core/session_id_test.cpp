#include "websession/session_id.h"

#include <set>

#include <gtest/gtest.h>

namespace websession {
namespace {

TEST(SessionId, HasThirtyTwoUrlSafeCharacters) {
  const std::string id = generate_session_id();
  EXPECT_EQ(id.size(), kSessionIdLength);
  EXPECT_TRUE(is_valid_session_id(id));
  EXPECT_EQ(id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
}

TEST(SessionId, IsUniqueAcrossManyDraws) {
  std::set<std::string> seen;
  for (int i = 0; i < 10'000; ++i) seen.insert(generate_session_id());
  EXPECT_EQ(seen.size(), 10'000u);
}

TEST(SessionId, UsesEveryBitPosition) {
  // Each of the 32 characters carries 6 random bits; over many IDs every position must vary.
  std::vector<std::set<char>> seen(kSessionIdLength);
  for (int i = 0; i < 2'000; ++i) {
    const std::string id = generate_session_id();
    for (std::size_t k = 0; k < id.size(); ++k) seen[k].insert(id[k]);
  }
  for (const auto& s : seen) EXPECT_GT(s.size(), 40u);
}

TEST(SessionId, RejectsAnythingElse) {
  EXPECT_FALSE(is_valid_session_id(""));
  EXPECT_FALSE(is_valid_session_id(std::string(31, 'a')));
  EXPECT_FALSE(is_valid_session_id(std::string(33, 'a')));
  EXPECT_FALSE(is_valid_session_id(std::string(31, 'a') + "="));
  EXPECT_FALSE(is_valid_session_id(std::string(31, 'a') + "/"));
  EXPECT_TRUE(is_valid_session_id(std::string(32, '-')));
}

TEST(SessionId, RandomTokensHaveTheAskedEntropy) {
  EXPECT_EQ(random_token(24).size(), 32u);
  EXPECT_EQ(random_token(32).size(), 43u);
  EXPECT_NE(random_token(16), random_token(16));
}

}  // namespace
}  // namespace websession
