#include <gtest/gtest.h>

#include "providers/openstack/openstack_provider.hpp"

using namespace provisiond;
using namespace provisiond::providers::openstack;

TEST(OpenStackErrors, ClassifiedPerTheReferenceTable) {
  struct row {
    int status;
    const char* body;
    const char* retry_after;
    errc code;
    const char* field;
  };
  for (auto& r : std::vector<row>{
           {403, R"({"forbidden":{"code":403,"message":"Quota exceeded for instances: Requested 1, but already used 10 of 10 instances"}})", "", errc::permanent, "quota"},
           {403, R"({"forbidden":{"code":403,"message":"Policy doesn't allow x"}})", "", errc::permanent, "forbidden"},
           {409, R"({"NeutronError":{"type":"OverQuota","message":"Quota exceeded for resources: ['floatingip']","detail":""}})", "", errc::permanent, "quota"},
           {409, R"({"NeutronError":{"type":"SecurityGroupInUse","message":"in use","detail":""}})", "", errc::retryable, "busy"},
           {409, R"({"conflictingRequest":{"code":409,"message":"Cannot 'os-stop' instance x while it is in task_state powering-off"}})", "", errc::retryable, "busy"},
           {409, R"({"conflictingRequest":{"code":409,"message":"Port is in use"}})", "", errc::permanent, "conflict"},
           {413, R"({"overLimit":{"code":413,"message":"VolumeSizeExceedsAvailableQuota"}})", "0", errc::permanent, "quota"},
           {413, R"({"overLimit":{"code":413,"message":"slow down","retryAfter":"5"}})", "5", errc::retryable, "rate_limited"},
           {429, "", "", errc::retryable, "rate_limited"},
           {400, R"({"badRequest":{"code":400,"message":"Invalid flavorRef"}})", "", errc::permanent, "bad_request"},
           {400, R"({"NeutronError":{"type":"ExternalIpAddressExhausted","message":"No more IP addresses"}})", "", errc::permanent, "bad_request"},
           {401, R"({"error":{"code":401,"title":"Unauthorized","message":"The request you have made requires authentication."}})", "", errc::permanent, "auth"},
           {503, "", "", errc::retryable, "server_error"},
           {500, R"({"computeFault":{"code":500,"message":"boom"}})", "", errc::retryable, "server_error"},
       }) {
    auto e = classify(r.status, r.body, r.retry_after, "Nova create server");
    EXPECT_EQ(e.code, r.code) << r.status << " " << r.body;
    EXPECT_EQ(e.field, r.field) << r.status << " " << r.body;
    EXPECT_NE(e.message.find("Nova create server: HTTP " + std::to_string(r.status)), std::string::npos) << e.message;
  }
  // The cloud's own words are quoted.
  auto quota = classify(403, R"({"forbidden":{"code":403,"message":"Quota exceeded for cores"}})", "", "Nova create server");
  EXPECT_NE(quota.message.find("Quota exceeded for cores"), std::string::npos);
  auto neutron = classify(409, R"({"NeutronError":{"type":"OverQuota","message":"Quota exceeded for resources: ['port']"}})", "", "x");
  EXPECT_NE(neutron.message.find("OverQuota: Quota exceeded for resources"), std::string::npos) << neutron.message;
}

// Given one sample per row of the table, when each is classified, then it
// lands on its own row: no row is shadowed by an earlier one.
TEST(OpenStackErrorTable, EveryRowIsReachable) {
  ASSERT_FALSE(classification_table().empty());
  for (const auto& r : classification_table()) {
    std::string body = "{}", retry_after;
    switch (r.when) {
      case match::any: break;
      case match::neutron_type:
        body = std::string(R"({"NeutronError":{"type":")") + r.text + R"(","message":"m"}})";
        break;
      case match::message_contains: body = std::string(R"({"fault":{"message":"... )") + r.text + R"( ..."}})"; break;
      case match::retry_after_nonzero: retry_after = "7"; break;
    }
    auto e = classify(r.status, body, retry_after, "probe");
    EXPECT_EQ(e.code, r.code) << r.status << " " << body;
    EXPECT_EQ(e.field, r.field) << r.status << " " << body;
    EXPECT_TRUE(r.code == errc::retryable || r.code == errc::permanent) << r.field;
  }
}

// Given a status no row names, then 5xx is retryable and anything else permanent.
TEST(OpenStackErrorTable, StatusesNoRowNamesFallBackBySeries) {
  for (int status : {500, 502, 503, 504}) {
    auto e = classify(status, "", "", "x");
    EXPECT_EQ(e.code, errc::retryable) << status;
    EXPECT_EQ(e.field, "server_error") << status;
  }
  for (int status : {402, 405, 418, 422}) {
    auto e = classify(status, "", "", "x");
    EXPECT_EQ(e.code, errc::permanent) << status;
    EXPECT_EQ(e.field, "unexpected") << status;
  }
}

// Given Retry-After: 0 on a 413 (Cinder's quota), then it is a quota, not a rate limit.
TEST(OpenStackErrorTable, RetryAfterZeroIsNotARateLimit) {
  EXPECT_EQ(classify(413, "{}", "0", "Cinder").field, "quota");
  EXPECT_EQ(classify(413, "{}", "", "Cinder").field, "quota");
  EXPECT_EQ(classify(413, "{}", "1", "Cinder").field, "rate_limited");
}
