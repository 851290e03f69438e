// Given/when/then tests of the tenant's admission book: no CAF, no sleeps.
#include <gtest/gtest.h>

#include "actors/tenant/admission_book.hpp"

using namespace provisiond;
using namespace provisiond::actors;
namespace ev = provisiond::events;

namespace {

ev::request_submitted spec(int cpu, std::vector<std::string> deps = {}) {
  return ev::request_submitted{"acme", "o", "vps", "eu-west-1", "simulation", {cpu, 4, 40}, {}, "", "", std::move(deps)};
}

const quota_amount eight_cpu{unlimited, 8, unlimited, unlimited};

std::optional<ev::lifecycle> unknown(const std::string&) { return std::nullopt; }

std::vector<std::string> admitted(const admission_book::pumped& p) {
  std::vector<std::string> ids;
  for (auto& [id, d] : p.answers)
    if (d.kind == admission_decision::admit) ids.push_back(id);
  return ids;
}

}  // namespace

TEST(AdmissionBook, ReservesQuotaThenRefusesWhatWouldPassIt) {
  admission_book book{5};
  auto a = book.reserve("r1", spec(6), 1, eight_cpu, {}, 0);
  EXPECT_EQ(a.kind, admission_decision::reserve);
  EXPECT_EQ(a.amount.cpu, 6);
  auto b = book.reserve("r2", spec(4), 2, eight_cpu, {}, 0);
  ASSERT_EQ(b.kind, admission_decision::exceed);
  ASSERT_EQ(b.violations.size(), 1u);
  EXPECT_EQ(b.violations[0].dimension, "cpu");
  EXPECT_EQ(book.used().cpu, 6);
}

TEST(AdmissionBook, ReservingTwiceKeepsTheFirstReservation) {
  admission_book book{5};
  book.reserve("r1", spec(6), 1, eight_cpu, {}, 0);
  auto again = book.reserve("r1", spec(6), 1, eight_cpu, {}, 0);
  EXPECT_EQ(again.kind, admission_decision::reserve);
  EXPECT_EQ(book.used().cpu, 6) << "not counted twice";
}

TEST(AdmissionBook, AMatchingRuleGatesTheRequestAndKeepsItOutOfTheQueue) {
  admission_book book{5};
  ev::approval_rule rule;
  rule.id = "rule-1";
  rule.name = "big";
  rule.priority = 10;
  rule.enabled = true;
  rule.conditions.min_cpu = 4;
  auto d = book.reserve("r1", spec(8), 1, no_quota, {rule}, 0);
  ASSERT_TRUE(d.approval.has_value());
  EXPECT_EQ(d.approval->rule_id, "rule-1");
  EXPECT_TRUE(book.idle()) << "a gated request does not hold a place in the queue";
}

TEST(AdmissionBook, GrantsAtMostMaxInFlightSlotsInSubmissionOrder) {
  admission_book book{2};
  for (int i = 1; i <= 3; ++i) book.reserve("r" + std::to_string(i), spec(1), i, no_quota, {}, 0);
  // They ask in reverse order; the slots still go by submission.
  for (int i = 3; i >= 1; --i) EXPECT_FALSE(book.ask_slot("r" + std::to_string(i), i, {}, 0).has_value());
  auto p = book.pump(0, unknown);
  EXPECT_EQ(admitted(p), (std::vector<std::string>{"r1", "r2"}));
  EXPECT_EQ(book.in_flight(), 2u);
  EXPECT_EQ(book.asking(), 1u);
  // r1 finishes: its slot goes to r3.
  book.record("r1", ev::lifecycle::completed, true, {1, 1, 4, 40}, false);
  EXPECT_EQ(admitted(book.pump(0, unknown)), (std::vector<std::string>{"r3"}));
}

TEST(AdmissionBook, AnEarlierPlaceholderHoldsTheLineForItsGracePeriodOnly) {
  admission_book book{5};
  book.reserve("r1", spec(1), 1, no_quota, {}, 1000);  // its slot request is on the way
  book.reserve("r2", spec(1), 2, no_quota, {}, 1000);
  book.ask_slot("r2", 2, {}, 1000);
  auto held = book.pump(1000, unknown);
  EXPECT_TRUE(admitted(held).empty()) << "r2 does not overtake r1";
  ASSERT_TRUE(held.look_again_at.has_value());
  EXPECT_EQ(*held.look_again_at, 1000 + placeholder_grace_ms + 1);
  EXPECT_EQ(admitted(book.pump(*held.look_again_at, unknown)), (std::vector<std::string>{"r2"}));
}

TEST(AdmissionBook, WaitsForDependenciesAndFailsOnAFailedOne) {
  admission_book book{5};
  book.reserve("child", spec(1, {"parent"}), 2, no_quota, {}, 0);
  book.ask_slot("child", 2, {"parent"}, 0);
  auto parent = ev::lifecycle::allocating;
  auto lookup = [&](const std::string& id) -> std::optional<ev::lifecycle> {
    return id == "parent" ? std::optional{parent} : std::nullopt;
  };
  EXPECT_TRUE(book.pump(0, lookup).answers.empty()) << "parent still running";
  parent = ev::lifecycle::failed;
  auto p = book.pump(0, lookup);
  ASSERT_EQ(p.answers.size(), 1u);
  EXPECT_EQ(p.answers[0].second.kind, admission_decision::dependency_failed);
  EXPECT_EQ(p.answers[0].second.dependency, "parent");
}

TEST(AdmissionBook, RestoredFromTheReadSideItKnowsReservationsAndSlots) {
  admission_book book{1};
  ev::request_state running;
  running.id = "r0";
  running.state = ev::lifecycle::allocating;
  running.admitted = true;
  running.quota_held = true;
  running.reserved = {1, 4, 8, 80};
  book.restore(running);
  EXPECT_EQ(book.used().cpu, 4);
  EXPECT_EQ(book.in_flight(), 1u);
  EXPECT_FALSE(book.idle());
  // Its one slot is taken: a new request waits.
  book.reserve("r1", spec(1), 5, no_quota, {}, 0);
  EXPECT_FALSE(book.ask_slot("r1", 5, {}, 0).has_value());
  EXPECT_TRUE(book.pump(0, unknown).answers.empty());
}

TEST(AdmissionBook, DependencyCycleIsFoundThroughTheReadSide) {
  // a (new) → b → a
  auto lookup = [](const request_id& id) -> std::optional<ev::request_state> {
    if (id.str() != "b") return std::nullopt;
    ev::request_state s;
    s.id = "b";
    s.state = ev::lifecycle::queued;
    s.spec.depends_on = {"a"};
    return s;
  };
  auto cycle = dependency_cycle(request_id{"a"}, {"b"}, lookup);
  std::sort(cycle.begin(), cycle.end());
  EXPECT_EQ(cycle, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(dependency_cycle(request_id{"c"}, {"b"}, lookup).empty());
}
