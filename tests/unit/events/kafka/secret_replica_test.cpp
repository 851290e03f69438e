// Secrets shared between instances on provisioning.secrets: sealed on the
// wire, applied by the other instance, shredded by a tombstone, and hostile
// records (not base64, another key, a 1 MB name) refused without harm.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "common/base64.hpp"
#include "common/metrics.hpp"
#include "events/kafka/kafka.hpp"
#include "events/kafka/secret_replica.hpp"
#include "events/rocksdb/rocksdb_secrets.hpp"
#include "tests/support/kafka_reader.hpp"
#include "tests/support/temp_dir.hpp"

using namespace provisiond;
using namespace provisiond::events::kafka;
using namespace std::chrono_literals;
namespace ev = provisiond::events;

namespace {

secret_box box_of(char fill) {
  secret_box::key k;
  k.fill(static_cast<unsigned char>(fill));
  return secret_box{k};
}

struct SecretReplica : ::testing::Test {
  provisiond::testing::temp_dir dir;
  kafka_config cfg;
  std::unique_ptr<mock_cluster> kafka;

  void SetUp() override {
    cfg.group_id = "secrets-test";
    auto m = mock_cluster::start(1, {secrets_topic(cfg)});
    ASSERT_TRUE(m.has_value());
    kafka = std::move(*m);
  }

  std::unique_ptr<secret_replica> open(const std::string& name, char key = 'k') {
    auto s = ev::rocksdb_adapter::store::open(dir / name, durability::fast);
    EXPECT_TRUE(s.has_value());
    auto r = std::make_unique<secret_replica>(ev::rocksdb_adapter::make_secret_store(*s, box_of(key)), box_of(key),
                                              kafka->bootstrap(), cfg);
    EXPECT_TRUE(r->start(30s).has_value());
    return r;
  }

  // Polls until `name` on `r` is `want` (nullopt: absent) or 10 s pass.
  static std::optional<std::string> eventually(secret_replica& r, const std::string& name,
                                               const std::optional<std::string>& want) {
    std::optional<std::string> have;
    for (int i = 0; i < 200; ++i) {
      auto v = r.get(name);
      have = v ? *v : std::nullopt;
      if (have == want) break;
      std::this_thread::sleep_for(50ms);
    }
    return have;
  }
};

}  // namespace

TEST_F(SecretReplica, APutReachesTheOtherInstanceSealedAndATombstoneShredsIt) {
  auto a = open("a");
  auto b = open("b");
  ASSERT_TRUE(a->put("cluster/c1/password", "pw-Xq81").has_value());
  EXPECT_EQ(eventually(*b, "cluster/c1/password", "pw-Xq81"), "pw-Xq81");
  for (auto& rec : provisiond::testing::read_topic(kafka->bootstrap(), secrets_topic(cfg)))
    EXPECT_EQ(rec.value.find("pw-Xq81"), std::string::npos) << "sealed on the wire";
  ASSERT_TRUE(a->erase("cluster/c1/password").has_value());
  EXPECT_EQ(eventually(*b, "cluster/c1/password", std::nullopt), std::nullopt);
  // A third instance starting now restores what is live: nothing.
  auto c = open("c");
  EXPECT_EQ(eventually(*c, "cluster/c1/password", std::nullopt), std::nullopt);
}

TEST_F(SecretReplica, RecordsItCannotOpenAreSkippedAndHarmNothing) {
  auto b = open("b");
  ASSERT_TRUE(b->put("request/r1/credential", "kept").has_value());
  auto other = box_of('o').seal("forged", "request/r1/credential");
  ASSERT_TRUE(other.has_value());
  auto t = secrets_topic(cfg);
  ASSERT_TRUE(provisiond::testing::produce(kafka->bootstrap(), t, {"not base64 \xff\xfe"}, "request/r1/credential"));
  ASSERT_TRUE(provisiond::testing::produce(kafka->bootstrap(), t, {base64_encode(*other)}, "request/r1/credential"));
  ASSERT_TRUE(provisiond::testing::produce(kafka->bootstrap(), t, {"AAAA"}, std::string(1 << 20, 'n')));
  // A value sealed for one name does not open under another.
  auto moved = box_of('k').seal("moved", "cluster/x/password");
  ASSERT_TRUE(provisiond::testing::produce(kafka->bootstrap(), t, {base64_encode(*moved)}, "request/r1/credential"));
  // All four are counted (they may sit on any partition, in any order).
  auto unreadable = [] {
    auto text = metrics::registry::global().render();
    auto at = text.find("provisiond_secret_replica_records_total{result=\"unreadable\"} ");
    return at == std::string::npos ? 0.0 : std::strtod(text.c_str() + text.find(' ', at) + 1, nullptr);
  };
  for (int i = 0; i < 200 && unreadable() < 4; ++i) std::this_thread::sleep_for(50ms);
  EXPECT_EQ(unreadable(), 4);
  ASSERT_TRUE(b->put("cluster/c2/token", "after").has_value());
  EXPECT_EQ(eventually(*b, "cluster/c2/token", "after"), "after") << "the replica went on after the bad records";
  EXPECT_EQ(eventually(*b, "request/r1/credential", "kept"), "kept") << "nothing it could not open replaced it";
}
