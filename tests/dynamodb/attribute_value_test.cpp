#include "websession/dynamodb/attribute_value.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <limits>

namespace websession::dynamodb {
namespace {

TEST(AttributeValue, ConstructorsAndAccessors) {
  EXPECT_TRUE(AttributeValue().is_null());
  EXPECT_EQ(AttributeValue::string("x").as_string(), "x");
  EXPECT_EQ(AttributeValue::number(std::int64_t{-42}).as_number(), "-42");
  EXPECT_EQ(AttributeValue::number(std::uint64_t{18446744073709551615ULL}).as_number(), "18446744073709551615");
  EXPECT_EQ(AttributeValue::number("1.50").as_number(), "1.50");
  EXPECT_EQ(AttributeValue::number(0.1).as_number(), "0.1");
  EXPECT_EQ(AttributeValue::number(3.0).as_number(), "3.0");
  EXPECT_TRUE(AttributeValue::number(std::numeric_limits<double>::infinity()).is_null());
  EXPECT_EQ(AttributeValue::binary(std::string("\0\xff", 2)).as_binary().size(), 2u);
  EXPECT_TRUE(AttributeValue::boolean(true).as_bool());
  auto m = AttributeValue::map({{"a", AttributeValue::number(std::int64_t{1})}});
  EXPECT_EQ(m.type(), AttributeType::M);
  EXPECT_NE(m.as_map().find(std::string_view("a")), m.as_map().end());
  EXPECT_EQ(AttributeValue::list({AttributeValue::null()}).as_list().size(), 1u);
  EXPECT_EQ(AttributeValue::string_set({"a", "b"}).type(), AttributeType::SS);
  EXPECT_EQ(AttributeValue::number_set({"1"}).type(), AttributeType::NS);
  EXPECT_EQ(AttributeValue::binary_set({"x"}).type(), AttributeType::BS);
  EXPECT_THROW((void)AttributeValue::string("x").as_number(), std::bad_variant_access);
  EXPECT_EQ(AttributeValue::number("12").as_int64(), 12);
  EXPECT_EQ(AttributeValue::number("1.5").as_int64(), std::nullopt);
  EXPECT_EQ(to_string(AttributeType::NUL), "NULL");
}

TEST(AttributeValue, CopiesAreDeep) {
  auto a = AttributeValue::map({{"k", AttributeValue::string("v")}});
  AttributeValue b = a;
  b.as_map()["k"] = AttributeValue::string("changed");
  EXPECT_EQ(a.as_map().at("k").as_string(), "v");
  EXPECT_FALSE(a == b);
  b = a;
  EXPECT_TRUE(a == b);
}

TEST(JsonConversion, TypesMapAsTheDesignSays) {
  auto v = boost::json::parse(R"({"s":"x","i":-5,"u":18446744073709551615,"d":1.25,"whole":2.0,"t":true,"n":null,"l":[1,"a"],"o":{"k":[]}})");
  AttributeValue a = to_attribute(v);
  const AttributeMap& m = a.as_map();
  EXPECT_EQ(m.at("s").as_string(), "x");
  EXPECT_EQ(m.at("i").as_number(), "-5");
  EXPECT_EQ(m.at("u").as_number(), "18446744073709551615");
  EXPECT_EQ(m.at("d").as_number(), "1.25");
  EXPECT_EQ(m.at("whole").as_number(), "2.0");
  EXPECT_TRUE(m.at("t").as_bool());
  EXPECT_TRUE(m.at("n").is_null());
  EXPECT_EQ(m.at("l").as_list().size(), 2u);
  EXPECT_TRUE(m.at("o").as_map().at("k").is_list());
}

TEST(JsonConversion, RoundTripIsLossless) {
  const char* docs[] = {
      R"({"a":1,"b":-9223372036854775808,"c":18446744073709551615,"d":0.1,"e":2.0,"f":1E+300,"g":-0.0,"h":"\u00e9\u0000","i":[true,false,null,[],{}]})",
      R"([1.5,2,"x",{"nested":{"deep":[1,2,3]}}])",
      R"("just a string")",
      R"(123456789012345)",
  };
  for (const char* doc : docs) {
    boost::json::value v = boost::json::parse(doc);
    auto back = to_json(to_attribute(v));
    ASSERT_TRUE(back) << doc;
    EXPECT_EQ(*back, v) << doc << " -> " << boost::json::serialize(*back);
    EXPECT_EQ(back->kind(), v.kind());
  }
}

TEST(JsonConversion, ReadsNumbersByTheirText) {
  EXPECT_TRUE(to_json(AttributeValue::number("42"))->is_int64());
  EXPECT_TRUE(to_json(AttributeValue::number("9223372036854775808"))->is_uint64());
  EXPECT_TRUE(to_json(AttributeValue::number("99999999999999999999999"))->is_double());
  EXPECT_TRUE(to_json(AttributeValue::number("1.0"))->is_double());
  EXPECT_TRUE(to_json(AttributeValue::number("1e3"))->is_double());
  EXPECT_EQ(to_json(AttributeValue::number("-7"))->as_int64(), -7);
  for (const char* bad : {"", "abc", "1.2.3", "--1", "1e99999", "NaN"}) {
    auto r = to_json(AttributeValue::number(bad));
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.code(), ErrorCode::invalid_argument);
  }
}

TEST(JsonConversion, ReadsSetsAndBinaries) {
  auto ss = to_json(AttributeValue::string_set({"a", "b"}));
  EXPECT_EQ(*ss, boost::json::parse(R"(["a","b"])"));
  auto ns = to_json(AttributeValue::number_set({"1", "2.5"}));
  EXPECT_EQ(*ns, boost::json::parse(R"([1,2.5])"));
  auto b = to_json(AttributeValue::binary("hello"));
  EXPECT_EQ(*b, boost::json::value("aGVsbG8="));
  auto bs = to_json(AttributeValue::binary_set({"hi"}));
  EXPECT_EQ(*bs, boost::json::parse(R"(["aGk="])"));
  EXPECT_FALSE(to_json(AttributeValue::number_set({"x"})));
  auto nested = to_json(AttributeValue::map({{"bad", AttributeValue::number("x")}}));
  EXPECT_FALSE(nested);
}

TEST(Base64, EncodesAndDecodes) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_decode("Zm9vYmE="), "fooba");
  EXPECT_EQ(base64_decode("Zm9vYmE"), "fooba");
  EXPECT_EQ(base64_decode("Zm9v!"), std::nullopt);
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  EXPECT_EQ(base64_decode(base64_encode(all)), all);
}

}  // namespace
}  // namespace websession::dynamodb
