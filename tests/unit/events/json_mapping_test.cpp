// The one JSON mapping per domain value: each type round-trips, and its bytes
// are pinned (they are stored in the journal and the views, published on
// Kafka and shown by the API, so they never change by accident).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/json.hpp"
#include "events/json_mapping.hpp"

namespace ev = provisiond::events;
using nlohmann::json;

namespace {

// Given a value, its exact JSON; and the JSON reads back as the value.
template <class T>
void pins(const T& value, const std::string& bytes) {
  EXPECT_EQ(ev::to_json(value).dump(), bytes);
  EXPECT_EQ(ev::from_json<T>(json::parse(bytes)), value) << bytes;
}

provisiond::cluster_config openstack_cluster() {
  return provisiond::cluster_config{"os-1", "OpenStack 1", "openstack", "eu-west-1", true,
                                    {64, 256, 4000, 20}, "degraded", false,
                                    R"({"authUrl":"https://keystone:5000/v3","n":{"a":[1,2]}})", {"password"},
                                    1700000000000};
}

}  // namespace

TEST(JsonMapping, StepIsItsName) {
  pins(ev::step_kind::allocate, R"("allocate")");
  pins(ev::step_kind::verify, R"("verify")");
  EXPECT_THROW(ev::from_json<ev::step_kind>(json("deploy")), std::invalid_argument);
}

TEST(JsonMapping, ResourceSpecPinsItsBytes) {
  pins(ev::resource_spec{2, 4, 40}, R"({"cpu":2,"memoryGb":4,"storageGb":40})");
}

TEST(JsonMapping, ResourceRefPinsItsBytes) {
  pins(ev::resource_ref{"srv-1", "server", ev::step_kind::allocate, {{"hostname", "h.example"}}},
       R"({"attributes":{"hostname":"h.example"},"id":"srv-1","kind":"server","step":"allocate"})");
  pins(ev::resource_ref{"fip-1", "floating_ip", ev::step_kind::configure, {}},
       R"({"attributes":{},"id":"fip-1","kind":"floating_ip","step":"configure"})");
}

TEST(JsonMapping, ResourceRefWithoutAttributesReadsAsEmpty) {
  auto r = ev::from_json<ev::resource_ref>(json::parse(R"({"id":"x","kind":"server","step":"verify"})"));
  EXPECT_TRUE(r.attributes.empty());
  EXPECT_EQ(r.step, ev::step_kind::verify);
}

TEST(JsonMapping, ClusterCapacityPinsItsBytes) {
  pins(provisiond::cluster_capacity{2, 4, 40, 1}, R"({"cpu":2,"memoryGb":4,"storageGb":40,"vmSlots":1})");
}

TEST(JsonMapping, QuotaAmountPinsItsBytesUnlimitedAsMinusOne) {
  pins(ev::quota_amount{1, 2, 4, 40}, R"({"cpu":2,"instances":1,"memoryGb":4,"storageGb":40})");
  pins(ev::quota_amount{5, 64, -1, 2000}, R"({"cpu":64,"instances":5,"memoryGb":-1,"storageGb":2000})");
}

TEST(JsonMapping, QuotaViolationsPinTheirBytes) {
  pins(ev::quota_violation{"cpu", 32, 8, 16}, R"({"dimension":"cpu","limit":16,"requested":32,"used":8})");
  pins(std::vector<ev::quota_violation>{{"cpu", 32, 8, 16}, {"instances", 1, 5, 5}},
       R"([{"dimension":"cpu","limit":16,"requested":32,"used":8},)"
       R"({"dimension":"instances","limit":5,"requested":1,"used":5}])");
  pins(std::vector<ev::quota_violation>{}, "[]");
}

TEST(JsonMapping, ApprovalConditionsPinTheirBytesUnsetAsNull) {
  pins(ev::approval_conditions{16, 32, 500, {"vps"}, {"eu-west-1"}},
       R"({"minCpu":16,"minMemoryGb":32,"minStorageGb":500,"regions":["eu-west-1"],"types":["vps"]})");
  pins(ev::approval_conditions{std::nullopt, 4, std::nullopt, {}, {}},
       R"({"minCpu":null,"minMemoryGb":4,"minStorageGb":null,"regions":[],"types":[]})");
}

TEST(JsonMapping, ApprovalRulePinsItsBytes) {
  pins(ev::approval_rule{"rule-1", "High-Resource VPS Approval", "", 10, true, {16, 32, 500, {"vps"}, {"eu-west-1"}},
                         1700000000000},
       R"({"conditions":{"minCpu":16,"minMemoryGb":32,"minStorageGb":500,"regions":["eu-west-1"],"types":["vps"]},)"
       R"("createdAt":1700000000000,"enabled":true,"id":"rule-1","name":"High-Resource VPS Approval","priority":10,)"
       R"("tenantId":""})");
  pins(ev::approval_rule{"rule-2", "x", "acme", -3, false, {std::nullopt, 4, std::nullopt, {}, {}}, 0},
       R"({"conditions":{"minCpu":null,"minMemoryGb":4,"minStorageGb":null,"regions":[],"types":[]},)"
       R"("createdAt":0,"enabled":false,"id":"rule-2","name":"x","priority":-3,"tenantId":"acme"})");
}

TEST(JsonMapping, ApprovalRuleMissingOptionalFieldsGetDefaults) {
  auto r = ev::from_json<ev::approval_rule>(json::parse(R"({"id":"r","conditions":{}})"));
  EXPECT_EQ(r, (ev::approval_rule{"r", "", "", 0, true, {}, 0}));
  EXPECT_THROW(ev::from_json<ev::approval_rule>(json::parse(R"({"id":"r"})")), std::exception) << "conditions";
}

TEST(JsonMapping, ApprovalRequestedPinsItsBytes) {
  pins(ev::approval_requested{"rule-1", "High-Resource VPS Approval", 10, {"minCpu 16 <= 32"}},
       R"({"matched":["minCpu 16 <= 32"],"priority":10,"ruleId":"rule-1","ruleName":"High-Resource VPS Approval"})");
  pins(ev::approval_requested{}, R"({"matched":[],"priority":0,"ruleId":"","ruleName":""})");
}

TEST(JsonMapping, ClusterConfigPinsItsBytesConnectionAsAnObject) {
  pins(openstack_cluster(),
       R"({"capacity":{"cpu":64,"memoryGb":256,"storageGb":4000,"vmSlots":20},)"
       R"("connection":{"authUrl":"https://keystone:5000/v3","n":{"a":[1,2]}},"createdAt":1700000000000,)"
       R"("default":true,"health":"degraded","id":"os-1","name":"OpenStack 1","provisioningEnabled":false,)"
       R"("region":"eu-west-1","secretFields":["password"],"type":"openstack"})");
}

TEST(JsonMapping, ClusterConfigWithUnreadableConnectionShowsAnEmptyObject) {
  provisiond::cluster_config c{"c2", "", "manual", "r", false, {}, "online", true, "not json", {}, 5};
  EXPECT_EQ(ev::to_json(c).dump(),
            R"({"capacity":{"cpu":0,"memoryGb":0,"storageGb":0,"vmSlots":0},"connection":{},"createdAt":5,)"
            R"("default":false,"health":"online","id":"c2","name":"","provisioningEnabled":true,"region":"r",)"
            R"("secretFields":[],"type":"manual"})");
  EXPECT_EQ(ev::from_json<provisiond::cluster_config>(ev::to_json(c)).connection, "{}");
}

TEST(JsonMapping, RequestSubmittedPinsItsBytes) {
  pins(ev::request_submitted{"acme", "o-1", "vps", "eu-west-1", "simulation", {2, 4, 40}, {{"k", "v"}}, "idem-1", "abc",
                             {"req-0"}},
       R"({"dependsOn":["req-0"],"idempotencyKey":"idem-1","metadata":{"k":"v"},"orderId":"o-1",)"
       R"("provider":"simulation","region":"eu-west-1","requestHash":"abc","resources":{"cpu":2,"memoryGb":4,)"
       R"("storageGb":40},"tenantId":"acme","type":"vps"})");
}

TEST(JsonMapping, EveryMappedValueSurvivesTheStoredTextForm) {
  // What the journal and the views keep is dump_json's text: reading it back gives the value.
  auto c = openstack_cluster();
  EXPECT_EQ(ev::from_json<provisiond::cluster_config>(provisiond::parse_json_lenient(provisiond::dump_json(ev::to_json(c)))),
            c);
}
