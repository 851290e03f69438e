// The VMware lane: provisiond's vmware provider against vcsim (VMware's
// own vSphere simulator, started per test with TLS from a CA made here and
// one accepted login), every result judged through pyVmomi
// (vsphere_check.py), not through provisiond.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/clock.hpp"
#include "providers/vmware/detail/session.hpp"
#include "providers/vmware/envelopes.hpp"
#include "tests/integration/fixture.hpp"
#include "tests/support/kafka_reader.hpp"
#include "tests/support/local_https.hpp"

using namespace provisiond::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string vc_user = "provisiond";
const std::string vc_password = "vc-Pa55-for-tests";

// vcsim on a free port, serving `dir`'s server.pem; SIGTERM when it goes.
class vcsim_process {
 public:
  bool start(const temp_dir& dir) {
    auto log = dir / "vcsim.log";
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::setenv("VCSIM_TLS", "1", 1);
      ::setenv("VCSIM_CERT", (dir / "server.pem").c_str(), 1);
      ::setenv("VCSIM_KEY", (dir / "server.key").c_str(), 1);
      ::setenv("VCSIM_USERNAME", vc_user.c_str(), 1);
      ::setenv("VCSIM_PASSWORD", vc_password.c_str(), 1);
      ::execl(VCSIM_BINARY, VCSIM_BINARY, nullptr);
      ::_exit(127);
    }
    for (int i = 0; i < 300; ++i) {
      std::ifstream in{log};
      std::string line;
      while (std::getline(in, line))
        if (auto at = line.find("VCSIM_URL="); at != std::string::npos) {
          auto colon = line.rfind(':');
          port_ = std::atoi(line.c_str() + colon + 1);
          return port_ > 0;
        }
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
  int port() const { return port_; }
  ~vcsim_process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

struct VMware : server_fixture {
  vcsim_process vcsim;

  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(VCSIM_BINARY)) << "run the vcsim_build test first (ctest -L vmware)";
    ASSERT_TRUE(make_test_ca(dir)) << "openssl CLI failed";
    ASSERT_TRUE(vcsim.start(dir)) << "vcsim did not start; see " << (dir / "vcsim.log");
  }

  // vsphere_check.py (pyVmomi) with `args`; its JSON answer.
  json pyvmomi(const std::string& args) {
    auto out = shell("/usr/bin/python3 " VSPHERE_CHECK " 127.0.0.1 " + std::to_string(vcsim.port()) + " " + vc_user +
                     " " + vc_password + " " + (dir / "ca.pem") + " " + args + " 2>" + (dir / "pyvmomi.err"));
    auto j = json::parse(out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "pyVmomi: " << out << shell("cat " + (dir / "pyvmomi.err"));
    return j;
  }

  // What pyVmomi sees: every VM whose name starts with `prefix`.
  json vms(const std::string& prefix) {
    auto j = pyvmomi("vms '" + prefix + "'");
    return j.is_array() ? j : json::array();
  }

  json vc_cluster(const std::string& id, json overrides = json::object()) {
    json conn = {{"url", "https://127.0.0.1:" + std::to_string(vcsim.port()) + "/sdk"},
                 {"username", vc_user},
                 {"password", vc_password},
                 {"datacenter", "DC0"},
                 {"cluster", "DC0_C0"},
                 {"datastore", "LocalDS_0"},
                 {"network", "VM Network"},
                 {"template", "DC0_H0_VM0"},
                 {"caFile", dir / "ca.pem"}};
    for (auto& [k, v] : overrides.items()) {
      if (v.is_null())
        conn.erase(k);
      else
        conn[k] = v;
    }
    return {{"id", id},
            {"type", "vmware"},
            {"region", "vc-1"},
            {"default", true},
            {"capacity", {{"cpu", 64}, {"memoryGb", 256}, {"storageGb", 1000}, {"vmSlots", 20}}},
            {"connection", conn}};
  }

  void start_with(json cluster) {
    write_config({{"clusters", json::array({cluster})}, {"retry", {{"baseDelayMs", 300}, {"maxRetries", 3}}}});
    start_server();
  }

  std::string submit(const std::string& order, const std::string& chosen_id = "") {
    json req{{"tenantId", "acme"},   {"orderId", order},
             {"type", "vps"},        {"region", "vc-1"},
             {"provider", "vmware"}, {"resources", {{"cpu", 2}, {"memoryGb", 4}, {"storageGb", 20}}}};
    if (!chosen_id.empty()) req["id"] = chosen_id;
    auto r = post("/v1/requests", req.dump());
    EXPECT_EQ(r.status, 202) << r.body;
    return body(r).value("id", "");
  }

  json request(const std::string& id) { return body(get("/v1/requests/" + id)); }

  std::string power_state(const std::string& id) {
    auto v = vms("vps-" + id);
    return v.size() == 1 ? v[0].value("powerState", "") : "(" + std::to_string(v.size()) + " VMs)";
  }

  // Every line provisiond logged, over all its starts.
  std::string logs() {
    std::string all;
    for (int i = 1; i <= starts; ++i) all += shell("cat " + (dir / ("provisiond-" + std::to_string(i) + ".log")));
    return all;
  }
};

}  // namespace

TEST_F(VMware, FullFlowClonesSizesConfiguresAndPowersOnThenSuspendReactivateDeprovision) {
  start_with(vc_cluster("vc-dev"));
  auto id = submit("o-full");
  ASSERT_EQ(wait_state(id, {"Completed", "Failed", "RolledBack"}, 120s), "Completed") << request(id).dump();
  auto r = request(id);

  // vCenter agrees: one VM with the ids, sized as ordered, on the network, powered on.
  auto found = vms("vps-" + id);
  ASSERT_EQ(found.size(), 1u) << found.dump();
  auto& vm = found[0];
  EXPECT_EQ(vm["name"], "vps-" + id);
  EXPECT_EQ(vm["powerState"], "poweredOn");
  EXPECT_EQ(vm["numCPU"], 2);
  EXPECT_EQ(vm["memoryMB"], 4096);
  ASSERT_FALSE(vm["disksKB"].empty());
  EXPECT_EQ(vm["disksKB"][0], 20 * 1024 * 1024) << "the template's disk grown to storageGb";
  EXPECT_EQ(vm["extraConfig"]["provisiond.requestId"], id);
  EXPECT_EQ(vm["extraConfig"]["provisiond.orderId"], "o-full");
  EXPECT_EQ(vm["extraConfig"]["provisiond.tenantId"], "acme");
  EXPECT_EQ(vm["nics"], json::array({"VM Network"}));
  EXPECT_EQ(vm["resourcePool"], "Resources");
  EXPECT_EQ(vm["datastores"], json::array({"LocalDS_0"}));
  std::string userdata = vm.value("userdata", "");
  EXPECT_NE(userdata.find("hostname: vps-" + id), std::string::npos) << userdata;
  EXPECT_NE(userdata.find("root:$6$"), std::string::npos) << "the root password goes in as a hash" << userdata;
  EXPECT_EQ(r["endpoints"]["vmId"], vm["moref"]) << r.dump();
  EXPECT_EQ(r["endpoints"]["vmName"], "vps-" + id);
  EXPECT_EQ(r["endpoints"]["powerState"], "poweredOn");
  if (vm["guestIp"] == "") {  // vcsim reports no guest address: no ssh endpoint is made up
    EXPECT_EQ(r["endpoints"]["host"], "vps-" + id);
    EXPECT_FALSE(r["endpoints"].contains("ssh"));
  } else {
    EXPECT_EQ(r["endpoints"]["ipv4"], vm["guestIp"]);
    EXPECT_EQ(r["endpoints"]["ssh"], "ssh://root@" + vm["guestIp"].get<std::string>() + ":22");
  }

  // The root password: once to the owner, never in vCenter, events, logs or Kafka.
  auto cred = http_call(proc.port(), "GET", "/v1/requests/" + id + "/credentials", "", {{"X-Tenant-Id", "acme"}});
  ASSERT_EQ(cred.status, 200) << cred.body;
  std::string password = body(cred)["password"];
  EXPECT_GE(password.size(), 16u);
  EXPECT_EQ(body(cred)["username"], "root");
  EXPECT_EQ(http_call(proc.port(), "GET", "/v1/requests/" + id + "/credentials", "", {{"X-Tenant-Id", "acme"}}).status,
            404)
      << "delivered once";
  EXPECT_EQ(vms("vps-" + id).dump().find(password), std::string::npos);
  EXPECT_EQ(get("/v1/requests/" + id + "/events").body.find(password), std::string::npos);

  // Live metrics with numbers: the hardware from the summary, rates from QueryPerf.
  auto m = get("/v1/requests/" + id + "/metrics");
  ASSERT_EQ(m.status, 200) << m.body;
  auto mj = body(m);
  EXPECT_EQ(mj["provider"], "vmware") << m.body;
  EXPECT_EQ(mj["resourceId"], vm["moref"]);
  EXPECT_EQ(mj["powerState"], "poweredOn");
  EXPECT_EQ(mj["cpu"]["count"], 2);
  EXPECT_EQ(mj["memory"]["totalMiB"], 4096);
  EXPECT_EQ(mj["disk"]["totalGiB"], 20);
  EXPECT_TRUE(mj["cpu"]["usagePercent"].is_number()) << m.body;
  EXPECT_TRUE(mj["network"]["rxBytesPerSec"].is_number()) << m.body;

  ASSERT_EQ(post("/v1/requests/" + id + "/suspend", "").status, 200);
  ASSERT_EQ(wait_state(id, {"Suspended"}, 60s), "Suspended");
  EXPECT_EQ(power_state(id), "poweredOff");
  ASSERT_EQ(post("/v1/requests/" + id + "/reactivate", "").status, 200);
  for (int i = 0; i < 300 && request(id)["state"] != "Completed"; ++i) std::this_thread::sleep_for(100ms);
  EXPECT_EQ(request(id)["state"], "Completed");
  EXPECT_EQ(power_state(id), "poweredOn");

  ASSERT_EQ(post("/v1/requests/" + id + "/deprovision", "").status, 200);
  ASSERT_EQ(wait_state(id, {"RolledBack"}, 120s), "RolledBack");
  EXPECT_EQ(request(id)["deprovisioned"], true);
  EXPECT_TRUE(vms("vps-" + id).empty()) << "powered off and destroyed";
  EXPECT_EQ(vms("DC0_H0_VM0").size(), 1u) << "the template stays";

  EXPECT_EQ(logs().find(password), std::string::npos) << "the password in a log line";
  EXPECT_EQ(logs().find(vc_password), std::string::npos) << "vCenter's password in a log line";
  auto bootstrap = body(get("/v1/system"))["kafka"]["bootstrap"].get<std::string>();
  std::size_t records = 0;
  for (auto topic : {"provisioning.journal", "provisioning.started", "provisioning.step-completed",
                     "provisioning.completed", "provisioning.rolled-back", "provisioning.secrets"})
    for (auto& rec : read_topic(bootstrap, topic)) {
      ++records;
      EXPECT_EQ(rec.value.find(password), std::string::npos) << "the password in a " << topic << " record";
      EXPECT_EQ(rec.value.find(vc_password), std::string::npos) << "vCenter's password in a " << topic << " record";
    }
  EXPECT_GT(records, 10u) << "the topics were read";
}

TEST_F(VMware, AMissingNetworkFailsConfigureForGoodAndRollsTheCloneBack) {
  start_with(vc_cluster("vc-nonet", {{"network", "no-such-portgroup"}}));
  auto id = submit("o-nonet");
  ASSERT_EQ(wait_state(id, {"RolledBack", "Completed"}, 120s), "RolledBack");
  auto r = request(id);
  EXPECT_EQ(r["steps"][0]["status"], "Completed") << "the clone was made";
  EXPECT_EQ(r["steps"][1]["status"], "Failed");
  EXPECT_EQ(r["steps"][1]["attempts"], 1) << "a missing network is permanent: no retries";
  std::string reason = r["failure"]["reason"];
  EXPECT_NE(reason.find("no-such-portgroup"), std::string::npos) << reason;
  EXPECT_TRUE(vms("vps-" + id).empty()) << "pyVmomi still sees the clone";
}

TEST_F(VMware, KillDashNineWithTheCloneOnItsWayLeavesExactlyOneVm) {
  ::setenv("PROVISIOND_FAILPOINT", "vmware-after-clone-sent", 1);
  start_with(vc_cluster("vc-crash"));
  ::unsetenv("PROVISIOND_FAILPOINT");
  auto id = submit("o-crash");
  for (int i = 0; i < 600 && http_call(proc.port(), "GET", "/healthz").status != 0; ++i)
    std::this_thread::sleep_for(50ms);
  ASSERT_EQ(http_call(proc.port(), "GET", "/healthz").status, 0) << "the failpoint did not fire";
  proc.crash();  // reap
  EXPECT_EQ(vms("vps-" + id).size(), 1u) << "the clone went through before the process died";
  start_server();
  ASSERT_EQ(wait_state(id, {"Completed", "Failed", "RolledBack"}, 120s), "Completed") << request(id).dump();
  auto found = vms("vps-" + id);
  ASSERT_EQ(found.size(), 1u) << "exactly one VM after the restart: " << found.dump();
  EXPECT_EQ(found[0]["numCPU"], 2) << "the adopted clone was sized";
  EXPECT_EQ(found[0]["powerState"], "poweredOn");
  ASSERT_EQ(post("/v1/requests/" + id + "/deprovision", "").status, 200);
  ASSERT_EQ(wait_state(id, {"RolledBack"}, 120s), "RolledBack");
  EXPECT_TRUE(vms("vps-" + id).empty());
}

TEST_F(VMware, WrongCredentialsFailOnceQuotingVCenterWithoutThePassword) {
  start_with(vc_cluster("vc-badpw", {{"password", "not-the-password"}}));
  auto test = body(post("/v1/clusters/vc-badpw/test", ""));
  EXPECT_EQ(test["success"], false);
  EXPECT_NE(test["error"].get<std::string>().find("vCenter rejected the credentials"), std::string::npos)
      << test.dump();
  auto id = submit("o-badpw");
  ASSERT_EQ(wait_state(id, {"RolledBack", "Completed"}, 120s), "RolledBack");
  auto r = request(id);
  EXPECT_EQ(r["steps"][0]["attempts"], 1) << "no retry storm against vCenter";
  std::string reason = r["failure"]["reason"];
  EXPECT_NE(reason.find("InvalidLogin"), std::string::npos) << "vCenter's fault quoted: " << reason;
  EXPECT_EQ(reason.find("not-the-password"), std::string::npos);
  EXPECT_EQ(get("/v1/requests/" + id + "/events").body.find("not-the-password"), std::string::npos);
  EXPECT_EQ(logs().find("not-the-password"), std::string::npos);
  EXPECT_TRUE(vms("vps-").empty());
}

TEST_F(VMware, TheConnectivityTestFindsTheInventoryAndRegistrationNamesABadField) {
  start_with(vc_cluster("vc-ok"));
  auto tested = post("/v1/clusters/vc-ok/test", "");
  ASSERT_EQ(tested.status, 200) << tested.body;
  EXPECT_EQ(body(tested)["success"], true) << tested.body;
  auto c = body(get("/v1/clusters/vc-ok"));
  EXPECT_EQ(c["secretFields"], json::array({"password"}));
  EXPECT_EQ(get("/v1/clusters/vc-ok").body.find(vc_password), std::string::npos);

  auto bad = vc_cluster("vc-typo", {{"template", "no-such-template"}});
  bad["default"] = false;
  auto added = post("/v1/clusters", bad.dump());
  ASSERT_EQ(added.status, 201) << added.body;
  auto typo = body(post("/v1/clusters/vc-typo/test", ""));
  EXPECT_EQ(typo["success"], false);
  EXPECT_NE(typo["error"].get<std::string>().find("connection.template"), std::string::npos) << typo.dump();

  auto invalid = vc_cluster("vc-invalid", {{"datastore", nullptr}});
  auto reply = post("/v1/clusters", invalid.dump());
  EXPECT_EQ(reply.status, 400) << reply.body;
  EXPECT_EQ(body(reply)["error"]["field"], "connection.datastore") << reply.body;
}

TEST_F(VMware, AnExpiredSessionIsRenewedByOneLogin) {
  start_with(vc_cluster("vc-expiry"));
  auto id = submit("o-expiry");
  ASSERT_EQ(wait_state(id, {"Completed", "Failed", "RolledBack"}, 120s), "Completed") << request(id).dump();
  // vCenter drops provisiond's session (as an idle timeout would).
  auto expired = pyvmomi("expire-sessions");
  ASSERT_GE(expired.value("terminated", 0), 1) << expired.dump();
  ASSERT_EQ(post("/v1/requests/" + id + "/suspend", "").status, 200);
  ASSERT_EQ(wait_state(id, {"Suspended", "Failed"}, 60s), "Suspended") << request(id).dump();
  EXPECT_EQ(power_state(id), "poweredOff");
  auto m = get("/v1/requests/" + id + "/metrics");
  EXPECT_EQ(m.status, 200) << m.body;
}

TEST_F(VMware, AVmOfTheSameNameThatIsNotOursIsPermanentAndLeftAlone) {
  const std::string id = "req-00000000000000000042";
  ASSERT_EQ(pyvmomi("clone vps-" + id).value("state", ""), "success");
  start_with(vc_cluster("vc-dup"));
  ASSERT_EQ(submit("o-dup", id), id);
  ASSERT_EQ(wait_state(id, {"RolledBack", "Completed"}, 120s), "RolledBack");
  auto r = request(id);
  EXPECT_EQ(r["steps"][0]["attempts"], 1) << "not ours: permanent";
  std::string reason = r["failure"]["reason"];
  EXPECT_NE(reason.find("is not this request's"), std::string::npos) << reason;
  auto found = vms("vps-" + id);
  ASSERT_EQ(found.size(), 1u) << "the other VM is neither adopted nor destroyed";
  EXPECT_EQ(found[0]["numCPU"], 1) << "nor resized";
  EXPECT_TRUE(found[0]["extraConfig"].empty());
}

TEST_F(VMware, ADistributedPortGroupIsFoundByNameAndBacksTheNic) {
  start_with(vc_cluster("vc-dvpg", {{"network", "DC0_DVPG0"}}));
  auto id = submit("o-dvpg");
  ASSERT_EQ(wait_state(id, {"Completed", "Failed", "RolledBack"}, 120s), "Completed") << request(id).dump();
  auto found = vms("vps-" + id);
  ASSERT_EQ(found.size(), 1u);
  ASSERT_EQ(found[0]["nics"].size(), 1u);
  EXPECT_EQ(found[0]["nics"][0].get<std::string>().rfind("dvportgroup:dvportgroup-", 0), 0u) << found.dump();
  EXPECT_EQ(request(id)["endpoints"]["network"], "DC0_DVPG0");
}

TEST_F(VMware, WithoutATemplateTheVmIsCreatedSizedAndOnTheNetwork) {
  start_with(vc_cluster("vc-create", {{"template", nullptr}}));
  auto id = submit("o-create");
  ASSERT_EQ(wait_state(id, {"Completed", "Failed", "RolledBack"}, 120s), "Completed") << request(id).dump();
  auto found = vms("vps-" + id);
  ASSERT_EQ(found.size(), 1u) << found.dump();
  auto& vm = found[0];
  EXPECT_EQ(vm["powerState"], "poweredOn");
  EXPECT_EQ(vm["numCPU"], 2);
  EXPECT_EQ(vm["memoryMB"], 4096);
  EXPECT_EQ(vm["disksKB"], json::array({20 * 1024 * 1024}));
  EXPECT_EQ(vm["nics"], json::array({"VM Network"}));
  EXPECT_EQ(vm["extraConfig"]["provisiond.requestId"], id);
  EXPECT_EQ(vm["datastores"], json::array({"LocalDS_0"}));
  ASSERT_EQ(post("/v1/requests/" + id + "/deprovision", "").status, 200);
  ASSERT_EQ(wait_state(id, {"RolledBack"}, 120s), "RolledBack");
  EXPECT_TRUE(vms("vps-" + id).empty());
}

TEST_F(VMware, ATaskThatEndsInErrorIsClassifiedWithItsFaultQuoted) {
  // The provider's own session against vcsim: powering on a VM that is on
  // fails inside the task (the call itself answers a task).
  namespace vmw = provisiond::providers::vmware;
  auto s = vmw::detail::make_session(vc_cluster("vc-task")["connection"].dump(), provisiond::make_system_clock());
  ASSERT_TRUE(s) << s.error().message;
  auto vm = (*s)->require("DC0/vm/DC0_H0_VM0", "template");
  ASSERT_TRUE(vm) << vm.error().message;
  auto task = (*s)->start_task(vmw::power_on(*vm), "vCenter PowerOnVM_Task");
  ASSERT_TRUE(task) << "the method returns a task; the fault comes with its outcome";
  auto done = (*s)->wait_task(*task, "vCenter PowerOnVM_Task");
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().code, provisiond::errc::permanent);
  EXPECT_EQ(done.error().field, "invalid_state");
  EXPECT_NE(done.error().message.find("(task " + task->value + "): InvalidPowerState"), std::string::npos)
      << done.error().message;
  EXPECT_NE(done.error().message.find("existingState=poweredOn"), std::string::npos) << done.error().message;
}
