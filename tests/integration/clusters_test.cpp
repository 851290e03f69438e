// Clusters against the real binary: the registry API with write-only
// secrets, placement across several clusters by region, health, capacity and
// default, capacity given back on rollback and deprovision, the connectivity
// test, and the manual (vendor-managed) provider end to end.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/integration/fixture.hpp"
#include "tests/support/api_keys.hpp"

using namespace provisiond::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string secret_password = "Sup3r-S3cret-Passw0rd";  // searched for everywhere it must not be

json capacity(int cpu, int mem, int storage, int slots) {
  return json{{"cpu", cpu}, {"memoryGb", mem}, {"storageGb", storage}, {"vmSlots", slots}};
}

struct Clusters : server_fixture {
  void SetUp() override {
    // No config clusters: the API registers them. sim-broken fails configure
    // for good; sim-far does not answer its connectivity test.
    write_config({{"clusters", json::array()},
                  {"simulation",
                   {{"clusters",
                     {{"sim-broken", {{"steps", {{"configure", {{"permanent", 1.0}}}}}}},
                      {"sim-far", {{"reachable", false}}}}}}}});
    start_server();
  }

  http_reply call(const std::string& method, const std::string& target, const json& b = nullptr,
                  const std::map<std::string, std::string>& headers = {}) {
    return http_call(proc.port(), method, target, b.is_null() ? "" : b.dump(), headers);
  }

  json add_cluster(const std::string& id, const std::string& region, json cap, bool is_default,
                   const std::string& type = "simulation", const std::string& health = "online") {
    json cluster_body{{"id", id}, {"name", id}, {"type", type}, {"region", region}, {"capacity", cap},
                      {"default", is_default}, {"health", health}};
    if (type == "openstack")  // a connection the provider accepts (never used here)
      cluster_body["connection"] = {{"authUrl", "https://keystone.example:5000/v3"}, {"username", "svc"}, {"password", "pw"},
                            {"projectName", "vps"}, {"flavor", "m1.small"}, {"image", "debian-12"},
                            {"network", "tenant-net"}};
    if (type == "proxmox")  // a node nothing listens on
      cluster_body["connection"] = {{"url", "https://127.0.0.1:9"}, {"node", "pve1"}, {"apiToken", "root@pam!t=x"}};
    auto r = call("POST", "/v1/clusters", cluster_body);
    EXPECT_EQ(r.status, 201) << r.body;
    return body(r);
  }

  std::string submit(const std::string& tenant, const std::string& order, int cpu, const std::string& region,
                     const std::string& provider = "simulation") {
    auto r = post("/v1/requests", json{{"tenantId", tenant},
                                       {"orderId", order},
                                       {"type", "vps"},
                                       {"region", region},
                                       {"provider", provider},
                                       {"resources", {{"cpu", cpu}, {"memoryGb", 2 * cpu}, {"storageGb", 20}}}}
                                      .dump());
    EXPECT_EQ(r.status, 202) << r.body;
    return body(r).value("id", "");
  }

  json cluster(const std::string& id) { return body(get("/v1/clusters/" + id)); }

  std::string placed_reason(const std::string& id) {
    for (auto& e : body(get("/v1/requests/" + id + "/events")))
      if (e["type"] == "cluster_placed") return e["data"]["reason"];
    return "";
  }

  // Every byte provisiond wrote: its data directory and its logs.
  std::string everything_on_disk() {
    std::string all;
    for (auto& f : std::filesystem::recursive_directory_iterator(dir.str()))
      if (f.is_regular_file()) {
        std::ifstream in{f.path(), std::ios::binary};
        std::stringstream ss;
        ss << in.rdbuf();
        all += ss.str();
      }
    return all;
  }
};

}  // namespace

TEST_F(Clusters, RegistryCrudWithWriteOnlySecretsAndClearErrors) {
  auto r = call("POST", "/v1/clusters",
                {{"name", "OpenStack Frankfurt"}, {"type", "openstack"}, {"region", "eu-central-1"},
                 {"capacity", capacity(64, 256, 4000, 20)},
                 {"connection", {{"authUrl", "https://keystone.example:5000/v3"}, {"username", "svc"},
                                 {"password", secret_password}, {"projectName", "vps"}, {"flavor", "m1.small"},
                                 {"image", "debian-12"}, {"network", "tenant-net"}}}});
  ASSERT_EQ(r.status, 201) << r.body;
  auto c = body(r);
  std::string id = c["id"];
  EXPECT_FALSE(id.empty()) << "the server assigns the id";
  EXPECT_EQ(r.headers["location"], "/v1/clusters/" + id);
  EXPECT_EQ(r.body.find(secret_password), std::string::npos) << "secrets are never returned";
  EXPECT_EQ(c["secretFields"], json::array({"password"}));
  EXPECT_EQ(c["connection"]["authUrl"], "https://keystone.example:5000/v3");
  EXPECT_EQ(c["health"], "online");
  EXPECT_EQ(c["provisioningEnabled"], true);
  EXPECT_EQ(c["used"], capacity(0, 0, 0, 0));
  EXPECT_EQ(c["available"], capacity(64, 256, 4000, 20));
  EXPECT_EQ(c["breaker"], "closed");

  auto list = body(get("/v1/clusters"));
  ASSERT_EQ(list["items"].size(), 1u);
  EXPECT_EQ(list["items"][0]["id"], id);

  // PUT replaces the settings; the omitted password is kept (still listed).
  auto put = call("PUT", "/v1/clusters/" + id,
                  {{"type", "openstack"}, {"region", "eu-central-1"}, {"capacity", capacity(64, 256, 4000, 20)},
                   {"health", "degraded"},
                   {"connection", {{"authUrl", "https://keystone.example:5000/v3"}, {"username", "svc"},
                                   {"projectName", "vps"}, {"flavor", "m1.small"}, {"image", "debian-12"},
                                   {"network", "tenant-net"}}}});
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(body(put)["health"], "degraded");
  EXPECT_EQ(body(put)["secretFields"], json::array({"password"}));
  EXPECT_EQ(body(put)["name"], id);

  // Bad input names the field.
  struct bad_case {
    json body;
    std::string field;
  };
  for (auto& b : std::vector<bad_case>{
           {{{"type", "openstack"}, {"region", "r"}}, "capacity"},
           {{{"type", "cloud9"}, {"region", "r"}, {"capacity", capacity(1, 1, 1, 1)}}, "type"},
           {{{"type", "manual"}, {"region", "r"}, {"capacity", {{"cpu", 1}}}}, "capacity.memoryGb"},
           {{{"type", "manual"}, {"region", "r"}, {"capacity", capacity(1, 1, 1, 1)}, {"health", "meh"}}, "health"},
           {{{"id", "no spaces"}, {"type", "manual"}, {"region", "r"}, {"capacity", capacity(1, 1, 1, 1)}}, "id"},
           {{{"type", "openstack"}, {"region", "r"}, {"capacity", capacity(1, 1, 1, 1)},
             {"connection", {{"authUrl", "https://k/v3"}, {"username", "u"}, {"password", "p"}, {"projectName", "x"},
                             {"image", "i"}, {"network", "n"}}}}, "connection.flavor"},
           {{{"type", "openshift"}, {"region", "r"}, {"capacity", capacity(1, 1, 1, 1)},
             {"connection", {{"server", "http://api:6443"}, {"token", "t"}}}}, "connection.server"},
       }) {
    auto bad = call("POST", "/v1/clusters", b.body);
    EXPECT_EQ(bad.status, 400) << b.body.dump();
    EXPECT_EQ(body(bad)["error"]["field"], b.field) << bad.body;
  }
  EXPECT_EQ(call("POST", "/v1/clusters", {{"id", id}, {"type", "manual"}, {"region", "r"},
                                          {"capacity", capacity(1, 1, 1, 1)}}).status, 409);
  EXPECT_EQ(get("/v1/clusters/nope").status, 404);
  EXPECT_EQ(call("PATCH", "/v1/clusters/" + id).status, 405);

  EXPECT_EQ(call("DELETE", "/v1/clusters/" + id).status, 204);
  EXPECT_EQ(get("/v1/clusters/" + id).status, 404);

  // The secret is nowhere on disk in clear text: not in the journal, the
  // read models, the Kafka outbox, or the logs.
  auto disk = everything_on_disk();
  ASSERT_NE(disk.find("keystone.example"), std::string::npos) << "the search sees what the events hold";
  EXPECT_EQ(disk.find(secret_password), std::string::npos);
}

TEST_F(Clusters, PlacementByRegionHealthCapacityAndDefaultWithEverySkipExplained) {
  add_cluster("a-small", "test-1", capacity(4, 64, 1000, 10), true);
  add_cluster("b-big", "test-1", capacity(16, 64, 1000, 10), false);
  add_cluster("c-down", "test-1", capacity(64, 256, 4000, 10), false, "simulation", "offline");
  add_cluster("d-far", "test-2", capacity(64, 256, 4000, 10), true);
  add_cluster("e-os", "test-1", capacity(64, 256, 4000, 10), true, "openstack");

  // The region's default first.
  auto first = submit("acme", "o-1", 3, "test-1");
  ASSERT_EQ(wait_state(first, {"Completed"}), "Completed");
  EXPECT_EQ(body(get("/v1/requests/" + first))["clusterId"], "a-small");
  EXPECT_NE(placed_reason(first).find("a-small is the default simulation cluster in test-1"), std::string::npos)
      << placed_reason(first);
  EXPECT_EQ(cluster("a-small")["used"], capacity(3, 6, 20, 1));
  EXPECT_EQ(cluster("a-small")["available"], capacity(1, 58, 980, 9));

  // The default is full: the next with room, and why the default was skipped.
  auto second = submit("acme", "o-2", 4, "test-1");
  ASSERT_EQ(wait_state(second, {"Completed"}), "Completed");
  EXPECT_EQ(body(get("/v1/requests/" + second))["clusterId"], "b-big");
  auto reason = placed_reason(second);
  EXPECT_NE(reason.find("a-small: not enough capacity (cpu needs 4, 1 free)"), std::string::npos) << reason;
  EXPECT_NE(reason.find("c-down: health is offline"), std::string::npos) << reason;

  // Nothing fits: Failed, with a reason for each candidate, and the quota back.
  auto put = call("PUT", "/v1/clusters/b-big",
                  {{"type", "simulation"}, {"region", "test-1"}, {"capacity", capacity(16, 64, 1000, 10)},
                   {"provisioningEnabled", false}});
  ASSERT_EQ(put.status, 200) << put.body;
  auto third = submit("acme", "o-3", 2, "test-1");
  ASSERT_EQ(wait_state(third, {"Failed"}), "Failed");
  auto failed = body(get("/v1/requests/" + third));
  EXPECT_EQ(failed["failure"]["code"], "no_cluster");
  std::string why = failed["failure"]["reason"];
  for (auto part : {"a-small: not enough capacity (cpu needs 2, 1 free)", "b-big: provisioning is disabled",
                    "c-down: health is offline", "d-far: region is test-2", "1 cluster of other types"})
    EXPECT_NE(why.find(part), std::string::npos) << part << " in: " << why;
  EXPECT_EQ(body(get("/v1/tenants/acme/usage"))["usage"]["cpu"], 7) << "the failed request holds no quota";

  // A cluster that holds capacity cannot be deleted; deprovision gives both
  // the cluster's capacity and the tenant's quota back.
  EXPECT_EQ(call("DELETE", "/v1/clusters/a-small").status, 409);
  ASSERT_EQ(post("/v1/requests/" + first + "/deprovision", "").status, 200);
  ASSERT_EQ(wait_state(first, {"RolledBack"}), "RolledBack");
  for (int i = 0; i < 100 && cluster("a-small")["used"] != capacity(0, 0, 0, 0); ++i) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(cluster("a-small")["used"], capacity(0, 0, 0, 0));
  EXPECT_EQ(cluster("a-small")["requests"], 0);
  EXPECT_EQ(body(get("/v1/tenants/acme/usage"))["usage"]["cpu"], 4);

  // The cluster actors rebuild their books from the journal after a restart.
  ASSERT_EQ(proc.terminate(), 0);
  start_server();
  EXPECT_EQ(cluster("b-big")["used"], capacity(4, 8, 20, 1));
  EXPECT_EQ(cluster("a-small")["used"], capacity(0, 0, 0, 0));
  EXPECT_EQ(call("DELETE", "/v1/clusters/a-small").status, 204);
}

TEST_F(Clusters, RollbackGivesCapacityAndQuotaBack) {
  add_cluster("sim-broken", "test-1", capacity(8, 64, 1000, 10), true);
  auto before = cluster("sim-broken")["used"];
  auto quota_before = body(get("/v1/tenants/acme/usage"))["usage"];
  auto id = submit("acme", "o-1", 4, "test-1");
  ASSERT_EQ(wait_state(id, {"RolledBack"}), "RolledBack");
  auto types = json::array();
  for (auto& e : body(get("/v1/requests/" + id + "/events"))) types.push_back(e["type"]);
  EXPECT_NE(std::find(types.begin(), types.end(), "capacity_released"), types.end()) << types.dump();
  for (int i = 0; i < 100 && cluster("sim-broken")["used"] != before; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(cluster("sim-broken")["used"], before);
  EXPECT_EQ(body(get("/v1/tenants/acme/usage"))["usage"], quota_before);
}

TEST_F(Clusters, ConnectivityTestReportsSuccessLatencyAndErrors) {
  add_cluster("sim-near", "test-1", capacity(8, 64, 1000, 10), true);
  add_cluster("sim-far", "test-1", capacity(8, 64, 1000, 10), false);
  add_cluster("pve-1", "test-1", capacity(8, 64, 1000, 10), false, "proxmox");
  auto ok = body(post("/v1/clusters/sim-near/test", ""));
  EXPECT_EQ(ok["success"], true) << ok.dump();
  EXPECT_TRUE(ok["latencyMs"].is_number_integer());
  EXPECT_FALSE(ok.contains("error"));
  auto far = body(post("/v1/clusters/sim-far/test", ""));
  EXPECT_EQ(far["success"], false);
  EXPECT_NE(far["error"].get<std::string>().find("does not answer"), std::string::npos) << far.dump();
  auto pve = body(post("/v1/clusters/pve-1/test", ""));
  EXPECT_EQ(pve["success"], false);
  EXPECT_NE(pve["error"].get<std::string>().find("connect to 127.0.0.1:9 failed"), std::string::npos) << pve.dump();
  EXPECT_EQ(post("/v1/clusters/nope/test", "").status, 404);
  EXPECT_EQ(get("/v1/clusters/sim-near/test").status, 405);
}

TEST_F(Clusters, ManualProviderWaitsForAnOperatorAndKeepsTheCredentialSealed) {
  add_cluster("vendor-1", "test-1", capacity(32, 128, 2000, 10), true, "manual");
  auto id = submit("acme", "o-1", 4, "test-1", "manual");
  ASSERT_EQ(wait_state(id, {"Activating"}), "Activating");
  json r;
  for (int i = 0; i < 200; ++i) {
    r = body(get("/v1/requests/" + id));
    if (r["steps"][2]["status"] == "AwaitingManualInput") break;
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(r["steps"][2]["status"], "AwaitingManualInput") << r.dump();
  EXPECT_NE(r["awaitingManualInput"]["message"].get<std::string>().find("POST /v1/requests/" + id + "/complete"),
            std::string::npos);
  auto pending = body(get("/v1/manual-requests"))["items"];
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0]["id"], id);

  // Wrong input: the field is named, nothing changes.
  auto bad = post("/v1/requests/" + id + "/complete", json{{"host", "10.1.2.3"}, {"username", "root"}}.dump());
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(body(bad)["error"]["field"], "password");
  bad = post("/v1/requests/" + id + "/complete",
             json{{"host", "10.1.2.3"}, {"username", "root"}, {"password", "x"}, {"privateKey", "y"}}.dump());
  EXPECT_EQ(bad.status, 400);

  auto done = post("/v1/requests/" + id + "/complete",
                   json{{"host", "10.1.2.3"},
                        {"username", "root"},
                        {"password", secret_password},
                        {"endpoints", {{"ssh", "ssh://root@10.1.2.3:22"}}},
                        {"note", "racked in row 4"}}
                       .dump());
  ASSERT_EQ(done.status, 200) << done.body;
  ASSERT_EQ(wait_state(id, {"Completed"}), "Completed");
  auto completed = body(get("/v1/requests/" + id));
  EXPECT_EQ(completed["endpoints"]["host"], "10.1.2.3");
  EXPECT_EQ(completed["endpoints"]["ssh"], "ssh://root@10.1.2.3:22");
  EXPECT_EQ(completed["credential"], "password");
  EXPECT_TRUE(body(get("/v1/manual-requests"))["items"].empty());
  EXPECT_EQ(post("/v1/requests/" + id + "/complete",
                 json{{"host", "h"}, {"username", "u"}, {"password", "other"}}.dump()).status, 409);

  // The owner gets the password; nobody else, and it is nowhere else.
  auto acme = issue_api_key(proc.port(), "tenant", "acme");
  auto other = issue_api_key(proc.port(), "tenant", "other");
  EXPECT_EQ(call("GET", "/v1/requests/" + id + "/credentials", nullptr, {{"Authorization", other}}).status, 404)
      << "another tenant: as if there were no such request";
  EXPECT_EQ(call("GET", "/v1/requests/" + id + "/credentials", nullptr, {{"Authorization", ""}}).status, 401);
  auto cred = call("GET", "/v1/requests/" + id + "/credentials", nullptr, {{"Authorization", acme}});
  ASSERT_EQ(cred.status, 200) << cred.body;
  EXPECT_EQ(body(cred)["password"], secret_password);
  EXPECT_EQ(body(cred)["username"], "root");
  EXPECT_EQ(call("GET", "/v1/requests/" + id + "/credentials", nullptr, {{"Authorization", acme}}).status, 404)
      << "delivered once";
  EXPECT_EQ(get("/v1/requests/" + id + "/events").body.find(secret_password), std::string::npos);
  ASSERT_EQ(proc.terminate(), 0);  // flush everything (journal, outbox, logs) before searching the bytes
  auto disk = everything_on_disk();
  ASSERT_NE(disk.find("racked in row 4"), std::string::npos) << "the search sees what the events hold";
  EXPECT_EQ(disk.find(secret_password), std::string::npos)
      << "the password is sealed at rest: not in the journal, Kafka's outbox, read models or logs";
}

TEST_F(Clusters, LiveMetricsNeedARunningServiceAndAProviderThatHasThem) {
  add_cluster("sim-1", "test-1", capacity(8, 64, 1000, 10), true);
  auto id = submit("acme", "o-1", 2, "test-1");
  ASSERT_EQ(wait_state(id, {"Completed"}), "Completed");
  auto m = get("/v1/requests/" + id + "/metrics");
  EXPECT_EQ(m.status, 501) << m.body;
  EXPECT_NE(body(m)["error"]["message"].get<std::string>().find("no live metrics"), std::string::npos) << m.body;
  EXPECT_EQ(get("/v1/requests/nope/metrics").status, 404);
  ASSERT_EQ(post("/v1/requests/" + id + "/deprovision", "").status, 200);
  ASSERT_EQ(wait_state(id, {"RolledBack"}), "RolledBack");
  auto gone = get("/v1/requests/" + id + "/metrics");
  EXPECT_EQ(gone.status, 409);
  EXPECT_EQ(body(gone)["error"]["field"], "state");
}
