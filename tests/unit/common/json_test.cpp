#include <gtest/gtest.h>

#include "common/json.hpp"

using namespace provisiond;

namespace {

std::string nested(const std::string& open, const std::string& close, std::size_t depth, const std::string& inner = "1") {
  std::string s;
  s.reserve(depth * (open.size() + close.size()) + inner.size());
  for (std::size_t i = 0; i < depth; ++i) s += open;
  s += inner;
  for (std::size_t i = 0; i < depth; ++i) s += close;
  return s;
}

}  // namespace

TEST(ParseJson, AcceptsOrdinaryDocuments) {
  auto j = parse_json(R"({"a":[1,2,{"b":"x\ny"}],"c":null})");
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ((*j)["a"][2]["b"], "x\ny");
}

TEST(ParseJson, RefusesNestingPastTheLimitAndNamesWhere) {
  // 200,000 levels: far past what a recursive copy or dump survives.
  auto deep = R"({"metadata":{"a":)" + nested("[", "]", 200'000) + "}}";
  auto j = parse_json(deep, "request body");
  ASSERT_FALSE(j.has_value());
  EXPECT_EQ(j.error().code, errc::invalid_argument);
  EXPECT_NE(j.error().message.find("deeper than 64"), std::string::npos) << j.error().message;
  EXPECT_EQ(j.error().field.rfind("metadata.a[0][0]", 0), 0u) << j.error().field;
  auto objects = parse_json(nested(R"({"k":)", "}", 100'000));
  ASSERT_FALSE(objects.has_value());
  EXPECT_EQ(objects.error().field.rfind("k.k.k", 0), 0u);
}

TEST(ParseJson, AcceptsExactlyTheLimit) {
  EXPECT_TRUE(parse_json(nested("[", "]", 64)).has_value());
  EXPECT_FALSE(parse_json(nested("[", "]", 65)).has_value());
}

TEST(ParseJson, RefusesDuplicateKeysNamingTheKey) {
  auto j = parse_json(R"({"tenantId":"a","resources":{"cpu":1,"cpu":2}})");
  ASSERT_FALSE(j.has_value());
  EXPECT_EQ(j.error().field, "resources.cpu");
  EXPECT_NE(j.error().message.find("duplicate key"), std::string::npos);
}

TEST(ParseJson, RefusesControlCharactersButNotTabsAndNewlines) {
  auto nul = parse_json(R"({"orderId":"a\u0000b"})");
  ASSERT_FALSE(nul.has_value());
  EXPECT_EQ(nul.error().field, "orderId");
  EXPECT_FALSE(parse_json(R"({"k":"\u001b[31m"})").has_value());
  EXPECT_TRUE(parse_json(R"({"key":"-----BEGIN-----\n\tabc\r\n"})").has_value());
}

TEST(ParseJson, SyntaxErrorsNeverQuoteTheInput) {
  // Bad UTF-8 is named by its field, never quoted.
  auto j = parse_json("{\"a\":\"\xff\xfe\"}", "value");
  ASSERT_FALSE(j.has_value());
  EXPECT_EQ(j.error().message, "ill-formed UTF-8 in a string");
  EXPECT_EQ(j.error().field, "a");
  EXPECT_EQ(j.error().message.find('\xff'), std::string::npos);
  // A syntax error says where in general terms.
  auto cut = parse_json("{\"a\":[1,", "value");
  ASSERT_FALSE(cut.has_value());
  EXPECT_EQ(cut.error().message, "value is not valid JSON");
  EXPECT_EQ(cut.error().field, "$");
}

TEST(ParseJsonLenient, ToleratesWhatCloudsSendButNotDepth) {
  EXPECT_FALSE(parse_json_lenient(R"({"a":1,"a":2,"b":"\u0007"})").is_discarded());
  EXPECT_TRUE(parse_json_lenient(nested("[", "]", 1000)).is_discarded());
  EXPECT_TRUE(parse_json_lenient("not json").is_discarded());
}

TEST(DumpJson, NeverThrowsOnBytesThatAreNotUtf8) {
  nlohmann::json j{{"key", std::string("a\xff" "b")}};
  EXPECT_EQ(dump_json(j), "{\"key\":\"a\xef\xbf\xbd" "b\"}");
}

TEST(CheckKeptValue, BoundsDepthKeysAndSize) {
  EXPECT_TRUE(check_kept_value(*parse_json(R"({"a":{"b":[1,2]}})"), "connection").has_value());
  auto deep = check_kept_value(*parse_json(R"({"a":{"b":{"c":{"d":{"e":1}}}}})"), "connection");
  ASSERT_FALSE(deep.has_value());
  EXPECT_EQ(deep.error().field, "connection.a.b.c.d");
  nlohmann::json many = nlohmann::json::object();
  for (int i = 0; i < 65; ++i) many["k" + std::to_string(i)] = i;
  EXPECT_EQ(check_kept_value(many, "connection").error().field, "connection");
  nlohmann::json big{{"blob", std::string(20'000, 'x')}};
  EXPECT_NE(check_kept_value(big, "connection").error().message.find("bytes"), std::string::npos);
}

TEST(Utf8, TellsWellFormedFromMalformed) {
  EXPECT_TRUE(is_valid_utf8("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // a surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xc3"));              // truncated
}

TEST(Utf8, ChecksWholeSequences) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("\xf0\x9f\x98\x80"));  // U+1F600
  EXPECT_FALSE(is_valid_utf8("\xf0\x9f\x98"));     // truncated at the end
  EXPECT_FALSE(
      is_valid_utf8("\xc3"
                    "A"));
}
