// Plain Kubernetes is the same provider as OpenShift with the OpenShift-only
// settings refused at validation and forced off at run time.
#include <gtest/gtest.h>

#include "common/clock.hpp"
#include "providers/kubernetes/kubernetes_provider.hpp"
#include "tests/unit/providers/fake_rest_server.hpp"

using namespace provisiond;
namespace k8s = provisiond::providers::kubernetes;
namespace pt = provisiond::testing;
using nlohmann::json;

namespace {

std::shared_ptr<providers::provider> provider_of(k8s::distribution d, std::string connection = "{}") {
  return k8s::make_kubernetes_provider([connection](const std::string&) -> result<std::string> { return connection; },
                                       std::make_shared<manual_clock>(), d);
}

providers::step_call call_of(const std::string& request_id, events::step_kind step) {
  providers::step_call c;
  c.request_id = provisiond::request_id{request_id};
  c.tenant_id = tenant_id{"acme"};
  c.order_id = "o-1";
  c.cluster_id = cluster_id{"k1"};
  c.step = step;
  c.resources.cpu = 2;
  c.resources.memory_gb = 4;
  c.resources.storage_gb = 10;
  return c;
}

const char* base = R"({"server":"https://api.example:6443","token":"t"})";

std::string with(const char* extra) {
  auto j = json::parse(base);
  j.update(json::parse(extra));
  return j.dump();
}

}  // namespace

TEST(KubernetesDistribution, TheRegistryFindsBothKinds) {
  providers::provider_registry registry;
  registry.add(provider_of(k8s::distribution::openshift));
  registry.add(provider_of(k8s::distribution::kubernetes));
  ASSERT_NE(registry.find("kubernetes"), nullptr);
  EXPECT_EQ(registry.find("kubernetes")->kind(), "kubernetes");
  ASSERT_NE(registry.find("openshift"), nullptr);
  EXPECT_EQ(registry.find("openshift")->kind(), "openshift");
}

// Given the OpenShift-only settings, then the kubernetes kind refuses them,
// naming the field, and the openshift kind accepts them.
TEST(KubernetesDistribution, KubernetesRefusesProjectRequestAndConsoleUrl) {
  auto kube = provider_of(k8s::distribution::kubernetes);
  auto shift = provider_of(k8s::distribution::openshift);
  for (auto [extra, field] : {std::pair{R"({"projectRequest":true})", "connection.projectRequest"},
                              std::pair{R"({"consoleUrl":"https://console.example"})", "connection.consoleUrl"}}) {
    auto refused = kube->validate_connection(with(extra));
    ASSERT_FALSE(refused.has_value()) << extra;
    EXPECT_EQ(refused.error().code, errc::invalid_argument);
    EXPECT_EQ(refused.error().field, field);
    EXPECT_NE(refused.error().message.find("OpenShift only"), std::string::npos) << refused.error().message;
    EXPECT_TRUE(shift->validate_connection(with(extra)).has_value()) << extra;
  }
  EXPECT_TRUE(kube->validate_connection(with(R"({"projectRequest":false})")).has_value());
  EXPECT_TRUE(kube->validate_connection(base).has_value());
}

// Given a bad connection, then both kinds answer exactly what parse_settings does.
TEST(KubernetesDistribution, ValidationErrorsAreTheSettingsParsersOwn) {
  for (auto d : {k8s::distribution::openshift, k8s::distribution::kubernetes})
    for (const char* conn : {R"({"server":"http://api:6443","token":"t"})", R"({"server":"https://api:6443"})",
                             R"({"server":"https://api:6443","token":"t","maxPods":-1})",
                             R"({"server":"https://api:6443","token":"t","subjectKind":"Robot"})",
                             R"({"server":"https://api:6443","token":"t","insecure":"yes"})", "[]"}) {
      auto parsed = k8s::parse_settings(conn);
      ASSERT_FALSE(parsed.has_value()) << conn;
      auto checked = provider_of(d)->validate_connection(conn);
      ASSERT_FALSE(checked.has_value()) << conn;
      EXPECT_EQ(checked.error().code, parsed.error().code) << conn;
      EXPECT_EQ(checked.error().field, parsed.error().field) << conn;
      EXPECT_EQ(checked.error().message, parsed.error().message) << conn;
    }
}

// Given a stored connection with projectRequest and consoleUrl (one that
// predates validation), when each kind provisions a namespace, then only
// openshift posts a ProjectRequest and links the console; kubernetes applies
// a Namespace and has no console endpoint.
TEST(KubernetesDistribution, KubernetesIgnoresTheOpenShiftSettingsAtRunTime) {
  pt::temp_dir dir;
  ASSERT_TRUE(pt::make_test_ca(dir)) << "openssl CLI failed";
  pt::fake_rest_server api{dir, json::object(), true};
  ASSERT_GT(api.port(), 0);
  json conn{{"server", api.url()},    {"token", "t"},          {"caFile", dir / "ca.pem"},
            {"projectRequest", true}, {"verifyAccess", false}, {"consoleUrl", "https://console.example"}};
  const std::string project_request = "POST /apis/project.openshift.io/v1/projectrequests";

  struct kind_case {
    k8s::distribution d;
    const char* request_id;
    int project_requests;
    bool console;
  };
  int posted = 0;
  for (auto k : {kind_case{k8s::distribution::kubernetes, "req-k", 0, false},
                 kind_case{k8s::distribution::openshift, "req-o", 1, true}}) {
    auto p = provider_of(k.d, conn.dump());
    auto ns = k8s::namespace_name("acme", k.request_id);
    auto allocated = p->execute(call_of(k.request_id, events::step_kind::allocate));
    ASSERT_TRUE(allocated.has_value()) << p->kind() << ": " << allocated.error().message;
    EXPECT_EQ(allocated->outputs.at("namespace"), ns);
    ASSERT_TRUE(p->execute(call_of(k.request_id, events::step_kind::configure)).has_value()) << p->kind();
    auto verified = p->execute(call_of(k.request_id, events::step_kind::verify));
    ASSERT_TRUE(verified.has_value()) << p->kind() << ": " << verified.error().message;

    posted += k.project_requests;
    EXPECT_EQ(api.count(project_request), posted) << p->kind();
    EXPECT_EQ(api.count("PATCH /api/v1/namespaces/" + ns + "?fieldManager=provisiond&force=true"), 1) << p->kind();
    EXPECT_EQ(verified->outputs.count("console"), k.console ? 1u : 0u) << p->kind();
    EXPECT_EQ(verified->outputs.at("namespace"), ns);
  }
}
