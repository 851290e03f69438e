#include <gtest/gtest.h>

#include "actors/tenant/tenant_logic.hpp"

namespace ev = provisiond::events;
using namespace provisiond::actors;

namespace {

ev::request_submitted spec(int cpu, int mem, int disk, const std::string& type = "vps",
                           const std::string& region = "eu-west-1") {
  return ev::request_submitted{"acme", "o", type, region, "simulation", {cpu, mem, disk}, {}, "", "", {}};
}

approval_rule rule(std::string id, int priority, std::string tenant = "", provisiond::time_ms created = 0) {
  approval_rule r;
  r.id = r.name = std::move(id);
  r.priority = priority;
  r.tenant_id = std::move(tenant);
  r.created_at = created;
  return r;
}

// The seed's example: "High-Resource VPS Approval".
approval_rule seed_rule() {
  auto r = rule("high-resource", 10);
  r.name = "High-Resource VPS Approval";
  r.conditions = {16, 32, 500, {"vps"}, {"eu-west-1"}};
  return r;
}

}  // namespace

TEST(Quota, ListsEveryViolatedDimensionAndIgnoresUnlimitedOnes) {
  quota_amount limits{5, 16, unlimited, 100};
  auto v = check_quota(limits, {4, 12, 500, 90}, {1, 8, 64, 20});
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0], (quota_violation{"cpu", 8, 12, 16}));
  EXPECT_EQ(v[1], (quota_violation{"storageGb", 20, 90, 100}));
  EXPECT_TRUE(check_quota(limits, {4, 8, 0, 0}, {1, 8, 64, 100}).empty()) << "exactly at the limit fits";
  EXPECT_TRUE(check_quota(no_quota, {1000, 1000, 1000, 1000}, {1, 1, 1, 1}).empty());
  EXPECT_EQ(check_quota({5, -1, -1, -1}, {5, 0, 0, 0}, demand_of(spec(1, 1, 1))).at(0).dimension, "instances");
}

TEST(ApprovalRules, SeedExampleGatesBigVpsInEuWest1Only) {
  std::vector<approval_rule> rules{seed_rule()};
  auto m = match_approval(rules, "acme", spec(32, 64, 1000));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->rule.name, "High-Resource VPS Approval");
  EXPECT_EQ(m->matched, (std::vector<std::string>{"minCpu 16 <= cpu 32", "minMemoryGb 32 <= memoryGb 64",
                                                  "minStorageGb 500 <= storageGb 1000", "types vps",
                                                  "regions eu-west-1"}));
  EXPECT_FALSE(match_approval(rules, "acme", spec(8, 64, 1000))) << "below minCpu";
  EXPECT_FALSE(match_approval(rules, "acme", spec(32, 64, 1000, "vps", "us-east-1"))) << "other region";
  EXPECT_FALSE(match_approval(rules, "acme", spec(32, 64, 1000, "managed-database"))) << "other type";
  EXPECT_TRUE(match_approval(rules, "acme", spec(16, 32, 500))) << "the minimums are inclusive";
  rules[0].enabled = false;
  EXPECT_FALSE(match_approval(rules, "acme", spec(32, 64, 1000))) << "disabled rules never gate";
}

TEST(ApprovalRules, HighestPriorityThenTenantOverGlobalThenOlder) {
  std::vector<approval_rule> rules{rule("global-5", 5, "", 1), rule("tenant-5", 5, "acme", 2),
                                   rule("global-3", 3, "", 0), rule("other-9", 9, "bravo", 0)};
  EXPECT_EQ(match_approval(rules, "acme", spec(1, 1, 1))->rule.id, "tenant-5") << "tie: the tenant rule wins";
  EXPECT_EQ(match_approval(rules, "charlie", spec(1, 1, 1))->rule.id, "global-5") << "others' rules do not apply";
  EXPECT_EQ(match_approval(rules, "bravo", spec(1, 1, 1))->rule.id, "other-9") << "higher priority wins";
  std::vector<approval_rule> tie{rule("newer", 5, "", 20), rule("older", 5, "", 10)};
  EXPECT_EQ(match_approval(tie, "acme", spec(1, 1, 1))->rule.id, "older");
  auto picky = rule("picky", 100);
  picky.conditions.min_cpu = 64;
  rules.push_back(picky);
  EXPECT_EQ(match_approval(rules, "acme", spec(1, 1, 1))->rule.id, "tenant-5") << "a rule that does not match is skipped";
}

TEST(Admission, KahnOrderKeepsFifoAndWaitsForDependencies) {
  std::map<std::string, ev::lifecycle> states = {{"done", ev::lifecycle::completed},
                                                 {"running", ev::lifecycle::activating},
                                                 {"broken", ev::lifecycle::rolled_back}};
  auto state_of = [&](const std::string& id) -> std::optional<ev::lifecycle> {
    auto it = states.find(id);
    return it == states.end() ? std::nullopt : std::optional{it->second};
  };
  std::vector<waiting_request> waiting = {
      {"c", 3, {"b"}},         // waits for b, which waits
      {"a", 1, {}},            //
      {"b", 2, {"a", "done"}}, // waits for a
      {"d", 4, {"running"}},   // waits for a running request
      {"e", 5, {"broken"}},    // its prerequisite failed
      {"f", 6, {"done"}},      // ready
  };
  auto plan = plan_admission(waiting, state_of);
  EXPECT_EQ(plan.ready, (std::vector<std::string>{"a", "f"}));
  ASSERT_EQ(plan.dependency_failed.size(), 1u);
  EXPECT_EQ(plan.dependency_failed[0], (std::pair<std::string, std::string>{"e", "broken"}));
  EXPECT_TRUE(plan.cycle.empty());
}

TEST(Admission, DependentsOfAFailingRequestWaitInsteadOfLookingLikeACycle) {
  std::map<std::string, ev::lifecycle> states = {{"broken", ev::lifecycle::failed}};
  std::vector<waiting_request> waiting = {{"child", 1, {"broken"}}, {"grandchild", 2, {"child"}}};
  auto plan = plan_admission(waiting, [&](const std::string& id) -> std::optional<ev::lifecycle> {
    auto it = states.find(id);
    return it == states.end() ? std::nullopt : std::optional{it->second};
  });
  ASSERT_EQ(plan.dependency_failed.size(), 1u);
  EXPECT_EQ(plan.dependency_failed[0].first, "child");
  EXPECT_TRUE(plan.ready.empty());
  EXPECT_TRUE(plan.cycle.empty());
}

TEST(Admission, ReportsCycles) {
  std::vector<waiting_request> waiting = {{"x", 1, {"y"}}, {"y", 2, {"x"}}, {"self", 3, {"self"}}, {"free", 4, {}}};
  auto plan = plan_admission(waiting, [](const std::string&) { return std::nullopt; });
  EXPECT_EQ(plan.ready, (std::vector<std::string>{"free"}));
  EXPECT_EQ(plan.cycle, (std::vector<std::string>{"self", "x", "y"}));
}
