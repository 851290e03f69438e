#include <gtest/gtest.h>

#include "providers/simulation/simulation_provider.hpp"
#include "tests/support/temp_dir.hpp"

namespace ev = provisiond::events;
namespace sim = provisiond::providers::simulation;
using provisiond::errc;
using provisiond::providers::release_call;
using provisiond::providers::step_call;

namespace {

step_call call(ev::step_kind step, int attempt, const std::string& req = "req-1") {
  step_call c;
  c.request_id = provisiond::request_id{req};
  c.tenant_id = provisiond::tenant_id{"acme"};
  c.region = "eu-west-1";
  c.cluster_id = provisiond::cluster_id{"sim-eu"};
  c.resources = {2, 4, 40};
  c.step = step;
  c.attempt = attempt;
  c.idempotency_key = req + "/" + ev::to_string(step) + "/" + std::to_string(attempt);
  return c;
}

struct SimulationTest : ::testing::Test {
  provisiond::testing::temp_dir dir;
  std::shared_ptr<sim::simulation_provider> open(provisiond::simulation_config cfg = {}) {
    auto p = sim::simulation_provider::open(dir / "ledger", cfg, provisiond::make_system_clock());
    EXPECT_TRUE(p.has_value());
    return *p;
  }
};

}  // namespace

TEST_F(SimulationTest, AllocateCreatesAServerWithEndpointsAndLedgerEntry) {
  auto p = open();
  auto out = p->execute(call(ev::step_kind::allocate, 1));
  ASSERT_TRUE(out.has_value());
  ASSERT_EQ(out->resources.size(), 1u);
  EXPECT_EQ(out->resources[0].kind, "server");
  EXPECT_FALSE(out->outputs.at("hostname").empty());
  auto fip = p->execute(call(ev::step_kind::configure, 1));
  ASSERT_TRUE(fip.has_value());
  EXPECT_EQ(fip->outputs.at("ipv4").rfind("203.0.113.", 0), 0u);
  EXPECT_EQ(fip->outputs.at("ssh"), "ssh://root@" + fip->outputs.at("ipv4") + ":22");
  auto ledger = p->ledger();
  ASSERT_EQ(ledger->size(), 2u);
  EXPECT_EQ((*ledger)[0].request_id, "req-1");
  EXPECT_EQ((*ledger)[0].step, ev::step_kind::allocate);
}

TEST_F(SimulationTest, ExecuteIsIdempotentAcrossAttempts) {
  auto p = open();
  auto a = p->execute(call(ev::step_kind::allocate, 1));
  auto b = p->execute(call(ev::step_kind::allocate, 2));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->resources[0].id, b->resources[0].id);
  EXPECT_EQ(p->ledger()->size(), 1u);
}

TEST_F(SimulationTest, LostResponseLeavesAResourceThatLookupAdopts) {
  provisiond::simulation_config cfg;
  cfg.steps[0].response_lost = 1.0;
  auto p = open(cfg);
  auto r = p->execute(call(ev::step_kind::allocate, 1));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::retryable);
  EXPECT_EQ(r.error().field, "timeout");
  EXPECT_EQ(p->ledger()->size(), 1u) << "created although the caller saw a timeout";
  auto found = p->lookup(call(ev::step_kind::allocate, 1));
  ASSERT_TRUE(found.has_value());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->resources[0].id, p->ledger()->at(0).resource_id);
  EXPECT_FALSE(p->lookup(call(ev::step_kind::allocate, 1, "req-2"))->has_value());
}

TEST_F(SimulationTest, InjectedFailuresAreClassifiedAndCreateNothing) {
  provisiond::simulation_config cfg;
  cfg.steps[0].permanent = 1.0;
  cfg.steps[1].retryable = 1.0;
  auto p = open(cfg);
  EXPECT_EQ(p->execute(call(ev::step_kind::allocate, 1)).error().code, errc::permanent);
  EXPECT_EQ(p->execute(call(ev::step_kind::configure, 1)).error().code, errc::retryable);
  EXPECT_TRUE(p->ledger()->empty());
}

TEST_F(SimulationTest, SameSeedSameKeySameOutcome) {
  provisiond::simulation_config cfg;
  cfg.seed = 42;
  cfg.steps[0].retryable = 0.5;
  auto p = open(cfg);
  int failures = 0;
  std::vector<bool> first;
  for (int i = 0; i < 40; ++i) {
    auto r = p->execute(call(ev::step_kind::allocate, 1, "req-" + std::to_string(i)));
    first.push_back(r.has_value());
    failures += !r.has_value();
  }
  EXPECT_GT(failures, 5);
  EXPECT_LT(failures, 35);
  // Failed keys fail again (nothing was created); successful ones adopt.
  for (int i = 0; i < 40; ++i)
    EXPECT_EQ(p->execute(call(ev::step_kind::allocate, 1, "req-" + std::to_string(i))).has_value(), first[i]);
}

TEST_F(SimulationTest, ReleaseRemovesEverythingOfTheStepAndToleratesRepeats) {
  auto p = open();
  ASSERT_TRUE(p->execute(call(ev::step_kind::allocate, 1)));
  ASSERT_TRUE(p->execute(call(ev::step_kind::configure, 1)));
  release_call rc{provisiond::request_id{"req-1"}, provisiond::cluster_id{"sim-eu"}, ev::step_kind::configure, 1, {}};
  auto released = p->release(rc);
  ASSERT_TRUE(released.has_value());
  EXPECT_EQ(released->size(), 1u);
  EXPECT_EQ(p->ledger()->size(), 1u);
  EXPECT_TRUE(p->release(rc)->empty()) << "second release finds nothing and succeeds";
}

TEST_F(SimulationTest, LedgerSurvivesReopen) {
  {
    auto p = open();
    ASSERT_TRUE(p->execute(call(ev::step_kind::allocate, 1)));
  }
  EXPECT_EQ(open()->ledger()->size(), 1u);
}
