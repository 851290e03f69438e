// The catalog of accepted names: every name parses back to its value, and the
// "expected one of ..." messages read as the API has always written them.
#include <gtest/gtest.h>

#include "events/catalog.hpp"

namespace ev = provisiond::events;

TEST(Catalog, EveryLifecycleStateParsesBack) {
  for (std::size_t i = 0; i < ev::lifecycle_names.size(); ++i) {
    auto s = static_cast<ev::lifecycle>(i);
    EXPECT_EQ(ev::to_string(s), ev::lifecycle_names[i]);
    EXPECT_EQ(ev::parse_lifecycle(ev::lifecycle_names[i]), s) << ev::lifecycle_names[i];
  }
  EXPECT_FALSE(ev::parse_lifecycle("queued"));
  EXPECT_EQ(ev::join_names(ev::lifecycle_names),
            "Queued, PendingApproval, Allocating, Configuring, Activating, Verifying, Completed, Suspended, Failed, "
            "RollingBack, RolledBack");
}

TEST(Catalog, EveryStepParsesBack) {
  for (std::size_t i = 0; i < ev::step_names.size(); ++i) {
    auto s = static_cast<ev::step_kind>(i);
    EXPECT_EQ(ev::to_string(s), ev::step_names[i]);
    EXPECT_EQ(ev::parse_step(std::string(ev::step_names[i])), s) << ev::step_names[i];
  }
  EXPECT_FALSE(ev::parse_step("deploy"));
  EXPECT_EQ(ev::join_names(ev::step_names), "allocate, configure, activate, verify");
}

TEST(Catalog, EveryStepStatusParsesBack) {
  for (std::size_t i = 0; i < ev::step_status_names.size(); ++i) {
    auto s = static_cast<ev::step_status>(i);
    EXPECT_EQ(ev::to_string(s), ev::step_status_names[i]);
    EXPECT_EQ(ev::parse_step_status(ev::step_status_names[i]), s) << ev::step_status_names[i];
  }
  EXPECT_FALSE(ev::parse_step_status("Done"));
}

TEST(Catalog, RequestTypesReadAsTheApiLists) {
  for (auto t : ev::request_types) EXPECT_TRUE(ev::is_one_of(ev::request_types, t)) << t;
  EXPECT_FALSE(ev::is_one_of(ev::request_types, "vm"));
  EXPECT_EQ("expected one of " + ev::join_names(ev::request_types),
            "expected one of vps, private-cloud, managed-database, object-storage, namespace");
}

TEST(Catalog, ProviderTypesAreTheClusterTypesAndIncludeKubernetes) {
  EXPECT_EQ(&ev::provider_types, &provisiond::cluster_types) << "one list, re-exported from common/";
  for (auto t : {"simulation", "manual", "openstack", "openshift", "kubernetes", "proxmox", "vmware"})
    EXPECT_TRUE(ev::is_one_of(ev::provider_types, t)) << t;
  EXPECT_FALSE(ev::is_one_of(ev::provider_types, "aws"));
  EXPECT_FALSE(ev::is_one_of(ev::provider_types, "")) << "empty is no name";
  EXPECT_EQ("expected one of " + ev::join_names(ev::provider_types),
            "expected one of simulation, manual, openstack, openshift, kubernetes, proxmox, vmware");
}

TEST(Catalog, LifecycleActions) {
  for (auto a : {"suspend", "reactivate", "deprovision", "retry"}) EXPECT_TRUE(ev::is_one_of(ev::lifecycle_actions, a));
  EXPECT_FALSE(ev::is_one_of(ev::lifecycle_actions, "events"));
  EXPECT_FALSE(ev::is_one_of(ev::lifecycle_actions, "Suspend")) << "names are case-sensitive";
}

TEST(Catalog, JoinNamesTakesAnyListOfNames) {
  EXPECT_EQ(ev::join_names(std::vector<std::string>{"id", "tenantId"}), "id, tenantId");
  EXPECT_EQ(ev::join_names(std::vector<std::string>{}), "");
  EXPECT_EQ(ev::join_names(std::array<std::string_view, 2>{"a", "b"}, " or "), "a or b");
}
