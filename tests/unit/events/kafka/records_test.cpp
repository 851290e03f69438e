// The Kafka record of a journal event (pure): which topics, keys and
// partitions, the CloudEvent, and the changelog part another instance
// restores from.
#include <gtest/gtest.h>

#include <librdkafka/rdkafka.h>

#include <random>

#include <nlohmann/json.hpp>

#include "events/codec.hpp"
#include "events/kafka/kafka.hpp"
#include "events/kafka/partitioning.hpp"

namespace ev = provisiond::events;
namespace kf = provisiond::events::kafka;
using nlohmann::json;
using provisiond::errc;

namespace {

ev::envelope envelope_of(const ev::event& e, std::uint64_t seq, std::uint64_t token) {
  auto pending = ev::make_pending(e, 1'700'000'000'123);
  ev::envelope env;
  env.event_id = "req-1:" + std::to_string(seq);
  env.stream = ev::stream_for_request("req-1");
  env.sequence = seq;
  env.global_position = 40 + seq;
  env.type = pending.type;
  env.schema_version = pending.schema_version;
  env.time = pending.time;
  env.fencing_token = token;
  env.payload = pending.payload;
  return env;
}

ev::request_state state_of_acme() {
  ev::request_state s;
  s.id = "req-1";
  s.spec.tenant_id = "acme";
  s.spec.order_id = "order-9";
  s.state = ev::lifecycle::activating;
  return s;
}

}  // namespace

TEST(KafkaRecords, AnActivateCompletionGoesToItsLifecycleTopicsAndTheChangelogOnTheTenantsPartition) {
  ev::event e = ev::step_completed{ev::step_kind::activate, 1, {{"ip", "203.0.113.7"}}, false};
  auto env = envelope_of(e, 12, 3);
  provisiond::kafka_config cfg;
  auto records = kf::records_for(env, e, state_of_acme(), cfg);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].topic, "provisioning.step-completed");
  EXPECT_EQ(records[1].topic, "service.activated");
  EXPECT_EQ(records[2].topic, "provisioning.journal");
  for (auto& r : records) EXPECT_EQ(r.key, "req-1") << r.topic;
  EXPECT_TRUE(records[0].partition_key.empty()) << "lifecycle records hash by their key";
  EXPECT_EQ(records[2].partition_key, "acme") << "the changelog is partitioned by tenant";

  auto ce = json::parse(records[2].value);
  EXPECT_EQ(ce["id"], "req-1:12");
  EXPECT_EQ(ce["type"], "provisioning.journal");
  EXPECT_EQ(ce["subject"], "req-1");
  EXPECT_EQ(ce["data"]["tenantId"], "acme");
  EXPECT_EQ(ce["data"]["eventType"], "step_completed");
  EXPECT_EQ(ce["data"]["journal"]["sequence"], 12);
  EXPECT_EQ(ce["data"]["journal"]["fencingToken"], 3);
  EXPECT_EQ(ce["data"]["journal"]["payload"], env.payload);
  EXPECT_FALSE(json::parse(records[0].value)["data"].contains("journal")) << "only the changelog carries it";
  EXPECT_EQ(kf::records_for(env, e, state_of_acme(), cfg)[2].value, records[2].value) << "deterministic";
}

TEST(KafkaRecords, TheChangelogRecordGivesBackTheStoredEventByteForByte) {
  ev::event e = ev::resource_allocated{{"srv-9", "server", ev::step_kind::allocate, {{"flavor", "m1.small"}}}};
  auto env = envelope_of(e, 5, 11);
  auto records = kf::records_for(env, e, state_of_acme(), {});
  auto back = kf::parse_journal_record(records.back().value);
  ASSERT_TRUE(back.has_value()) << back.error().field << ": " << back.error().message;
  EXPECT_EQ(back->event_id, env.event_id);
  EXPECT_EQ(back->stream, env.stream);
  EXPECT_EQ(back->sequence, env.sequence);
  EXPECT_EQ(back->type, env.type);
  EXPECT_EQ(back->schema_version, env.schema_version);
  EXPECT_EQ(back->time, env.time);
  EXPECT_EQ(back->fencing_token, env.fencing_token);
  EXPECT_EQ(back->payload, env.payload);
  EXPECT_EQ(back->global_position, 0u) << "positions are each journal's own";
  auto decoded = ev::decode(*back);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(std::get<ev::resource_allocated>(*decoded).resource.id, "srv-9");
}

TEST(KafkaRecords, TheChangelogCarriesTheCommandsDedupeRecordAndAdminEventsOnTheAdminPartition) {
  ev::event e = ev::resource_allocated{{"srv-9", "server", ev::step_kind::allocate, {}}};
  auto env = envelope_of(e, 5, 11);
  ev::dedupe_record d{"cmd/c-42", R"({"requestId":"r-1"})"};
  auto records = kf::records_for(env, e, state_of_acme(), {}, d);
  std::optional<ev::dedupe_record> back;
  ASSERT_TRUE(kf::parse_journal_record(records.back().value, &back).has_value());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->key, d.key);
  EXPECT_EQ(back->value, d.value);
  std::optional<ev::dedupe_record> none;
  ASSERT_TRUE(kf::parse_journal_record(kf::records_for(env, e, state_of_acme(), {}).back().value, &none).has_value());
  EXPECT_FALSE(none.has_value());

  ev::envelope admin;
  admin.stream = ev::clusters_stream;
  admin.sequence = 3;
  admin.event_id = "clusters:3";
  admin.type = "cluster_deleted";
  admin.payload = R"({"clusterId":"c-1"})";
  admin.fencing_token = 7;
  auto r = kf::admin_record_for(admin, {});
  EXPECT_EQ(r.topic, "provisioning.journal");
  EXPECT_EQ(r.partition_key, kf::admin_partition_key) << "every admin stream on the admin partition";
  auto restored = kf::parse_journal_record(r.value);
  ASSERT_TRUE(restored.has_value()) << restored.error().message;
  EXPECT_EQ(restored->stream, "clusters");
  EXPECT_EQ(restored->event_id, "clusters:3");
  EXPECT_EQ(restored->fencing_token, 7u);
  EXPECT_EQ(restored->payload, admin.payload);
}

TEST(KafkaRecords, AMalformedChangelogRecordIsAnErrorNamingTheField) {
  auto field_of = [](const std::string& text) {
    auto r = kf::parse_journal_record(text);
    return r.has_value() ? std::string("(accepted)") : r.error().field;
  };
  EXPECT_EQ(field_of(R"({"data":{}})"), "data.journal");
  EXPECT_EQ(field_of(R"({"data":"x"})"), "data");
  EXPECT_EQ(field_of(R"({"data":{"journal":{"stream":"cluster-1"}}})"), "data.journal.stream");
  EXPECT_EQ(field_of(R"({"data":{"journal":{"stream":"request-r","sequence":0}}})"), "data.journal.sequence");
  EXPECT_EQ(field_of(R"({"data":{"journal":{"stream":"request-r","sequence":1,"type":"t","schemaVersion":1,)"
                     R"("timeMs":1,"fencingToken":-1,"payload":"{}"}}})"),
            "data.journal.fencingToken");
  EXPECT_EQ(field_of(R"({"data":{"journal":{"stream":"request-r","sequence":1,"type":"t","schemaVersion":1,)"
                     R"("timeMs":1,"fencingToken":1,"payload":"{}","dedupe":{"key":""}}}})"),
            "data.journal.dedupe");
  EXPECT_EQ(field_of(R"({"data":{"journal":{"stream":"tenant-quotas-x","sequence":1}}})"), "data.journal.stream")
      << "only the known admin streams";
  EXPECT_NE(field_of(std::string(100'000, '[')), "(accepted)") << "deep nesting is refused by the bounded parser";
  EXPECT_FALSE(kf::parse_journal_record("not json").has_value());
}

TEST(KafkaPartitioning, Murmur2MatchesKafkasJavaClientAndLibrdkafka) {
  // org.apache.kafka.common.utils.UtilsTest.testMurmur2
  EXPECT_EQ(static_cast<std::int32_t>(kf::murmur2("21")), -973932308);
  EXPECT_EQ(static_cast<std::int32_t>(kf::murmur2("foobar")), -790332482);
  EXPECT_EQ(static_cast<std::int32_t>(kf::murmur2("a-little-bit-long-string")), -985981536);
  EXPECT_EQ(static_cast<std::int32_t>(kf::murmur2("a-little-bit-longer-string")), -1486304829);
  EXPECT_EQ(static_cast<std::int32_t>(kf::murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8")), -58897971);
  EXPECT_EQ(static_cast<std::int32_t>(kf::murmur2("abc")), 479470107);
  // librdkafka's partitioner=murmur2 places every key where partition_of does.
  std::mt19937 rng{7};
  for (int i = 0; i < 2000; ++i) {
    std::string key = "tenant-" + std::to_string(rng()) + std::string(i % 5, 'x');
    for (std::int32_t n : {1, 3, 4, 12}) {
      ASSERT_EQ(kf::partition_of(key, n),
                rd_kafka_msg_partitioner_murmur2(nullptr, key.data(), key.size(), n, nullptr, nullptr))
          << key << " over " << n;
    }
  }
}
