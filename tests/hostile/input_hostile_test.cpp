// Hostile request bodies against the real binary: JSON nested deep enough to
// overflow a recursive copy, duplicate keys, ids that are paths or hold
// control bytes, and a stored cluster secret pointed at a new address.
// Healthy clients keep being answered while the attack runs.
#include <algorithm>
#include <atomic>

#include "tests/integration/fixture.hpp"

using namespace provisiond::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::string nest(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

struct InputHostile : server_fixture {
  http_reply put(const std::string& target, const std::string& b) { return http_call(proc.port(), "PUT", target, b); }

  std::string field_of(const http_reply& r) {
    auto j = body(r);
    return j.is_object() && j["error"].contains("field") ? j["error"]["field"].get<std::string>() : "";
  }

  std::string openstack_cluster(const std::string& auth_url, bool with_password) {
    json conn{{"authUrl", auth_url}, {"username", "svc"}, {"projectName", "vps"}, {"flavor", "m1.small"},
              {"image", "debian-12"}, {"network", "tenant-net"}};
    if (with_password) conn["password"] = "pw-s3cr3t";
    return json{{"name", "OS"}, {"type", "openstack"}, {"region", "eu-west-1"},
                {"capacity", {{"cpu", 64}, {"memoryGb", 256}, {"storageGb", 4000}, {"vmSlots", 20}}},
                {"connection", conn}}
        .dump();
  }
};

}  // namespace

TEST_F(InputHostile, DeeplyNestedBodiesAre400sNamingTheFieldAndHealthyClientsAreServed) {
  start_server();
  auto earlier = post("/v1/requests", vps_body("calm-co", "o-1"));
  ASSERT_EQ(earlier.status, 202);
  std::string earlier_id = body(earlier)["id"];

  // Healthy clients in the background, timing each call (printed, not asserted).
  std::atomic<bool> attacking{false}, done{false};
  std::atomic<int> healthy_failures{0};
  std::vector<double> calm_ms, attack_ms;
  std::thread healthy([&] {
    while (!done) {
      auto t0 = std::chrono::steady_clock::now();
      auto r = get("/v1/requests/" + earlier_id);
      double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (r.status != 200) ++healthy_failures;
      (attacking ? attack_ms : calm_ms).push_back(ms);
      std::this_thread::sleep_for(2ms);
    }
  });
  std::this_thread::sleep_for(500ms);
  attacking = true;
  auto deep = nest(200'000);
  struct probe {
    std::string method, target, body, field_prefix;
  };
  std::vector<probe> probes = {
      {"POST", "/v1/requests",
       R"({"tenantId":"evil","orderId":"o","type":"vps","region":"eu-west-1","resources":{"cpu":1,"memoryGb":1,"storageGb":1},"metadata":)" + deep + "}",
       "metadata[0]"},
      {"POST", "/v1/clusters",
       R"({"name":"x","type":"simulation","region":"eu-west-1","capacity":{"cpu":1,"memoryGb":1,"storageGb":1,"vmSlots":1},"connection":{"a":)" + deep + "}}",
       "connection.a[0]"},
      {"POST", "/v1/approval-rules", R"({"name":"r","priority":1,"conditions":{"types":)" + deep + "}}", "conditions.types[0]"},
      {"PUT", "/v1/tenants/evil/quota", R"({"maxCpu":)" + deep + "}", "maxCpu[0]"},
  };
  for (int round = 0; round < 10; ++round)
    for (auto& p : probes) {
      auto r = http_call(proc.port(), p.method, p.target, p.body);
      ASSERT_EQ(r.status, 400) << p.target << ": " << r.body.substr(0, 200);
      EXPECT_EQ(field_of(r).rfind(p.field_prefix, 0), 0u) << p.target << " named " << field_of(r);
      EXPECT_NE(body(r)["error"]["message"].get<std::string>().find("deeper than 64"), std::string::npos);
    }
  // Within the limits but past what a kept value may hold.
  auto kept = post("/v1/clusters", R"({"name":"x","type":"simulation","region":"eu-west-1",
      "capacity":{"cpu":1,"memoryGb":1,"storageGb":1,"vmSlots":1},"connection":{"a":{"b":{"c":{"d":{"e":1}}}}}})");
  EXPECT_EQ(kept.status, 400);
  EXPECT_EQ(field_of(kept), "connection.a.b.c.d");
  attacking = false;
  std::this_thread::sleep_for(300ms);
  done = true;
  healthy.join();
  EXPECT_EQ(healthy_failures.load(), 0) << "healthy clients were answered throughout";
  ASSERT_TRUE(proc.alive());
  EXPECT_EQ(get("/healthz").status, 200);
  EXPECT_EQ(body(get("/v1/requests/" + earlier_id))["orderId"], "o-1") << "data submitted before is intact";
  auto p99 = [](std::vector<double> v) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, v.size() * 99 / 100)];
  };
  std::printf("healthy GET p99: %.2f ms unloaded (%zu calls), %.2f ms under the deep-JSON attack (%zu calls)\n",
              p99(calm_ms), calm_ms.size(), p99(attack_ms), attack_ms.size());
}

TEST_F(InputHostile, DuplicateKeysAreRefusedNamingTheKey) {
  start_server();
  auto r = post("/v1/requests", R"({"tenantId":"a","tenantId":"b","orderId":"o","type":"vps","region":"eu-west-1",
                                    "resources":{"cpu":1,"memoryGb":1,"storageGb":1}})");
  ASSERT_EQ(r.status, 400);
  EXPECT_EQ(field_of(r), "tenantId");
  auto nested = post("/v1/requests", R"({"tenantId":"a","orderId":"o","type":"vps","region":"eu-west-1",
                                         "resources":{"cpu":1,"memoryGb":1,"storageGb":1,"cpu":64}})");
  ASSERT_EQ(nested.status, 400);
  EXPECT_EQ(field_of(nested), "resources.cpu");
  EXPECT_EQ(body(get("/v1/requests?tenantId=a"))["items"].size(), 0u) << "nothing was created";
}

TEST_F(InputHostile, IdsThatArePathsOrHoldControlBytesAreRefused) {
  start_server();
  auto with = [](const std::string& field, const json& value) {
    json j = json::parse(vps_body("acme", "o-1"));
    j[field] = value;
    return j.dump();
  };
  struct bad_case {
    std::string field;
    json value;
  };
  std::vector<bad_case> cases = {
      {"tenantId", "."},      {"tenantId", ".."},      {"tenantId", "-x"}, {"id", ".."},
      {"id", "."},            {"orderId", "../etc"},   {"orderId", std::string("a\0b", 3)},
      {"orderId", "a\r\nb"},  {"orderId", "a b"},      {"region", ".."},
  };
  for (auto& c : cases) {
    auto r = post("/v1/requests", with(c.field, c.value));
    EXPECT_EQ(r.status, 400) << c.field << "=" << c.value.dump();
    EXPECT_EQ(field_of(r), c.field) << c.value.dump();
  }
  EXPECT_EQ(post("/v1/requests", with("orderId", "urn:order:2026-12-01.7")).status, 202) << "ordinary ids still work";
  EXPECT_EQ(get("/v1/requests/..").status, 404);
  auto cluster = post("/v1/clusters", R"({"id":"..","name":"x","type":"simulation","region":"eu-west-1",
      "capacity":{"cpu":1,"memoryGb":1,"storageGb":1,"vmSlots":1}})");
  EXPECT_EQ(cluster.status, 400);
  EXPECT_EQ(field_of(cluster), "id");
}

TEST_F(InputHostile, AStoredSecretIsNotSentToANewAddressWithoutBeingGivenAgain) {
  start_server();
  auto created = post("/v1/clusters", openstack_cluster("https://keystone.example:5000/v3", true));
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = body(created)["id"];
  // Same destination, no password: kept (as before).
  EXPECT_EQ(put("/v1/clusters/" + id, openstack_cluster("https://keystone.example:5000/v3", false)).status, 200);
  // A new destination without the password: refused, naming it.
  auto moved = put("/v1/clusters/" + id, openstack_cluster("https://attacker.example:5000/v3", false));
  ASSERT_EQ(moved.status, 400) << moved.body;
  EXPECT_EQ(field_of(moved), "connection.password");
  EXPECT_EQ(body(get("/v1/clusters/" + id))["connection"]["authUrl"], "https://keystone.example:5000/v3")
      << "the cluster was not changed";
  // With the password given again, the move is allowed.
  auto given = put("/v1/clusters/" + id, openstack_cluster("https://keystone2.example:5000/v3", true));
  EXPECT_EQ(given.status, 200) << given.body;
}
