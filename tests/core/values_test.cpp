#include "websession/values.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace websession {
namespace {

TEST(Values, FieldNamesAreChecked) {
  EXPECT_TRUE(validate_field_name("user"));
  EXPECT_TRUE(validate_field_name("ünïcode ✓"));
  EXPECT_EQ(validate_field_name("").code(), ErrorCode::invalid_argument);
  EXPECT_EQ(validate_field_name(std::string(256, 'x')).code(), ErrorCode::invalid_argument);
  EXPECT_TRUE(validate_field_name(std::string(255, 'x')));
  EXPECT_EQ(validate_field_name("a\tb").code(), ErrorCode::invalid_argument);
  EXPECT_EQ(validate_field_name("\xff\xfe").code(), ErrorCode::invalid_argument);
  EXPECT_EQ(validate_field_name("\xed\xa0\x80").code(), ErrorCode::invalid_argument);  // a surrogate
}

TEST(Values, NestedValuesAreChecked) {
  Fields f;
  f["s"] = "\xc3\x28";  // invalid UTF-8
  EXPECT_EQ(validate_fields(f).code(), ErrorCode::invalid_argument);
  Fields ok = boost::json::parse(R"({"a":{"b":[1,2,{"c":"d"}]}})").as_object();
  EXPECT_TRUE(validate_fields(ok));
  Value deep = 1;
  for (int i = 0; i < 40; ++i) deep = boost::json::array{deep};
  Fields too_deep;
  too_deep["x"] = deep;
  EXPECT_EQ(validate_fields(too_deep).code(), ErrorCode::invalid_argument);
}

TEST(Values, SizesFollowDynamoDbRules) {
  EXPECT_EQ(attribute_value_size(Value("abc")), 3u);
  EXPECT_EQ(attribute_value_size(Value(true)), 1u);
  EXPECT_EQ(attribute_value_size(Value(nullptr)), 1u);
  EXPECT_EQ(attribute_value_size(Value(12345)), 4u);  // 5 digits: 3 bytes + 1
  EXPECT_EQ(attribute_value_size(boost::json::parse(R"(["ab", 1])")), 3u + 1 + 2 + 1 + 2);
  EXPECT_EQ(attribute_value_size(boost::json::parse(R"({"k":"v"})")), 3u + 1 + 1 + 1);
}

TEST(Values, ItemSizeLimitGivesTheSize) {
  Fields f;
  f["blob"] = std::string(kMaxItemBytes - kMaxSessionMetadataBytes - 200, 'x');
  EXPECT_TRUE(check_item_size(std::string(32, 'a'), f));
  f["blob"] = std::string(kMaxItemBytes, 'x');
  auto st = check_item_size(std::string(32, 'a'), f);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.code(), ErrorCode::invalid_argument);
  EXPECT_NE(st.error().message.find(std::to_string(session_item_size(std::string(32, 'a'), f))),
            std::string::npos);
}

}  // namespace
}  // namespace websession
