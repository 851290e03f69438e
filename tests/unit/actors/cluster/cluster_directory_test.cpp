#include <gtest/gtest.h>

#include "app/config.hpp"
#include "gateway/cluster_body.hpp"
#include "actors/cluster/cluster_directory.hpp"
#include "events/rocksdb/rocksdb_journal.hpp"
#include "events/rocksdb/rocksdb_secrets.hpp"
#include "tests/support/temp_dir.hpp"

namespace ev = provisiond::events;
using namespace provisiond;
using provisiond::gateway::parse_cluster;

namespace {

struct fixture {
  provisiond::testing::temp_dir dir;
  std::shared_ptr<ev::rocksdb_adapter::store> store =
      *ev::rocksdb_adapter::store::open(dir / "journal", durability::fast);
  std::shared_ptr<ev::journal> journal = ev::rocksdb_adapter::make_journal(store);
  std::shared_ptr<ev::secret_store> secrets =
      ev::rocksdb_adapter::make_secret_store(store, *secret_box::from_key_file(dir / "secret.key"));
  std::shared_ptr<provisiond::clock> clk = make_system_clock();

  std::string all_payloads() {
    std::string out;
    auto evs = journal->read_stream("clusters", 1);
    if (!evs) return out;
    for (auto& e : *evs) out += e.payload + "\n";
    return out;
  }
};

}  // namespace

TEST(ClusterDirectory, SecretsAreSealedOutsideTheEventsAndKeptWhenOmitted) {
  fixture f;
  actors::cluster_directory dir{f.journal, f.clk, f.secrets};
  ASSERT_TRUE(dir.load(default_config().clusters, {}).has_value());
  EXPECT_EQ(dir.list().size(), 2u) << "config clusters are seeded";

  auto d = parse_cluster(R"({"name":"OS","type":"openstack","region":"eu-west-1",
      "capacity":{"cpu":64,"memoryGb":256,"storageGb":4000,"vmSlots":20},
      "connection":{"authUrl":"https://keystone:5000/v3","username":"svc","password":"s3cr3t-pw",
                    "applicationCredentialSecret":"app-s3cr3t"}})", "", true);
  ASSERT_TRUE(d.has_value()) << d.error().message;
  auto c = dir.create(*d);
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_FALSE(c->id.empty()) << "the id is assigned";
  EXPECT_EQ(c->secret_fields, (std::vector<std::string>{"applicationCredentialSecret", "password"}));
  EXPECT_EQ(c->connection.find("s3cr3t"), std::string::npos);
  EXPECT_EQ(f.all_payloads().find("s3cr3t"), std::string::npos) << "no secret in any event";
  auto conn = dir.connection(c->id);
  ASSERT_TRUE(conn.has_value());
  EXPECT_NE(conn->find("s3cr3t-pw"), std::string::npos) << "the provider gets it back";

  // An update without the password keeps it; one with a new password replaces it.
  auto moved = parse_cluster(R"({"type":"openstack","region":"eu-central-1",
      "capacity":{"cpu":64,"memoryGb":256,"storageGb":4000,"vmSlots":20},"connection":{"username":"svc"}})", "", true);
  ASSERT_TRUE(dir.update(c->id, *moved).has_value());
  EXPECT_EQ(dir.get(c->id)->region, "eu-central-1");
  EXPECT_NE(dir.connection(c->id)->find("s3cr3t-pw"), std::string::npos);

  // Replay from the journal gives the same registry.
  actors::cluster_directory replayed{f.journal, f.clk, f.secrets};
  ASSERT_TRUE(replayed.load({}, {}).has_value());
  EXPECT_EQ(replayed.get(c->id), dir.get(c->id));
  auto second = dir.create(*d);
  ASSERT_TRUE(second.has_value()) << "a second create without an id gets a new id";
  EXPECT_NE(second->id, c->id);
  auto same_id = *d;
  same_id.cluster.id = c->id;
  EXPECT_EQ(dir.create(same_id).error().code, errc::conflict);

  ASSERT_TRUE(dir.remove(c->id).has_value());
  EXPECT_FALSE(dir.get(c->id).has_value());
  EXPECT_FALSE(f.secrets->get(ev::cluster_secret_name(c->id, "password"))->has_value()) << "secrets are shredded";
  EXPECT_EQ(dir.remove(c->id).error().code, errc::not_found);
}

TEST(ClusterDirectory, ParseNamesTheBadField) {
  auto e = parse_cluster(R"({"type":"openstack","region":"r"})", "", true);
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().field, "capacity");
  e = parse_cluster(R"({"type":"nope","region":"r"})", "", true);
  EXPECT_EQ(e.error().field, "type");
  e = parse_cluster(R"({"type":"manual","region":"r","health":"sick","capacity":{"cpu":1,"memoryGb":1,"storageGb":1,"vmSlots":1}})", "", true);
  EXPECT_EQ(e.error().field, "health");
  e = parse_cluster(R"({"type":"manual","region":"r","capacity":{"cpu":-1,"memoryGb":1,"storageGb":1,"vmSlots":1}})", "", true);
  EXPECT_EQ(e.error().field, "capacity.cpu");
  e = parse_cluster(R"({"type":"manual","region":"r","capacity":{"cpu":1,"memoryGb":1,"storageGb":1}})", "", true);
  EXPECT_EQ(e.error().field, "capacity.vmSlots");
  e = parse_cluster(R"({"type":"manual","region":"r","connection":{"token":42}})", "", false);
  EXPECT_EQ(e.error().field, "connection.token");
  e = parse_cluster(R"({"type":"manual","region":"r","colour":"blue"})", "", false);
  EXPECT_EQ(e.error().field, "colour");
}
