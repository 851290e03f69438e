// The Kubernetes lane: the fake API server (fake_apiserver.py, TLS with a CA
// made here) judged by the real kubectl, then provisiond's openshift provider
// against it, with every object checked through kubectl.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <regex>

#include "providers/http/http_client.hpp"
#include "providers/kubernetes/kubernetes_provider.hpp"
#include "tests/integration/fixture.hpp"
#include "tests/support/local_https.hpp"

using namespace provisiond::testing;
using nlohmann::json;
using namespace std::chrono_literals;
namespace k8s = provisiond::providers::kubernetes;

namespace {

const std::string token = "t0ken-for-tests";


// fake_apiserver.py on a free port, with its TLS material in `dir`.
struct fake_apiserver : python_process {
  fake_apiserver(const temp_dir& dir, double terminating_seconds)
      : python_process({std::string(PROVISIOND_SOURCE_DIR) + "/tests/kubernetes/fake_apiserver.py", dir / "server.pem",
                        dir / "server.key", token, std::to_string(terminating_seconds)}) {}
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port()); }
};

struct Kubernetes : server_fixture {
  std::unique_ptr<fake_apiserver> fake;

  void SetUp() override {
    ASSERT_TRUE(make_test_ca(dir)) << "openssl CLI failed";
    fake = std::make_unique<fake_apiserver>(dir, 1.0);
    ASSERT_GT(fake->port(), 0) << "the fake API server did not start";
    std::ofstream{dir / "kubeconfig"} << "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: "
                                      << fake->url() << "\n    certificate-authority: " << (dir / "ca.pem")
                                      << "\nusers:\n- name: tester\n  user:\n    token: " << token
                                      << "\ncontexts:\n- name: fake\n  context: {cluster: fake, user: tester}\n"
                                         "current-context: fake\n";
  }

  // The real kubectl (the gcloud dispatcher picks 1.29 from the fake's /version).
  command_result kubectl(const std::string& args) {
    return run_command("kubectl --kubeconfig " + (dir / "kubeconfig") + " --cache-dir " + (dir / "kcache") + " " + args);
  }
  json kubectl_json(const std::string& args) {
    auto r = kubectl(args + " -o json");
    EXPECT_EQ(r.rc, 0) << args << ": " << r.out;
    return json::parse(r.out, nullptr, false);
  }

  json faults(const json& set) {
    provisiond::providers::http::client_options o;
    o.ca_file = dir / "ca.pem";
    provisiond::providers::http::client c{o};
    auto r = c.send({"POST", fake->url() + "/_fake/faults", {{"Authorization", "Bearer " + token}}, set.dump()});
    return r ? json::parse(r->body, nullptr, false) : json();
  }

  json cluster(json overrides = json::object()) {
    json conn = {{"server", fake->url()}, {"token", token}, {"caFile", dir / "ca.pem"}, {"projectRequest", true},
                 {"consoleUrl", "https://console.apps.example"}, {"ingressNamespace", "openshift-ingress"},
                 {"deleteWaitSec", 10}};
    for (auto& [k, v] : overrides.items()) conn[k] = v;
    return {{"id", "ocp-1"}, {"type", "openshift"}, {"region", "dev-1"}, {"default", true},
            {"capacity", {{"cpu", 64}, {"memoryGb", 256}, {"storageGb", 1000}, {"vmSlots", 0}}}, {"connection", conn}};
  }

  void start_with(json c) {
    write_config({{"clusters", json::array({c})}, {"kafka", {{"enabled", false}}}, {"retry", {{"baseDelayMs", 300}, {"maxRetries", 5}}}});
    start_server();
  }

  std::string submit(const std::string& tenant, const std::string& order) {
    auto r = post("/v1/requests", json{{"tenantId", tenant}, {"orderId", order}, {"type", "namespace"},
                                       {"region", "dev-1"}, {"provider", "openshift"},
                                       {"resources", {{"cpu", 2}, {"memoryGb", 4}, {"storageGb", 10}}}}
                                      .dump());
    EXPECT_EQ(r.status, 202) << r.body;
    return body(r).value("id", "");
  }
  json request(const std::string& id) { return body(get("/v1/requests/" + id)); }
};

}  // namespace

TEST(KubernetesNames, AlwaysValidUniqueAndDeterministic) {
  std::regex dns1123{"[a-z0-9]([-a-z0-9]*[a-z0-9])?"};
  std::set<std::string> seen;
  for (auto [tenant, id] : std::vector<std::pair<std::string, std::string>>{
           {"ACME-Corp", "req-1"}, {"acme_corp", "req-1"}, {"acme", "req-2"}, {std::string(64, 'T'), "req-1"},
           {"..--..", "req-3"}, {"acme", std::string(64, 'r')}, {"acme", std::string(64, 'r') + "x"}}) {
    auto n = k8s::namespace_name(tenant, id);
    EXPECT_TRUE(std::regex_match(n, dns1123)) << n;
    EXPECT_LE(n.size(), 63u) << n;
    EXPECT_EQ(n, k8s::namespace_name(tenant, id)) << "deterministic";
    seen.insert(n);
  }
  EXPECT_EQ(seen.size(), 7u) << "unique per (tenant, request)";
  EXPECT_EQ(k8s::namespace_name("ACME-Corp", "req-1").rfind("t-acme-corp-", 0), 0u);
}

TEST(KubernetesErrors, ClassifiedFromTheStatusObject) {
  auto terminating = k8s::classify(403, R"({"kind":"Status","status":"Failure","reason":"Forbidden","code":403,
      "message":"resourcequotas \"q\" is forbidden: unable to create new content in namespace t because it is being terminated",
      "details":{"causes":[{"reason":"NamespaceTerminating","message":"namespace t is being terminated"}]}})", "apply");
  EXPECT_EQ(terminating.code, provisiond::errc::retryable);
  EXPECT_EQ(k8s::classify(403, R"({"reason":"Forbidden","message":"no"})", "x").code, provisiond::errc::permanent);
  EXPECT_EQ(k8s::classify(422, R"({"reason":"Invalid","message":"bad"})", "x").code, provisiond::errc::permanent);
  EXPECT_EQ(k8s::classify(409, R"({"reason":"AlreadyExists"})", "x").field, "already_exists");
  EXPECT_EQ(k8s::classify(409, R"({"reason":"Conflict"})", "x").code, provisiond::errc::retryable);
  EXPECT_EQ(k8s::classify(401, R"({"reason":"Unauthorized"})", "x").code, provisiond::errc::permanent);
  EXPECT_EQ(k8s::classify(429, "", "x").code, provisiond::errc::retryable);
  EXPECT_EQ(k8s::classify(503, "", "x").code, provisiond::errc::retryable);
  auto msg = k8s::classify(404, R"({"reason":"NotFound","message":"namespaces \"t\" not found"})", "get").message;
  EXPECT_NE(msg.find("namespaces \"t\" not found"), std::string::npos) << msg;
}

TEST_F(Kubernetes, TheRealKubectlAcceptsTheFake) {
  auto empty = kubectl("get ns");
  EXPECT_EQ(empty.rc, 0) << empty.out;
  auto created = kubectl("create ns demo-1");
  EXPECT_EQ(created.rc, 0) << created.out;
  EXPECT_NE(created.out.find("namespace/demo-1 created"), std::string::npos) << created.out;
  EXPECT_NE(kubectl("get ns").out.find("demo-1"), std::string::npos);
  auto ns = kubectl_json("get ns demo-1");
  EXPECT_EQ(ns["metadata"]["name"], "demo-1");
  EXPECT_EQ(ns["status"]["phase"], "Active");
  EXPECT_EQ(kubectl("create ns demo-1").rc, 1) << "AlreadyExists";

  std::ofstream{dir / "quota.json"} << R"({"apiVersion":"v1","kind":"ResourceQuota",
      "metadata":{"name":"compute","namespace":"demo-1"},"spec":{"hard":{"pods":"10","requests.cpu":"2"}}})";
  // Default validation: the fake's minimal /openapi/v3 hands it to the server
  // (kubectl >= 1.27). Debian's kubectl 1.20 needs the protobuf OpenAPI v2
  // the fake does not serve, so it gets --validate=false, as the reference says.
  auto version = kubectl("version --client -o json");
  auto brace = version.out.find('{');
  auto client = brace == std::string::npos ? json::object() : json::parse(version.out.substr(brace), nullptr, false);
  auto minor = client.is_object() && client.contains("clientVersion") ? client["clientVersion"].value("minor", "99") : "99";
  bool old_kubectl = std::atoi(minor.c_str()) < 27;
  auto applied = kubectl(std::string("apply --server-side ") + (old_kubectl ? "--validate=false " : "") + "-f " +
                         (dir / "quota.json"));
  EXPECT_EQ(applied.rc, 0) << applied.out;
  EXPECT_NE(applied.out.find("resourcequota/compute serverside-applied"), std::string::npos) << applied.out;
  auto listed = kubectl("get resourcequota,limitrange,rolebinding,networkpolicy -n demo-1");
  EXPECT_EQ(listed.rc, 0) << listed.out;
  EXPECT_NE(listed.out.find("compute"), std::string::npos) << listed.out;
  EXPECT_EQ(kubectl_json("get resourcequota compute -n demo-1")["spec"]["hard"]["pods"], "10");
  auto can = kubectl("auth can-i create namespaces");
  EXPECT_EQ(can.rc, 0) << can.out;
  EXPECT_NE(can.out.find("yes"), std::string::npos);

  // delete --wait follows the Terminating phase through a watch until DELETED.
  auto started = std::chrono::steady_clock::now();
  auto deleted = kubectl("delete ns demo-1");
  EXPECT_EQ(deleted.rc, 0) << deleted.out;
  EXPECT_GE(std::chrono::steady_clock::now() - started, 900ms) << "kubectl waited for the namespace to go";
  auto gone = kubectl("get ns demo-1");
  EXPECT_EQ(gone.rc, 1);
  EXPECT_NE(gone.out.find("NotFound"), std::string::npos) << gone.out;

  auto bad = run_command("kubectl --kubeconfig " + (dir / "kubeconfig") + " --token wrong --cache-dir " + (dir / "kc2") + " get ns");
  EXPECT_NE(bad.rc, 0);
  // 1.29 says "Unauthorized"; the dispatcher's own 1.32 (used when /version is refused) says "provide credentials".
  EXPECT_TRUE(bad.out.find("Unauthorized") != std::string::npos ||
              bad.out.find("provide credentials") != std::string::npos)
      << bad.out;
}

TEST_F(Kubernetes, ANamespaceRequestBuildsAllFiveObjectsThenSuspendsReactivatesAndDeprovisions) {
  start_with(cluster());
  auto id = submit("ACME-Corp", "order-7");
  ASSERT_EQ(wait_state(id, {"Completed", "Failed", "RolledBack"}, 60s), "Completed") << request(id).dump();
  auto r = request(id);
  std::string ns = r["endpoints"]["namespace"];
  EXPECT_EQ(ns, k8s::namespace_name("ACME-Corp", id));
  EXPECT_EQ(r["endpoints"]["apiServer"], fake->url());
  EXPECT_EQ(r["endpoints"]["console"], "https://console.apps.example/k8s/cluster/projects/" + ns);

  // Checked with kubectl, not with our own client.
  auto n = kubectl_json("get ns " + ns);
  EXPECT_EQ(n["metadata"]["labels"]["provisiond.io/request-id"], id);
  EXPECT_EQ(n["metadata"]["labels"]["provisiond.io/tenant-id"], "ACME-Corp");
  EXPECT_EQ(n["metadata"]["labels"]["provisiond.io/order-id"], "order-7");
  EXPECT_EQ(n["metadata"]["annotations"]["openshift.io/requester"], "provisiond") << "made through a ProjectRequest";
  auto hard = kubectl_json("get resourcequota provisiond-quota -n " + ns)["spec"]["hard"];
  EXPECT_EQ(hard, (json{{"requests.cpu", "2"}, {"limits.cpu", "2"}, {"requests.memory", "4Gi"}, {"limits.memory", "4Gi"},
                        {"requests.storage", "10Gi"}, {"pods", "20"}}));
  auto lr = kubectl_json("get limitrange provisiond-limits -n " + ns);
  EXPECT_EQ(lr["spec"]["limits"][0]["type"], "Container");
  EXPECT_EQ(lr["spec"]["limits"][0]["defaultRequest"]["cpu"], "100m");
  auto rb = kubectl_json("get rolebinding provisiond-admin -n " + ns);
  EXPECT_EQ(rb["roleRef"]["name"], "admin");
  EXPECT_EQ(rb["roleRef"]["kind"], "ClusterRole");
  EXPECT_EQ(rb["subjects"][0]["kind"], "Group");
  EXPECT_EQ(rb["subjects"][0]["name"], "tenant:ACME-Corp");
  auto np = kubectl_json("get networkpolicy provisiond-isolation -n " + ns);
  EXPECT_EQ(np["spec"]["podSelector"], json::object());
  EXPECT_EQ(np["spec"]["ingress"][0]["from"][0]["podSelector"], json::object()) << "the namespace's own pods";
  EXPECT_EQ(np["spec"]["ingress"][0]["from"][1]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
            "openshift-ingress");

  // Suspend: nothing new can run; reactivate restores exactly what was there.
  ASSERT_EQ(post("/v1/requests/" + id + "/suspend", "").status, 200);
  ASSERT_EQ(wait_state(id, {"Suspended"}), "Suspended");
  EXPECT_EQ(kubectl_json("get resourcequota provisiond-quota -n " + ns)["spec"]["hard"]["pods"], "0");
  EXPECT_EQ(kubectl_json("get networkpolicy provisiond-suspended -n " + ns)["spec"]["policyTypes"],
            json::array({"Ingress", "Egress"}));
  ASSERT_EQ(post("/v1/requests/" + id + "/reactivate", "").status, 200);
  for (int i = 0; i < 200 && request(id)["state"] != "Completed"; ++i) std::this_thread::sleep_for(20ms);
  auto restored = kubectl_json("get resourcequota provisiond-quota -n " + ns);
  EXPECT_EQ(restored["spec"]["hard"], hard);
  EXPECT_FALSE(restored["metadata"].value("annotations", json::object()).contains("provisiond.io/pods-before-suspend"));
  EXPECT_EQ(kubectl("get networkpolicy provisiond-suspended -n " + ns).rc, 1) << "the deny-all policy is gone";

  ASSERT_EQ(post("/v1/requests/" + id + "/deprovision", "").status, 200);
  ASSERT_EQ(wait_state(id, {"RolledBack"}, 30s), "RolledBack");
  auto gone = kubectl("get ns " + ns);
  EXPECT_NE(gone.out.find("NotFound"), std::string::npos) << gone.out;
}

TEST_F(Kubernetes, ARefusedRoleBindingRollsBackAndTheNamespaceIsGone) {
  start_with(cluster());
  faults({{"rules", json::array({{{"method", "PATCH"}, {"pathPrefix", "/apis/rbac.authorization.k8s.io/"},
                                  {"status", 403}, {"reason", "Forbidden"}, {"times", 100},
                                  {"message", "rolebindings.rbac.authorization.k8s.io is forbidden: User \"system:serviceaccount:p:sa\" cannot create resource \"rolebindings\""}}})}});
  auto id = submit("acme", "o-rb");
  ASSERT_EQ(wait_state(id, {"RolledBack", "Completed"}, 60s), "RolledBack");
  auto r = request(id);
  EXPECT_EQ(r["steps"][1]["status"], "Failed");
  EXPECT_EQ(r["steps"][1]["attempts"], 1) << "403 is permanent";
  EXPECT_NE(r["failure"]["reason"].get<std::string>().find("forbidden"), std::string::npos) << r.dump();
  auto gone = kubectl("get ns " + k8s::namespace_name("acme", id));
  EXPECT_NE(gone.out.find("NotFound"), std::string::npos) << gone.out;
}

TEST_F(Kubernetes, KillDashNineAfterTheNamespaceCreateLeavesExactlyOneNamespace) {
  ::setenv("PROVISIOND_FAILPOINT", "kubernetes-after-namespace-create", 1);
  start_with(cluster({{"projectRequest", false}}));
  ::unsetenv("PROVISIOND_FAILPOINT");
  auto id = submit("acme", "o-crash");
  for (int i = 0; i < 400 && http_call(proc.port(), "GET", "/healthz").status != 0; ++i) std::this_thread::sleep_for(25ms);
  ASSERT_EQ(http_call(proc.port(), "GET", "/healthz").status, 0) << "the failpoint did not fire";
  proc.crash();
  start_server();
  ASSERT_EQ(wait_state(id, {"Completed", "Failed", "RolledBack"}, 60s), "Completed") << request(id).dump();
  auto labelled = kubectl_json("get ns -l provisiond.io/request-id=" + id);
  EXPECT_EQ(labelled["items"].size(), 1u) << "exactly one namespace for the request";
  int namespace_writes = 0;
  for (auto& e : faults(json::object())["log"])
    if (e[1] == "/api/v1/namespaces/" + k8s::namespace_name("acme", id) && e[0] != "GET") ++namespace_writes;
  EXPECT_LE(namespace_writes, 2) << "one apply before the crash, at most one after: no 409 storm";
}

TEST_F(Kubernetes, ALongTerminatingPhaseIsReportedThenTheDeprovisionFinishes) {
  start_with(cluster({{"deleteWaitSec", 0}}));
  auto id = submit("acme", "o-slow");
  ASSERT_EQ(wait_state(id, {"Completed", "Failed", "RolledBack"}, 60s), "Completed") << request(id).dump();
  faults({{"terminatingSeconds", 3}});
  ASSERT_EQ(post("/v1/requests/" + id + "/deprovision", "").status, 200);
  std::string reported;
  for (int i = 0; i < 200 && reported.empty(); ++i) {
    auto r = request(id);
    if (r.contains("rollback")) reported = r["rollback"]["lastError"];
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_NE(reported.find("is still Terminating"), std::string::npos) << "reported, not forgotten: " << reported;
  ASSERT_EQ(wait_state(id, {"RolledBack"}, 60s), "RolledBack");
  EXPECT_NE(kubectl("get ns " + k8s::namespace_name("acme", id)).out.find("NotFound"), std::string::npos);
}

TEST_F(Kubernetes, TransientFaultsAreRetriedAndACreateWhoseAnswerWasLostIsAdopted) {
  start_with(cluster({{"projectRequest", false}}));
  // The namespace is created but its answer never arrives; then the quota
  // apply meets a 429 and a 503, and everything is slow.
  faults({{"dropAfterCreate", 1},
          {"latencyMs", 20},
          {"rules", json::array({{{"method", "PATCH"}, {"pathPrefix", "/api/v1/namespaces/t-acme-"}, {"status", 429},
                                  {"reason", "TooManyRequests"}, {"times", 1}},
                                 {{"method", "GET"}, {"pathPrefix", "/api/v1/namespaces/t-acme-"}, {"status", 503},
                                  {"reason", "ServiceUnavailable"}, {"times", 1}}})}});
  auto id = submit("acme", "o-faults");
  ASSERT_EQ(wait_state(id, {"Completed", "Failed", "RolledBack"}, 90s), "Completed") << request(id).dump();
  auto r = request(id);
  EXPECT_GE(r["steps"][0]["attempts"].get<int>(), 4) << "the 503, the 429 and the lost answer were each retried";
  EXPECT_EQ(kubectl_json("get ns -l provisiond.io/request-id=" + id)["items"].size(), 1u);
}
