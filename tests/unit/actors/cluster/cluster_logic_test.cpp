#include <gtest/gtest.h>

#include "actors/cluster/cluster_logic.hpp"

namespace ev = provisiond::events;
using namespace provisiond::actors;
using provisiond::cluster_capacity;
using provisiond::cluster_config;

namespace {

ev::request_submitted spec(std::string type = "vps") {
  return ev::request_submitted{"acme", "o-1", type, "eu-west-1", "simulation", {4, 8, 100}, {}, "", "h", {}};
}

cluster_config cluster(std::string id, std::string type, std::string region, bool is_default,
                       std::string health = "online", bool enabled = true) {
  cluster_config c;
  c.id = id;
  c.type = type;
  c.region = region;
  c.is_default = is_default;
  c.health = health;
  c.provisioning_enabled = enabled;
  c.capacity = {16, 64, 1000, 4};
  return c;
}

}  // namespace

TEST(Placement, RegionDefaultFirstThenByIdAndEverySkipExplained) {
  std::vector<cluster_config> cs = {
      cluster("a-os", "openstack", "eu-west-1", true),
      cluster("b-sim", "simulation", "eu-west-1", false),
      cluster("c-sim", "simulation", "eu-west-1", true),
      cluster("d-sim", "simulation", "us-east-1", true),
      cluster("e-sim", "simulation", "eu-west-1", false, "offline"),
      cluster("f-sim", "simulation", "eu-west-1", false, "online", false),
      cluster("g-sim", "simulation", "eu-west-1", false, "degraded"),
      cluster("0-sim", "simulation", "eu-west-1", false),
  };
  auto p = plan_placement(spec(), cs);
  EXPECT_EQ(p.candidates, (std::vector<std::string>{"c-sim", "0-sim", "b-sim"}));
  EXPECT_EQ(p.skipped, (std::vector<std::string>{"d-sim: region is us-east-1", "e-sim: health is offline",
                                                  "f-sim: provisioning is disabled", "g-sim: health is degraded",
                                                  "1 cluster of other types"}));
  auto reason = no_cluster_reason(spec(), p.skipped);
  EXPECT_NE(reason.find("no simulation cluster in eu-west-1"), std::string::npos) << reason;
  EXPECT_NE(reason.find("e-sim: health is offline"), std::string::npos) << reason;
  EXPECT_NE(no_cluster_reason(spec(), {}).find("no clusters registered"), std::string::npos);
}

TEST(Placement, CapacityNeedsEveryDimensionAndOneVmSlotForVmTypes) {
  EXPECT_EQ(capacity_of(spec("vps")), (cluster_capacity{4, 8, 100, 1}));
  EXPECT_EQ(capacity_of(spec("namespace")), (cluster_capacity{4, 8, 100, 0}));
  cluster_capacity total{16, 64, 1000, 4};
  EXPECT_EQ(shortfall(total, {12, 0, 0, 0}, {4, 8, 100, 1}), "");
  auto why = shortfall(total, {13, 60, 0, 4}, {4, 8, 100, 1});
  EXPECT_EQ(why, "not enough capacity (cpu needs 4, 3 free, memoryGb needs 8, 4 free, vmSlots needs 1, 0 free)");
  cluster_capacity used{1, 2, 3, 1};
  used += cluster_capacity{4, 8, 100, 1};
  used -= cluster_capacity{1, 2, 3, 1};
  EXPECT_EQ(used, (cluster_capacity{4, 8, 100, 1}));
}
