#include <gtest/gtest.h>

#include "events/codec.hpp"
#include "events/rocksdb/rocksdb_journal.hpp"

namespace ev = provisiond::events;
using provisiond::errc;

namespace {

// One populated sample of every event type, in variant order.
std::vector<ev::event> samples() {
  ev::resource_ref r{"srv-1", "server", ev::step_kind::allocate, {{"hostname", "h.example"}}};
  return {
      ev::request_submitted{"acme", "o-1", "vps", "eu-west-1", "simulation", {2, 4, 40}, {{"k", "v"}}, "idem-1", "abc", {"req-0"}},
      ev::cluster_placed{"sim-eu", "default cluster", {2, 4, 40, 1}},
      ev::step_started{ev::step_kind::configure, 2, "req-1/configure/2"},
      ev::resource_allocated{r},
      ev::step_completed{ev::step_kind::allocate, 1, {{"ipv4", "203.0.113.9"}}, true},
      ev::step_failed{ev::step_kind::activate, 3, "timeout", "no answer", true, 1700000005000},
      ev::request_completed{{{"ssh", "ssh://root@203.0.113.9:22"}}},
      ev::request_failed{"step_failed", "boom", ev::step_kind::verify},
      ev::rollback_started{"boom"},
      ev::step_compensated{ev::step_kind::configure, {"fip-1", "fip-2"}},
      ev::compensation_failed{ev::step_kind::allocate, 2, "busy", 1700000010000},
      ev::rolled_back{},
      ev::quota_reserved{{1, 2, 4, 40}},
      ev::quota_released{{1, 2, 4, 40}},
      ev::quota_exceeded{{{"cpu", 32, 8, 16}, {"instances", 1, 5, 5}}},
      ev::approval_requested{"rule-1", "High-Resource VPS Approval", 10, {"minCpu 16 <= 32"}},
      ev::request_approved{"ok by ops"},
      ev::request_rejected{"too big"},
      ev::request_admitted{},
      ev::quota_set{"acme", {5, 64, 128, 2000}},
      ev::approval_rule_saved{{"rule-1", "High-Resource VPS Approval", "", 10, true,
                               {16, 32, 500, {"vps"}, {"eu-west-1"}}, 1700000000000}},
      ev::approval_rule_deleted{"rule-1"},
      ev::action_requested{ev::lifecycle_action::suspend},
      ev::service_suspended{},
      ev::service_reactivated{},
      ev::action_failed{ev::lifecycle_action::reactivate, 2, "busy", 1700000020000},
      ev::deprovisioned{},
      ev::retry_requested{},
      ev::capacity_released{"sim-eu", {2, 4, 40, 1}},
      ev::manual_input_requested{ev::step_kind::activate, "waiting for the vendor"},
      ev::manual_input_provided{ev::step_kind::activate, "10.0.0.5", "root", {{"ssh", "ssh://root@10.0.0.5"}},
                                "password", "racked in DC2"},
      ev::late_result_received{ev::step_kind::configure, 2, {r}},
      ev::cluster_saved{provisiond::cluster_config{"os-1", "OpenStack 1", "openstack", "eu-west-1", true,
                                                   {64, 256, 4000, 20}, "degraded", false,
                                                   R"({"authUrl":"https://keystone:5000/v3"})", {"password"},
                                                   1700000000000}},
      ev::cluster_deleted{"os-1"},
      ev::webhook_saved{ev::webhook_endpoint{"wh_1", "acme", "https://hooks.acme.example/p", {"request_completed", "*"},
                                             false, "billing", 1700000000000, 1700000000500, 1700000060000,
                                             1700000001000, "5 deliveries in a row failed"}},
      ev::webhook_deleted{"wh_1"},
      ev::webhook_deactivated{"wh_1", "5 deliveries in a row failed; last: status 500", 5, 1700000001000},
      ev::webhook_delivery_settled{"msg_ab", "wh_1", "req-1:3", "failed",
                                   {ev::webhook_attempt{1700000000000, 1700000000, 500, 12, "status 500", "oops"},
                                    ev::webhook_attempt{1700000005000, 1700000005, 0, 10000, "timeout: read", ""}}},
      ev::api_key_issued{"Qm9vdHN0cmFw", "acme ci", "tenant", "acme", true,
                         "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", 1700000000000, "key:bootstrap"},
      ev::api_key_revoked{"Qm9vdHN0cmFw", 1700000100000, "jwt:ops"},
  };
}

}  // namespace

TEST(EventCodec, EveryEventTypeRoundTrips) {
  auto all = samples();
  ASSERT_EQ(all.size(), std::variant_size_v<ev::event>) << "add a sample for the new event type";
  std::set<std::string> names;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const auto& e = all[i];
    EXPECT_EQ(e.index(), i);
    auto payload = ev::encode_payload(e);
    auto back = ev::decode_payload(ev::type_name(e), ev::schema_version(e), payload);
    ASSERT_TRUE(back.has_value()) << ev::type_name(e) << ": " << back.error().message;
    EXPECT_EQ(*back, e) << ev::type_name(e);
    names.insert(ev::type_name(e));
  }
  EXPECT_EQ(names.size(), all.size()) << "type names must be unique";
}

TEST(EventCodec, UpcastsRequestSubmittedV1WithoutDependencies) {
  auto v1 = R"({"tenantId":"acme","orderId":"o","type":"vps","region":"r","provider":"simulation",
               "resources":{"cpu":1,"memoryGb":2,"storageGb":3},"metadata":{},"idempotencyKey":"","requestHash":""})";
  auto e = ev::decode_payload("request_submitted", 1, v1);
  ASSERT_TRUE(e.has_value()) << e.error().message;
  auto& s = std::get<ev::request_submitted>(*e);
  EXPECT_TRUE(s.depends_on.empty());
  EXPECT_EQ(s.resources.memory_gb, 2);
  EXPECT_EQ(ev::schema_version(*e), 2u);
}

TEST(EventCodec, UpcastsClusterPlacedV1WithoutCapacity) {
  auto e = ev::decode_payload("cluster_placed", 1, R"({"clusterId":"sim-eu","reason":"default cluster"})");
  ASSERT_TRUE(e.has_value()) << e.error().message;
  auto& p = std::get<ev::cluster_placed>(*e);
  EXPECT_EQ(p.cluster_id, "sim-eu");
  EXPECT_EQ(p.capacity, provisiond::cluster_capacity{});
}

TEST(EventCodec, RejectsUnknownTypeAndFutureVersion) {
  EXPECT_EQ(ev::decode_payload("no_such_event", 1, "{}").error().code, errc::internal);
  auto future = ev::decode_payload("rolled_back", 99, "{}");
  ASSERT_FALSE(future.has_value());
  EXPECT_NE(future.error().message.find("schema version 99"), std::string::npos);
}

TEST(EventCodec, RejectsCorruptPayloadWithoutThrowing) {
  EXPECT_FALSE(ev::decode_payload("step_started", 1, "{\"step\":\"nope\",\"attempt\":1,\"idempotencyKey\":\"k\"}"));
  EXPECT_FALSE(ev::decode_payload("step_started", 1, "not json"));
  EXPECT_FALSE(ev::decode_payload("request_submitted", 1, "{\"tenantId\":5}"));
}

TEST(EnvelopeCodec, RoundTripsAndDerivesEventId) {
  ev::envelope e{"", "request-req-1", 7, 42, "step_started", 1, 1700000000123, 3, "{\"a\":1}", {}, {}};
  auto bytes = ev::rocksdb_adapter::encode_envelope(e);
  auto back = ev::rocksdb_adapter::decode_envelope(bytes);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->event_id, "req-1:7");
  EXPECT_EQ(back->stream, e.stream);
  EXPECT_EQ(back->sequence, 7u);
  EXPECT_EQ(back->global_position, 42u);
  EXPECT_EQ(back->time, e.time);
  EXPECT_EQ(back->fencing_token, 3u);
  EXPECT_EQ(back->payload, e.payload);
  EXPECT_FALSE(ev::rocksdb_adapter::decode_envelope(bytes.substr(0, bytes.size() - 3)).has_value());
}

TEST(EnvelopeCodec, KeepsTheChainHashesAndRefusesTrailingBytes) {
  ev::envelope e{"", "request-req-1", 7, 42, "step_started", 1, 1700000000123, 3, "{\"a\":1}", {}, {}};
  e.previous_hash = std::string(32, 'p');
  e.hash = std::string(32, 'h');
  auto bytes = ev::rocksdb_adapter::encode_envelope(e);
  auto back = ev::rocksdb_adapter::decode_envelope(bytes);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->previous_hash, e.previous_hash);
  EXPECT_EQ(back->hash, e.hash);
  EXPECT_FALSE(ev::rocksdb_adapter::decode_envelope(bytes + "x").has_value());
  e.hash = "short";
  EXPECT_FALSE(ev::rocksdb_adapter::decode_envelope(ev::rocksdb_adapter::encode_envelope(e)).has_value());
}
