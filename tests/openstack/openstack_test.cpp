// The OpenStack lane: provisiond against a real OpenStack on loopback
// (tools/devcloud), brought up by the lane itself. Every check of the cloud
// goes to the cloud's own API as the demo user, not to provisiond.
#include "providers/http/http_client.hpp"
#include "tests/integration/fixture.hpp"

using namespace provisiond::testing;
using nlohmann::json;
using namespace std::chrono_literals;
namespace http = provisiond::providers::http;

namespace {

const char* keystone = "http://127.0.0.1:5000/v3";

// The cloud as the demo user sees it.
struct cloud {
  http::client client;
  std::string token, user_id, nova, neutron, cinder;

  bool login() {
    json body = {{"auth",
                  {{"identity",
                    {{"methods", {"password"}},
                     {"password", {{"user", {{"name", "demo"}, {"domain", {{"name", "Default"}}}, {"password", "secret"}}}}}}},
                   {"scope", {{"project", {{"name", "demo"}, {"domain", {{"name", "Default"}}}}}}}}}};
    auto r = client.send({"POST", std::string(keystone) + "/auth/tokens", {{"Content-Type", "application/json"}}, body.dump()});
    if (!r || r->status != 201) return false;
    token = r->header("x-subject-token");
    auto reply = json::parse(r->body);
    user_id = reply["token"]["user"]["id"];
    for (auto& svc : reply["token"]["catalog"])
      for (auto& ep : svc["endpoints"])
        if (ep["interface"] == "public") {
          if (svc["type"] == "compute") nova = ep["url"];
          if (svc["type"] == "network") neutron = std::string(ep["url"]) + "/v2.0";
          if (svc["type"] == "volumev3") cinder = ep["url"];
        }
    return !token.empty();
  }

  json get(const std::string& url, int* status = nullptr) {
    std::vector<std::pair<std::string, std::string>> headers{{"X-Auth-Token", token}};
    if (url.rfind(nova, 0) == 0) headers.emplace_back("OpenStack-API-Version", "compute 2.67");
    auto r = client.send({"GET", url, headers, ""});
    if (status) *status = r ? r->status : 0;
    if (!r) ADD_FAILURE() << "GET " << url << ": " << r.error().message;
    auto j = r ? json::parse(r->body, nullptr, false) : json::object();
    return j.is_object() ? j : json::object();
  }
  json servers_tagged(const std::string& request_id) {
    return get(nova + "/servers/detail?tags=prov-" + request_id).value("servers", json::array());
  }
  json security_groups(const std::string& request_id) {
    return get(neutron + "/security-groups?name=prov-" + request_id).value("security_groups", json::array());
  }
  json floating_ips(const std::string& request_id) {
    return get(neutron + "/floatingips?description=prov-" + request_id).value("floatingips", json::array());
  }
  int volume_status(const std::string& id) {
    int status = 0;
    get(cinder + "/volumes/" + id, &status);
    return status;
  }
};

json os_cluster(const std::string& id, json connection_overrides = json::object()) {
  json conn = {{"authUrl", keystone},  {"username", "demo"},    {"password", "secret"},
               {"projectName", "demo"}, {"flavor", "m1.tiny"},   {"image", "cirros-fake"},
               {"network", "demo-net"}, {"volumeSizeGb", 1}};
  for (auto& [k, v] : connection_overrides.items()) {
    if (v.is_null()) conn.erase(k);
    else conn[k] = v;
  }
  return {{"id", id},
          {"type", "openstack"},
          {"region", "dev-1"},
          {"default", true},
          {"capacity", {{"cpu", 64}, {"memoryGb", 256}, {"storageGb", 1000}, {"vmSlots", 20}}},
          {"connection", conn}};
}

struct OpenStack : server_fixture {
  cloud os;

  // devcloud is brought up by the ctest fixture `devcloud_up`
  // (tools/devcloud/openstack-up.sh all); run that first when running this binary by hand.
  void SetUp() override { ASSERT_TRUE(os.login()) << "devcloud is not up: run tools/devcloud/openstack-up.sh all"; }

  void start_with(json cluster) {
    write_config({{"clusters", json::array({cluster})}, {"kafka", {{"enabled", false}}}, {"retry", {{"baseDelayMs", 500}}}});
    start_server();
  }

  std::string submit(const std::string& order) {
    auto r = post("/v1/requests", json{{"tenantId", "acme"},
                                       {"orderId", order},
                                       {"type", "vps"},
                                       {"region", "dev-1"},
                                       {"provider", "openstack"},
                                       {"resources", {{"cpu", 1}, {"memoryGb", 1}, {"storageGb", 1}}}}
                                      .dump());
    EXPECT_EQ(r.status, 202) << r.body;
    return body(r).value("id", "");
  }

  json request(const std::string& id) { return body(get("/v1/requests/" + id)); }

  // Nothing of the request left in the project.
  void expect_nothing_left(const std::string& id, const std::vector<std::string>& volumes) {
    EXPECT_TRUE(os.servers_tagged(id).empty()) << os.servers_tagged(id).dump();
    EXPECT_TRUE(os.security_groups(id).empty());
    EXPECT_TRUE(os.floating_ips(id).empty());
    for (auto& v : volumes) EXPECT_EQ(os.volume_status(v), 404) << "volume " << v;
  }

  std::string power_state(const std::string& id) {
    auto s = os.servers_tagged(id);
    return s.empty() ? "" : s[0].value("status", "");
  }
};

}  // namespace

TEST_F(OpenStack, FullVpsFlowThenSuspendReactivateAndDeprovisionLeaveNothing) {
  start_with(os_cluster("os-dev"));
  auto id = submit("o-full");
  ASSERT_EQ(wait_state(id, {"Completed", "Failed", "RolledBack"}, 240s), "Completed") << request(id).dump();
  auto r = request(id);

  // The cloud agrees: one ACTIVE server with the tag, the metadata, a boot
  // volume, a floating IP on its port, the security group with 22/80/443.
  auto servers = os.servers_tagged(id);
  ASSERT_EQ(servers.size(), 1u);
  auto& srv = servers[0];
  EXPECT_EQ(srv["status"], "ACTIVE");
  EXPECT_EQ(srv["metadata"]["provisiond_request_id"], id);
  EXPECT_EQ(srv["metadata"]["provisiond_tenant_id"], "acme");
  EXPECT_EQ(srv["metadata"]["provisiond_order_id"], "o-full");
  EXPECT_EQ(srv["image"], "") << "booted from a volume";
  auto vols = srv["os-extended-volumes:volumes_attached"];
  ASSERT_EQ(vols.size(), 1u);
  std::string volume = vols[0]["id"];
  EXPECT_EQ(os.volume_status(volume), 200);
  auto fips = os.floating_ips(id);
  ASSERT_EQ(fips.size(), 1u);
  EXPECT_EQ(r["endpoints"]["floatingIp"], fips[0]["floating_ip_address"]);
  EXPECT_EQ(r["endpoints"]["ssh"], "ssh://root@" + std::string(fips[0]["floating_ip_address"]) + ":22");
  auto groups = os.security_groups(id);
  ASSERT_EQ(groups.size(), 1u);
  std::set<int> ports;
  for (auto& rule : groups[0]["security_group_rules"])
    if (rule["direction"] == "ingress" && rule["port_range_min"].is_number()) ports.insert(rule["port_range_min"].get<int>());
  EXPECT_EQ(ports, (std::set<int>{22, 80, 443}));

  // The root password: once to the owner, never in the events.
  auto cred = http_call(proc.port(), "GET", "/v1/requests/" + id + "/credentials", "", {{"X-Tenant-Id", "acme"}});
  ASSERT_EQ(cred.status, 200) << cred.body;
  std::string password = body(cred)["password"];
  EXPECT_GE(password.size(), 16u);
  EXPECT_EQ(get("/v1/requests/" + id + "/events").body.find(password), std::string::npos);

  // Live metrics come from Nova's diagnostics, which devcloud's default
  // policy keeps for admins: the refusal is passed on in the cloud's words.
  auto m = get("/v1/requests/" + id + "/metrics");
  EXPECT_EQ(m.status, 403) << m.body;
  EXPECT_NE(body(m)["error"]["message"].get<std::string>().find("os-server-diagnostics"), std::string::npos) << m.body;

  ASSERT_EQ(post("/v1/requests/" + id + "/suspend", "").status, 200);
  ASSERT_EQ(wait_state(id, {"Suspended"}, 60s), "Suspended");
  EXPECT_EQ(power_state(id), "SHUTOFF");
  ASSERT_EQ(post("/v1/requests/" + id + "/reactivate", "").status, 200);
  for (int i = 0; i < 200 && request(id)["state"] != "Completed"; ++i) std::this_thread::sleep_for(100ms);
  EXPECT_EQ(request(id)["state"], "Completed");
  EXPECT_EQ(power_state(id), "ACTIVE");

  ASSERT_EQ(post("/v1/requests/" + id + "/deprovision", "").status, 200);
  ASSERT_EQ(wait_state(id, {"RolledBack"}, 120s), "RolledBack");
  EXPECT_EQ(request(id)["deprovisioned"], true);
  expect_nothing_left(id, {volume});
}

TEST_F(OpenStack, AMissingExternalNetworkFailsStep2AndRollsBackEverything) {
  start_with(os_cluster("os-nonet", {{"externalNetwork", "no-such-external-net"}}));
  auto id = submit("o-nonet");
  ASSERT_EQ(wait_state(id, {"RolledBack", "Completed"}, 240s), "RolledBack");
  auto r = request(id);
  EXPECT_EQ(r["steps"][1]["status"], "Failed");
  EXPECT_EQ(r["steps"][1]["attempts"], 1) << "a missing network is permanent: no retries";
  EXPECT_NE(r["failure"]["reason"].get<std::string>().find("no-such-external-net"), std::string::npos) << r.dump();
  expect_nothing_left(id, {});
}

TEST_F(OpenStack, AVolumeQuotaOverrunIsPermanentQuotesTheCloudAndRollsBack) {
  start_with(os_cluster("os-bigvol", {{"volumeSizeGb", 5000}}));
  auto id = submit("o-quota");
  ASSERT_EQ(wait_state(id, {"RolledBack", "Completed"}, 240s), "RolledBack");
  auto r = request(id);
  std::string reason = r["failure"]["reason"];
  EXPECT_EQ(r["failure"]["code"], "step_failed");
  EXPECT_NE(reason.find("quota"), std::string::npos) << reason;
  EXPECT_NE(reason.find("5000"), std::string::npos) << "the cloud's own message: " << reason;
  expect_nothing_left(id, {});
}

TEST_F(OpenStack, KillDashNineRightAfterTheServerCreateAdoptsTheOneServer) {
  ::setenv("PROVISIOND_FAILPOINT", "openstack-after-server-create", 1);
  start_with(os_cluster("os-crash"));
  ::unsetenv("PROVISIOND_FAILPOINT");
  auto id = submit("o-crash");
  // The process dies by SIGKILL as soon as the create is on the wire.
  for (int i = 0; i < 600 && http_call(proc.port(), "GET", "/healthz").status != 0; ++i) std::this_thread::sleep_for(50ms);
  ASSERT_EQ(http_call(proc.port(), "GET", "/healthz").status, 0) << "the failpoint did not fire";
  proc.crash();  // reap
  start_server();
  ASSERT_EQ(wait_state(id, {"Completed", "Failed", "RolledBack"}, 240s), "Completed") << request(id).dump();
  EXPECT_EQ(os.servers_tagged(id).size(), 1u) << "exactly one server carries the request's tag";
  bool adopted = false;
  for (auto& e : body(get("/v1/requests/" + id + "/events")))
    if (e["type"] == "step_completed" && e["data"]["step"] == "allocate") adopted = e["data"].value("adopted", false);
  EXPECT_TRUE(adopted) << "the interrupted create was settled by lookup, not repeated";
  ASSERT_EQ(post("/v1/requests/" + id + "/deprovision", "").status, 200);
  ASSERT_EQ(wait_state(id, {"RolledBack"}, 120s), "RolledBack");
  expect_nothing_left(id, {});
}

TEST_F(OpenStack, WrongCredentialsFailOnceWithAClearReason) {
  start_with(os_cluster("os-badpw", {{"password", "not-the-password"}}));
  auto test = body(post("/v1/clusters/os-badpw/test", ""));
  EXPECT_EQ(test["success"], false);
  EXPECT_NE(test["error"].get<std::string>().find("Keystone rejected the credentials"), std::string::npos) << test.dump();
  auto id = submit("o-badpw");
  ASSERT_EQ(wait_state(id, {"RolledBack", "Completed"}, 120s), "RolledBack");
  auto r = request(id);
  EXPECT_EQ(r["steps"][0]["attempts"], 1) << "no retry storm against Keystone";
  EXPECT_NE(r["failure"]["reason"].get<std::string>().find("Keystone rejected the credentials"), std::string::npos)
      << r.dump();
  EXPECT_EQ(r["failure"]["reason"].get<std::string>().find("not-the-password"), std::string::npos);
}

TEST_F(OpenStack, ConnectivityTestAuthenticatesAndListsFlavors) {
  start_with(os_cluster("os-ok"));
  auto test = body(post("/v1/clusters/os-ok/test", ""));
  EXPECT_EQ(test["success"], true) << test.dump();
  EXPECT_TRUE(test["latencyMs"].is_number_integer());
  auto c = body(get("/v1/clusters/os-ok"));
  EXPECT_EQ(c["secretFields"], json::array({"password"}));
  EXPECT_FALSE(c["connection"].contains("password"));
}

TEST_F(OpenStack, ApplicationCredentialAuthWorksWithoutAScope) {
  // A credential made for this test by the demo user itself.
  auto name = "provisiond-test-" + std::to_string(::getpid());
  auto made = os.client.send({"POST", std::string(keystone) + "/users/" + os.user_id + "/application_credentials",
                              {{"X-Auth-Token", os.token}, {"Content-Type", "application/json"}},
                              json{{"application_credential", {{"name", name}}}}.dump()});
  ASSERT_TRUE(made && made->status == 201) << (made ? made->body : made.error().message);
  auto cred = json::parse(made->body)["application_credential"];
  start_with(os_cluster("os-appcred", {{"username", nullptr}, {"password", nullptr}, {"projectName", nullptr},
                                       {"applicationCredentialId", cred["id"]},
                                       {"applicationCredentialSecret", cred["secret"]}}));
  auto test = body(post("/v1/clusters/os-appcred/test", ""));
  EXPECT_EQ(test["success"], true) << test.dump();
  auto c = body(get("/v1/clusters/os-appcred"));
  EXPECT_EQ(c["secretFields"], json::array({"applicationCredentialSecret"}));
  EXPECT_EQ(get("/v1/clusters/os-appcred").body.find(cred["secret"].get<std::string>()), std::string::npos);
  os.client.send({"DELETE", std::string(keystone) + "/users/" + os.user_id + "/application_credentials/" +
                                cred["id"].get<std::string>(),
                  {{"X-Auth-Token", os.token}}, ""});
}
