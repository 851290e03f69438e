// The JSON parser's size limits and the lexer refusals it names by path:
// huge strings and arrays, objects with too many members, ill-formed UTF-8,
// numbers past what a double holds. In-process (no server).
#include <gtest/gtest.h>

#include "common/json.hpp"

using namespace provisiond;

namespace {

std::string array_of(std::size_t n) {
  std::string s = "[";
  for (std::size_t i = 0; i < n; ++i) s += i ? ",1" : "1";
  return s + "]";
}

std::string object_of(std::size_t n) {
  std::string s = "{";
  for (std::size_t i = 0; i < n; ++i) s += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":1";
  return s + "}";
}

}  // namespace

TEST(JsonLimits, AStringOverTheLimitIsRefusedNamingItsPath) {
  auto big = R"({"metadata":{"plan":")" + std::string(64 * 1024 + 1, 'x') + R"("}})";
  auto j = parse_json(big, "request body");
  ASSERT_FALSE(j.has_value());
  EXPECT_EQ(j.error().code, errc::invalid_argument);
  EXPECT_EQ(j.error().field, "metadata.plan");
  EXPECT_NE(j.error().message.find("over 64 KiB"), std::string::npos) << j.error().message;
  // Exactly the limit is fine.
  EXPECT_TRUE(parse_json(R"({"a":")" + std::string(64 * 1024, 'x') + R"("})").has_value());
}

TEST(JsonLimits, AKeyOverTheLimitIsRefused) {
  auto j = parse_json(R"({"a":{")" + std::string(70'000, 'k') + R"(":1}})");
  ASSERT_FALSE(j.has_value());
  EXPECT_EQ(j.error().field.rfind("a.", 0), 0u) << j.error().field;
  EXPECT_NE(j.error().message.find("a key over 64 KiB"), std::string::npos) << j.error().message;
}

TEST(JsonLimits, AnArrayOverTheLimitIsRefusedAtTheFirstElementPastIt) {
  EXPECT_TRUE(parse_json(R"({"dependsOn":)" + array_of(10'000) + "}").has_value());
  auto j = parse_json(R"({"dependsOn":)" + array_of(10'001) + "}");
  ASSERT_FALSE(j.has_value());
  EXPECT_EQ(j.error().field, "dependsOn[10000]");
  EXPECT_NE(j.error().message.find("more than 10000 elements"), std::string::npos) << j.error().message;
}

TEST(JsonLimits, AnObjectWithTooManyMembersIsRefused) {
  EXPECT_TRUE(parse_json(R"({"metadata":)" + object_of(10'000) + "}").has_value());
  auto j = parse_json(R"({"metadata":)" + object_of(10'001) + "}");
  ASSERT_FALSE(j.has_value());
  EXPECT_EQ(j.error().field, "metadata.k10000");
  EXPECT_NE(j.error().message.find("more than 10000 members"), std::string::npos) << j.error().message;
}

TEST(JsonLimits, CustomLimitsApply) {
  json_limits tight;
  tight.max_string_bytes = 4;
  tight.max_items = 2;
  EXPECT_FALSE(parse_json(R"(["abcde"])", "body", tight).has_value());
  EXPECT_FALSE(parse_json("[1,2,3]", "body", tight).has_value());
  EXPECT_TRUE(parse_json(R"(["abcd",1])", "body", tight).has_value());
}

TEST(JsonLimits, IllFormedUtf8NamesTheValueAndNeverQuotesIt) {
  struct probe {
    std::string text, field, message;
  };
  for (auto& [text, field, message] : {
           probe{"{\"tenantId\":\"acme\",\"orderId\":\"o-\xff\"}", "orderId", "ill-formed UTF-8 in a string"},
           probe{"{\"metadata\":{\"plan\":\"\xc3\x28\"}}", "metadata.plan", "ill-formed UTF-8 in a string"},
           probe{"{\"dependsOn\":[\"req-1\",\"\xed\xa0\x80\"]}", "dependsOn[1]", "ill-formed UTF-8 in a string"},
           probe{R"({"a":"x\ud800"})", "a", "ill-formed UTF-8 in a string"},  // a lone surrogate escape
           probe{"\"\xff\"", "$", "ill-formed UTF-8 in a string"},
           probe{"{\"metadata\":{\"ok\":\"1\",\"\xff\":\"v\"}}", "metadata", "ill-formed UTF-8 in a key"},
           probe{"{\"a\":\"x\x01y\"}", "a", "an unescaped control character in a string"},
       }) {
    auto j = parse_json(text, "request body");
    ASSERT_FALSE(j.has_value()) << field;
    EXPECT_EQ(j.error().code, errc::invalid_argument);
    EXPECT_EQ(j.error().field, field);
    EXPECT_EQ(j.error().message, message);
  }
}

TEST(JsonLimits, NumbersBeyondADoubleAreNamed) {
  for (auto& [text, field] : std::vector<std::pair<std::string, std::string>>{
           {R"({"resources":{"cpu":1e999}})", "resources.cpu"},
           {R"({"resources":{"cpu":1,"memoryGb":-1e400}})", "resources.memoryGb"},
           {R"({"xs":[1,2,1e999]})", "xs[2]"},
       }) {
    auto j = parse_json(text);
    ASSERT_FALSE(j.has_value()) << text;
    EXPECT_EQ(j.error().field, field) << text;
    EXPECT_NE(j.error().message.find("number out of range"), std::string::npos) << j.error().message;
  }
  // Integers past 64 bits still parse (as doubles); the field parsers refuse them by range.
  auto wide = parse_json(R"({"cpu":99999999999999999999999})");
  ASSERT_TRUE(wide.has_value());
  EXPECT_TRUE((*wide)["cpu"].is_number_float());
}

TEST(JsonLimits, OtherSyntaxErrorsStayAtTheDocument) {
  auto j = parse_json(R"({"a":[1,)", "value");
  ASSERT_FALSE(j.has_value());
  EXPECT_EQ(j.error().message, "value is not valid JSON");
  EXPECT_EQ(j.error().field, "$");
}

TEST(JsonLimits, LenientParsingKeepsLargeReplies) {
  EXPECT_FALSE(parse_json_lenient(array_of(50'000)).is_discarded());
  EXPECT_FALSE(parse_json_lenient(R"({"a":")" + std::string(200'000, 'x') + R"("})").is_discarded());
}
