// The Proxmox lane: the fake Proxmox VE (fake_proxmox.py, TLS with a CA made
// here) judged by the real proxmoxer, then provisiond's proxmox provider
// against it, with every VM checked through proxmoxer (pve_query.py), not
// through our own client.
#include <unistd.h>

#include <filesystem>
#include <regex>

#include "providers/http/http_client.hpp"
#include "providers/proxmox/wire.hpp"
#include "tests/integration/fixture.hpp"
#include "tests/support/kafka_reader.hpp"
#include "tests/support/local_https.hpp"

using namespace provisiond::testing;
using nlohmann::json;
using namespace std::chrono_literals;
namespace pve = provisiond::providers::proxmox;

namespace {

const std::string token_id = "root@pam!provisiond";
const std::string read_only_token_id = "root@pam!audit";  // privsep=1 with only VM.Audit
const std::string token_secret = "5f0c2b1e-7d7a-4f55-9d1b-0c6a3f1e2d11";
const std::string user_password = "pve-root-pw";
const std::string ssh_keys =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIProvisiondTest ops@example\n"
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC+test/key= second@example";


// Debian's python3-proxmoxer lives under the system interpreter.
std::string system_python() {
  return std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

std::string source(const std::string& rel) {
  return std::string(PROVISIOND_SOURCE_DIR) + "/tests/proxmox/" + rel;
}

// fake_proxmox.py on a free port: nodes pve1 and pve2, template 9000 on pve1.
std::vector<std::string> fake_args(const temp_dir& dir, const std::vector<std::string>& extra) {
  std::vector<std::string> a{source("fake_proxmox.py"),
                             dir / "server.pem",
                             dir / "server.key",
                             "--user",
                             "root@pam:" + user_password,
                             "--token",
                             token_id + "=" + token_secret,
                             "--token",
                             read_only_token_id + "=" + token_secret + ":ro",
                             "--auth-delay",
                             "0.5",
                             "--task-seconds",
                             "0.2",
                             "--template",
                             "9000@pve1"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

struct fake_proxmox : python_process {
  explicit fake_proxmox(const temp_dir& dir, const std::vector<std::string>& extra = {})
      : python_process(fake_args(dir, extra)) {}
  std::string host() const { return "127.0.0.1:" + std::to_string(port()); }
  std::string url() const { return "https://" + host(); }
};

struct Proxmox : server_fixture {
  std::unique_ptr<fake_proxmox> fake;

  void SetUp() override {
    ASSERT_TRUE(make_test_ca(dir)) << "openssl CLI failed";
    fake = std::make_unique<fake_proxmox>(dir);
    ASSERT_GT(fake->port(), 0) << "the fake Proxmox did not start";
  }

  // What proxmoxer sees: every VM with its config and status.
  json pve_vms() {
    auto r = run_command(system_python() + " " + source("pve_query.py") + " " + fake->host() + " " + (dir / "ca.pem") + " " +
                 "root@pam provisiond " + token_secret);
    EXPECT_EQ(r.rc, 0) << r.out;
    auto j = json::parse(r.out, nullptr, false);
    return j.is_object() ? j["vms"] : json::array();
  }
  json vms_of(const std::string& request_id) {
    json out = json::array();
    for (auto& vm : pve_vms())
      if (vm["config"].value("name", "") == pve::vm_name(request_id) ||
          pve::has_tag(vm["resource"].value("tags", ""), pve::request_tag(request_id)))
        out.push_back(vm);
    return out;
  }

  json admin(const std::string& method, const std::string& path, const json& body = json::object()) {
    provisiond::providers::http::client_options o;
    o.ca_file = dir / "ca.pem";
    provisiond::providers::http::client c{o};
    auto r = c.send({method, fake->url() + path, {{"Content-Type", "application/json"}}, body.dump()});
    return r ? json::parse(r->body, nullptr, false)["data"] : json();
  }
  json faults(const json& set) { return admin("POST", "/_fake/faults", set); }
  json fake_state() { return admin("GET", "/_fake/state"); }

  json cluster(json overrides = json::object()) {
    json conn = {{"url", fake->url()},   {"node", "pve2"},           {"apiToken", token_id + "=" + token_secret},
                 {"template", 9000},     {"caFile", dir / "ca.pem"}, {"sshKeys", ssh_keys},
                 {"pollIntervalMs", 50}, {"activeTimeoutSec", 30},   {"taskTimeoutSec", 30}};
    for (auto& [k, v] : overrides.items()) {
      if (v.is_null())
        conn.erase(k);
      else
        conn[k] = v;
    }
    return {{"id", "pve-1"},
            {"type", "proxmox"},
            {"region", "dev-1"},
            {"default", true},
            {"capacity", {{"cpu", 64}, {"memoryGb", 256}, {"storageGb", 4000}, {"vmSlots", 20}}},
            {"connection", conn}};
  }

  void start_with(json c, bool kafka = false) {
    json cfg = {{"clusters", json::array({c})}, {"retry", {{"baseDelayMs", 300}, {"maxRetries", 3}}}};
    if (!kafka) cfg["kafka"] = {{"enabled", false}};
    write_config(cfg);
    start_server();
  }

  std::string submit(const std::string& order, int cpu = 2, int memory_gb = 4, int storage_gb = 40) {
    auto r =
        post("/v1/requests", json{{"tenantId", "acme"},
                                  {"orderId", order},
                                  {"type", "vps"},
                                  {"region", "dev-1"},
                                  {"provider", "proxmox"},
                                  {"resources", {{"cpu", cpu}, {"memoryGb", memory_gb}, {"storageGb", storage_gb}}}}
                                 .dump());
    EXPECT_EQ(r.status, 202) << r.body;
    return body(r).value("id", "");
  }
  json request(const std::string& id) { return body(get("/v1/requests/" + id)); }

  std::string logs() {
    std::string all;
    for (int i = 1; i <= starts; ++i) {
      std::ifstream in{dir / ("provisiond-" + std::to_string(i) + ".log")};
      all.append(std::istreambuf_iterator<char>(in), {});
    }
    return all;
  }

  int log_count(const std::string& method, const std::string& suffix) {
    int n = 0;
    auto state = fake_state();  // the loop below must not range over a temporary's member
    for (auto& e : state["log"]) {
      std::string p = e[1];
      if (e[0] == method && p.size() >= suffix.size() &&
          p.compare(p.size() - suffix.size(), suffix.size(), suffix) == 0)
        ++n;
    }
    return n;
  }
};

}  // namespace

TEST_F(Proxmox, TheRealProxmoxerAcceptsTheFake) {
  auto r = run_command(system_python() + " " + source("proxmoxer_check.py") + " " + fake->host() + " " + (dir / "ca.pem") +
               " root@pam " + user_password + " root@pam provisiond " + token_secret);
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("proxmoxer accepts the fake"), std::string::npos) << r.out;
}

TEST_F(Proxmox, AVpsIsClonedSizedTaggedStartedAndDeliveredThenSuspendedReactivatedAndDeprovisioned) {
  start_with(cluster(), true);
  auto id = submit("o-full");
  ASSERT_EQ(wait_state(id, {"Completed", "Failed", "RolledBack"}, 90s), "Completed") << request(id).dump();
  auto r = request(id);

  // proxmoxer agrees: one VM, cloned onto pve2, sized, tagged, cloud-init set, running.
  auto vms = vms_of(id);
  ASSERT_EQ(vms.size(), 1u) << vms.dump();
  auto& vm = vms[0];
  int vmid = vm["resource"]["vmid"];
  EXPECT_EQ(vm["resource"]["node"], "pve2");
  EXPECT_EQ(vm["config"]["cores"], "2");
  EXPECT_EQ(vm["config"]["memory"], "4096");
  EXPECT_NE(vm["config"]["scsi0"].get<std::string>().find("size=40G"), std::string::npos) << vm["config"].dump();
  std::string tags = vm["config"]["tags"];
  EXPECT_TRUE(pve::has_tag(tags, pve::request_tag(id))) << tags;
  EXPECT_TRUE(pve::has_tag(tags, "tenant-acme")) << tags;
  EXPECT_TRUE(pve::has_tag(tags, "order-o-full")) << tags;
  EXPECT_NE(vm["config"]["description"].get<std::string>().find(id), std::string::npos);
  EXPECT_EQ(vm["config"]["ciuser"], "root");
  EXPECT_EQ(vm["config"]["ipconfig0"], "ip=dhcp");
  auto unescaped =
      run_command(system_python() + " -c 'import sys,urllib.parse;print(urllib.parse.unquote(sys.argv[1]),end=\"\")' '" +
          vm["config"]["sshkeys"].get<std::string>() + "'");
  EXPECT_EQ(unescaped.out, ssh_keys) << "sshkeys URL-encoded once, as Proxmox keeps them";
  EXPECT_EQ(vm["status"]["status"], "running");

  // Endpoints from the guest agent; the password once to the owner, and the
  // VM got that very password.
  std::string ip = "10.10." + std::to_string(vmid / 256 % 256) + "." + std::to_string(vmid % 256);
  EXPECT_EQ(r["endpoints"]["ipv4"], ip) << r.dump();
  EXPECT_EQ(r["endpoints"]["ssh"], "ssh://root@" + ip + ":22");
  EXPECT_EQ(r["endpoints"]["vmid"], std::to_string(vmid));
  auto cred = http_call(proc.port(), "GET", "/v1/requests/" + id + "/credentials", "", {{"X-Tenant-Id", "acme"}});
  ASSERT_EQ(cred.status, 200) << cred.body;
  std::string password = body(cred)["password"];
  EXPECT_GE(password.size(), 16u);
  EXPECT_EQ(body(cred)["host"], ip);
  EXPECT_EQ(fake_state()["vms"][std::to_string(vmid)]["config"]["cipassword"], password);
  EXPECT_EQ(http_call(proc.port(), "GET", "/v1/requests/" + id + "/credentials", "", {{"X-Tenant-Id", "acme"}}).status,
            404)
      << "delivered once";

  // Live metrics: numbers from rrddata and status/current.
  auto m = get("/v1/requests/" + id + "/metrics");
  ASSERT_EQ(m.status, 200) << m.body;
  auto mj = body(m);
  EXPECT_EQ(mj["provider"], "proxmox");
  EXPECT_EQ(mj["resourceId"], std::to_string(vmid));
  EXPECT_EQ(mj["powerState"], "running");
  EXPECT_EQ(mj["cpu"]["count"], 2);
  EXPECT_TRUE(mj["cpu"]["usagePercent"].is_number()) << mj.dump();
  EXPECT_EQ(mj["memory"]["totalMiB"], 4096);
  EXPECT_TRUE(mj["network"]["rxBytesPerSec"].is_number()) << mj.dump();
  EXPECT_TRUE(mj["disk"]["writeBytesPerSec"].is_number()) << mj.dump();
  EXPECT_TRUE(mj["uptimeSeconds"].is_number()) << mj.dump();

  ASSERT_EQ(post("/v1/requests/" + id + "/suspend", "").status, 200);
  ASSERT_EQ(wait_state(id, {"Suspended"}, 30s), "Suspended");
  EXPECT_EQ(vms_of(id)[0]["status"]["status"], "stopped");
  ASSERT_EQ(post("/v1/requests/" + id + "/reactivate", "").status, 200);
  ASSERT_EQ(wait_state(id, {"Completed"}, 30s), "Completed");
  EXPECT_EQ(vms_of(id)[0]["status"]["status"], "running");

  ASSERT_EQ(post("/v1/requests/" + id + "/deprovision", "").status, 200);
  ASSERT_EQ(wait_state(id, {"RolledBack"}, 60s), "RolledBack");
  EXPECT_EQ(request(id)["deprovisioned"], true);
  EXPECT_TRUE(vms_of(id).empty()) << "proxmoxer sees nothing left";
  EXPECT_GE(log_count("DELETE", "/qemu/" + std::to_string(vmid)), 1);

  // The password is in no event, log line or Kafka record.
  EXPECT_EQ(get("/v1/requests/" + id + "/events").body.find(password), std::string::npos);
  EXPECT_EQ(logs().find(password), std::string::npos);
  EXPECT_EQ(logs().find(token_secret), std::string::npos);
  auto bootstrap = body(get("/v1/system"))["kafka"]["bootstrap"].get<std::string>();
  int records = 0;
  for (auto topic : {"provisioning.journal", "provisioning.completed", "provisioning.step-completed",
                     "resource.allocated", "service.suspended", "provisioning.rolled-back"})
    for (auto& rec : read_topic(bootstrap, topic)) {
      ++records;
      EXPECT_EQ(rec.value.find(password), std::string::npos) << topic;
      EXPECT_EQ(rec.value.find(token_secret), std::string::npos) << topic;
    }
  EXPECT_GT(records, 10) << "the topics were read";
}

TEST_F(Proxmox, ARefusedCloudInitInStep2RollsBackAndNothingIsLeft) {
  start_with(cluster());
  faults({{"rules", json::array({{{"method", "PUT"},
                                  {"pathContains", "/config"},
                                  {"bodyContains", "cipassword"},
                                  {"status", 403},
                                  {"times", 100},
                                  {"message", "Permission check failed (/vms/100, VM.Config.Cloudinit)"}}})}});
  auto id = submit("o-ci");
  ASSERT_EQ(wait_state(id, {"RolledBack", "Completed"}, 60s), "RolledBack") << request(id).dump();
  auto r = request(id);
  EXPECT_EQ(r["steps"][0]["status"], "Completed");
  EXPECT_EQ(r["steps"][1]["status"], "Failed");
  EXPECT_EQ(r["steps"][1]["attempts"], 1) << "403 is permanent";
  EXPECT_NE(r["failure"]["reason"].get<std::string>().find("VM.Config.Cloudinit"), std::string::npos) << r.dump();
  EXPECT_TRUE(vms_of(id).empty()) << "proxmoxer sees nothing left";
  EXPECT_EQ(fake_state()["vms"].size(), 1u) << "only the template";
}

TEST_F(Proxmox, AStartTaskThatFailsInStep3RollsBackAndNothingIsLeft) {
  start_with(cluster({{"template", nullptr}}));  // an empty VM created, not cloned
  faults({{"taskFailures",
           json::array(
               {{{"type", "qmstart"}, {"exitstatus", "start failed: QEMU exited with code 1"}, {"times", 100}}})}});
  auto id = submit("o-start", 1, 1, 8);
  ASSERT_EQ(wait_state(id, {"RolledBack", "Completed"}, 60s), "RolledBack") << request(id).dump();
  auto r = request(id);
  EXPECT_EQ(r["steps"][2]["status"], "Failed");
  EXPECT_EQ(r["steps"][2]["attempts"], 1) << "a failed task is permanent";
  EXPECT_NE(r["failure"]["reason"].get<std::string>().find("QEMU exited with code 1"), std::string::npos) << r.dump();
  EXPECT_TRUE(vms_of(id).empty()) << "proxmoxer sees nothing left";
  EXPECT_EQ(log_count("POST", "/nodes/pve2/qemu"), 1) << "created, not cloned";
}

TEST_F(Proxmox, KillDashNineAfterTheCloneWasSentLeavesExactlyOneVm) {
  ::setenv("PROVISIOND_FAILPOINT", "proxmox-after-create", 1);
  // A ticket and CSRF token this time, not an API token.
  start_with(cluster({{"apiToken", nullptr}, {"username", "root@pam"}, {"password", user_password}}));
  ::unsetenv("PROVISIOND_FAILPOINT");
  auto id = submit("o-crash");
  for (int i = 0; i < 400 && http_call(proc.port(), "GET", "/healthz").status != 0; ++i)
    std::this_thread::sleep_for(25ms);
  ASSERT_EQ(http_call(proc.port(), "GET", "/healthz").status, 0) << "the failpoint did not fire";
  proc.crash();
  start_server();
  ASSERT_EQ(wait_state(id, {"Completed", "Failed", "RolledBack"}, 90s), "Completed") << request(id).dump();
  EXPECT_EQ(vms_of(id).size(), 1u) << "exactly one VM for the request";
  EXPECT_EQ(log_count("POST", "/qemu/9000/clone"), 1) << "the clone was sent once, then found by its recorded VMID";
  EXPECT_GE(log_count("POST", "/access/ticket"), 2) << "each process logged in";
  ASSERT_EQ(post("/v1/requests/" + id + "/deprovision", "").status, 200);
  ASSERT_EQ(wait_state(id, {"RolledBack"}, 60s), "RolledBack");
  EXPECT_TRUE(vms_of(id).empty());
}

TEST_F(Proxmox, TransientFaultsAreRetriedAndALostCreateAnswerIsAdopted) {
  start_with(cluster());
  // The clone happens but its answer never arrives; a config lock wait and a
  // proxy error follow.
  faults({{"dropAfterCreate", 1},
          {"rules", json::array({{{"method", "PUT"},
                                  {"pathContains", "/config"},
                                  {"status", 500},
                                  {"times", 1},
                                  {"message", "can't lock file '/var/lock/qemu-server/lock-100.conf' - got timeout"}},
                                 {{"method", "POST"},
                                  {"pathContains", "/status/start"},
                                  {"status", 596},
                                  {"times", 1},
                                  {"message", "Connection timed out"}}})}});
  auto id = submit("o-faults");
  ASSERT_EQ(wait_state(id, {"Completed", "Failed", "RolledBack"}, 90s), "Completed") << request(id).dump();
  auto r = request(id);
  EXPECT_GE(r["steps"][0]["attempts"].get<int>(), 2) << "the lost answer and the lock timeout were retried";
  EXPECT_GE(r["steps"][2]["attempts"].get<int>(), 2) << "the 596 was retried";
  EXPECT_EQ(vms_of(id).size(), 1u);
  EXPECT_EQ(log_count("POST", "/qemu/9000/clone"), 1) << "found by its recorded VMID, not cloned again";
}

TEST_F(Proxmox, WrongCredentialsFailOnceQuotedWithoutRetriesAndWithoutThePassword) {
  faults({{"authDelay", 0.3}});
  start_with(cluster({{"apiToken", nullptr}, {"username", "root@pam"}, {"password", "not-the-password"}}));
  auto test = body(post("/v1/clusters/pve-1/test", ""));
  EXPECT_EQ(test["success"], false);
  EXPECT_NE(test["error"].get<std::string>().find("authentication failure"), std::string::npos) << test.dump();
  auto id = submit("o-badpw");
  ASSERT_EQ(wait_state(id, {"RolledBack", "Failed", "Completed"}, 60s), "RolledBack") << request(id).dump();
  auto r = request(id);
  EXPECT_EQ(r["steps"][0]["attempts"], 1) << "no retries against a refused login";
  std::string reason = r["failure"]["reason"];
  EXPECT_NE(reason.find("Proxmox rejected the credentials"), std::string::npos) << reason;
  EXPECT_NE(reason.find("authentication failure"), std::string::npos) << "Proxmox's own words: " << reason;
  EXPECT_EQ(reason.find("not-the-password"), std::string::npos);
  EXPECT_EQ(get("/v1/requests/" + id + "/events").body.find("not-the-password"), std::string::npos);
  EXPECT_EQ(logs().find("not-the-password"), std::string::npos);
  EXPECT_EQ(log_count("POST", "/access/ticket"), 2) << "one for the test, one for the step";
  EXPECT_EQ(log_count("POST", "/qemu/9000/clone"), 0);
}

TEST_F(Proxmox, ConnectionSettingsAreCheckedAtRegistrationAndTheTestFindsTheNode) {
  start_with(cluster());
  auto c = cluster();
  c["id"] = "pve-2";
  c["connection"].erase("node");
  auto r = post("/v1/clusters", c.dump());
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("connection.node"), std::string::npos) << r.body;
  c["connection"]["node"] = "pve1";
  c["connection"]["apiToken"] = "no-realm=" + token_secret;
  r = post("/v1/clusters", c.dump());
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("connection.apiToken"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find(token_secret), std::string::npos) << "the message never quotes the secret";
  c["connection"]["apiToken"] = token_id + "=" + token_secret;
  c["connection"]["node"] = "pve9";
  r = post("/v1/clusters", c.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(body(r)["secretFields"], json::array({"apiToken"}));
  EXPECT_EQ(r.body.find(token_secret), std::string::npos);
  auto bad = body(post("/v1/clusters/pve-2/test", ""));
  EXPECT_EQ(bad["success"], false);
  EXPECT_NE(bad["error"].get<std::string>().find("node pve9 is not in the cluster"), std::string::npos) << bad.dump();
  auto good = body(post("/v1/clusters/pve-1/test", ""));
  EXPECT_EQ(good["success"], true) << good.dump();
}

TEST_F(Proxmox, AnExpiredTicketIsRenewedOnceAndTheFlowGoesOn) {
  // Tickets that live 1.5 s instead of 2 h: the flow outlives several.
  fake = std::make_unique<fake_proxmox>(dir,
                                        std::vector<std::string>{"--ticket-lifetime", "1.5", "--task-seconds", "0.4"});
  ASSERT_GT(fake->port(), 0);
  start_with(cluster({{"apiToken", nullptr}, {"username", "root@pam"}, {"password", user_password}}));
  auto id = submit("o-ticket");
  ASSERT_EQ(wait_state(id, {"Completed", "Failed", "RolledBack"}, 90s), "Completed") << request(id).dump();
  EXPECT_GE(log_count("POST", "/access/ticket"), 2) << "logged in again when the ticket was refused";
  EXPECT_EQ(vms_of(id).size(), 1u);
}

TEST_F(Proxmox, ATokenWithoutThePrivilegeIsPermanentAndQuoted) {
  start_with(cluster({{"apiToken", read_only_token_id + "=" + token_secret}}));
  auto id = submit("o-privsep");
  ASSERT_EQ(wait_state(id, {"RolledBack", "Failed", "Completed"}, 60s), "RolledBack") << request(id).dump();
  auto r = request(id);
  EXPECT_EQ(r["steps"][0]["attempts"], 1) << "403 is permanent";
  EXPECT_NE(r["failure"]["reason"].get<std::string>().find("Permission check failed"), std::string::npos) << r.dump();
  EXPECT_TRUE(vms_of(id).empty());
}

TEST_F(Proxmox, ConcurrentRequestsShareTheTemplateAndNeverTheirVmids) {
  // nextid is no reservation and a clone locks its template: three at once.
  start_with(cluster());
  std::map<std::string, int> cores;
  for (int cpu : {1, 2, 3}) cores[submit("o-many-" + std::to_string(cpu), cpu, 1, 8)] = cpu;
  std::set<int> vmids;
  for (auto& [id, cpu] : cores) {
    ASSERT_EQ(wait_state(id, {"Completed", "Failed", "RolledBack"}, 120s), "Completed") << request(id).dump();
    auto vms = vms_of(id);
    ASSERT_EQ(vms.size(), 1u) << id;
    EXPECT_EQ(vms[0]["config"]["cores"], std::to_string(cpu)) << "each VM sized by its own request";
    EXPECT_EQ(request(id)["endpoints"]["vmid"], std::to_string(vms[0]["resource"]["vmid"].get<int>()));
    vmids.insert(vms[0]["resource"]["vmid"].get<int>());
  }
  EXPECT_EQ(vmids.size(), 3u);
  EXPECT_EQ(pve_vms().size(), 3u) << "no VM left over from a refused or clashing clone";
}

TEST_F(Proxmox, ADeleteRefusedForALockOrARunningVmIsWaitedOutAndSentAgain) {
  start_with(cluster());
  auto id = submit("o-refused-delete", 1, 1, 8);
  ASSERT_EQ(wait_state(id, {"Completed", "Failed", "RolledBack"}, 90s), "Completed") << request(id).dump();
  std::string vmid = request(id)["endpoints"]["vmid"];
  // A backup holds the VM, then it is found running again (HA restarted it).
  faults({{"rules", json::array({{{"method", "DELETE"},
                                  {"pathContains", "/qemu/" + vmid},
                                  {"status", 500},
                                  {"times", 1},
                                  {"message", "VM " + vmid + " is locked (backup)"}},
                                 {{"method", "DELETE"},
                                  {"pathContains", "/qemu/" + vmid},
                                  {"status", 500},
                                  {"times", 1},
                                  {"message", "VM " + vmid + " is running - destroy failed"}}})}});
  ASSERT_EQ(post("/v1/requests/" + id + "/deprovision", "").status, 200);
  ASSERT_EQ(wait_state(id, {"RolledBack"}, 60s), "RolledBack") << request(id).dump();
  EXPECT_TRUE(vms_of(id).empty()) << "proxmoxer sees nothing left";
  EXPECT_EQ(log_count("DELETE", "/qemu/" + vmid), 3) << "refused twice, then deleted";
}
