#include <gtest/gtest.h>

#include "gateway/http_target.hpp"

using namespace provisiond::gateway;
using provisiond::errc;

namespace {

// Then: the target is refused as invalid_argument naming `field`, and the
// message does not echo raw bytes (it stays printable ASCII).
void expect_rejected(std::string_view target, const std::string& field) {
  auto r = parse_target(target);
  ASSERT_FALSE(r.has_value()) << target;
  EXPECT_EQ(r.error().code, errc::invalid_argument);
  EXPECT_EQ(r.error().field, field) << r.error().message;
  for (char c : r.error().message) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << r.error().message;
}

}  // namespace

TEST(ParseTarget, DecodesPercentEncodedUtf8InPathAndQuery) {
  // Given a target with UTF-8 percent-encoded ("é" and "€") in a segment and a value,
  auto r = parse_target("/v1/caf%C3%A9/x?name=%E2%82%AC5&flag");
  // then the path and query come back decoded.
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->path, "/v1/caf\xc3\xa9/x");
  EXPECT_EQ(r->query.at("name"),
            "\xe2\x82\xac"
            "5");
  EXPECT_EQ(r->query.at("flag"), "");
}

TEST(ParseTarget, PlusIsASpaceInQueriesOnly) {
  auto r = parse_target("/a+b?q=x+y&k+1=v");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->path, "/a+b");
  EXPECT_EQ(r->query.at("q"), "x y");
  EXPECT_EQ(r->query.at("k 1"), "v");
}

TEST(ParseTarget, KeepsEmptyPartsOutAndTheLastRepeatedValue) {
  auto r = parse_target("/x?a=1&&a=2&");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->query.size(), 1u);
  EXPECT_EQ(r->query.at("a"), "2");
}

TEST(ParseTarget, LeavesAPercentWithoutTwoHexDigitsAsItIs) {
  auto r = parse_target("/100%/x%4?p=%zz");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->path, "/100%/x%4");
  EXPECT_EQ(r->query.at("p"), "%zz");
}

TEST(ParseTarget, RejectsInvalidUtf8InAPathSegmentNamingItsNumber) {
  expect_rejected("/v1/requests/%FF", "path segment 3");
  expect_rejected("/%C3%28/x", "path segment 1");
  expect_rejected("/a//b/%E2%82", "path segment 4");  // truncated sequence; empty segments count
}

TEST(ParseTarget, RejectsOverlongsSurrogatesAndCodePointsAboveTheMaximum) {
  expect_rejected("/%C0%AF", "path segment 1");        // overlong '/'
  expect_rejected("/%E0%80%AF", "path segment 1");     // overlong, 3 bytes
  expect_rejected("/%F0%80%80%AF", "path segment 1");  // overlong, 4 bytes
  expect_rejected("/%ED%A0%80", "path segment 1");     // U+D800, a surrogate
  expect_rejected("/%F4%90%80%80", "path segment 1");  // U+110000
  expect_rejected("/%F5%80%80%80", "path segment 1");  // lead byte past F4
  expect_rejected("/ok/%80", "path segment 2");        // lone continuation byte
}

TEST(ParseTarget, AcceptsTheEdgesOfEachUtf8Range) {
  for (auto t :
       {"/%C2%80", "/%DF%BF", "/%E0%A0%80", "/%ED%9F%BF", "/%EE%80%80", "/%EF%BF%BF", "/%F0%90%80%80", "/%F4%8F%BF%BF"})
    EXPECT_TRUE(parse_target(t).has_value()) << t;
}

TEST(ParseTarget, RejectsControlBytesAfterDecoding) {
  expect_rejected("/a/b%00", "path segment 2");
  expect_rejected("/a%0Ab", "path segment 1");
  expect_rejected("/a%7F", "path segment 1");
  expect_rejected("/x?ok=1&tenantId=acme%0D%0AX-Injected:1", "query parameter tenantId");
}

TEST(ParseTarget, ABadQueryKeyIsNamedByItsPosition) {
  expect_rejected("/v1/requests?limit=3&%FF=1", "query parameter 2");
  expect_rejected("/v1/requests?a%00b=1", "query parameter 1");
}

TEST(ParseTarget, ABadQueryValueIsNamedByItsKey) {
  expect_rejected("/v1/requests?tenantId=%FF", "query parameter tenantId");
  expect_rejected("/v1/requests?a=1&=%C0%AF", "query parameter 2");  // no key to name it by
}

TEST(UrlDecode, DecodesHexEitherCase) {
  EXPECT_EQ(url_decode("%2f%2F%41", false), "//A");
  EXPECT_EQ(url_decode("a+b", false), "a+b");
  EXPECT_EQ(url_decode("a+b", true), "a b");
}

TEST(ValidateHeaderValue, AcceptsUtf8AndTabs) {
  EXPECT_TRUE(validate_header_value("Idempotency-Key", "order-77").has_value());
  EXPECT_TRUE(validate_header_value("X-Note", "caf\xc3\xa9\tok").has_value());
  EXPECT_TRUE(validate_header_value("X-Empty", "").has_value());
}

TEST(ValidateHeaderValue, RejectsInvalidUtf8NamingTheHeaderAsSent) {
  auto r = validate_header_value("Idempotency-Key", "key-\xff");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::invalid_argument);
  EXPECT_EQ(r.error().field, "Idempotency-Key");
  EXPECT_EQ(r.error().message.find('\xff'), std::string::npos);
}

TEST(ValidateHeaderValue, RejectsControlBytesOtherThanTab) {
  for (std::string v : {std::string("a\0b", 3), std::string("a\rb"), std::string("a\x1b"), std::string("a\x7f")}) {
    auto r = validate_header_value("X-Key", v);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().field, "X-Key");
  }
  EXPECT_FALSE(validate_header_value("X-Key", "\xc0\xaf").has_value());  // overlong
}
