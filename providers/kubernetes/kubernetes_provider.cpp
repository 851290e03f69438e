#include "providers/kubernetes/kubernetes_provider.hpp"
#include "common/json.hpp"

#include <chrono>
#include <map>
#include <mutex>

#include <nlohmann/json.hpp>

#include "common/failpoint.hpp"
#include "providers/detail/session_cache.hpp"
#include "providers/detail/json_reply.hpp"
#include "providers/http/http_client.hpp"

namespace provisiond::providers::kubernetes {

using nlohmann::json;
using events::step_kind;

namespace {

constexpr const char* manager = "provisiond";
constexpr const char* label_request = "provisiond.io/request-id";
constexpr const char* label_tenant = "provisiond.io/tenant-id";
constexpr const char* label_order = "provisiond.io/order-id";
constexpr const char* quota_name = "provisiond-quota";
constexpr const char* limits_name = "provisiond-limits";
constexpr const char* binding_name = "provisiond-admin";
constexpr const char* policy_name = "provisiond-isolation";
constexpr const char* suspended_policy = "provisiond-suspended";
constexpr const char* pods_before_suspend = "provisiond.io/pods-before-suspend";

std::string str_or(const json& j, const char* k, std::string fallback = {}) {
  return j.is_object() && j.contains(k) && j.at(k).is_string() ? j.at(k).get<std::string>() : fallback;
}

// A label value: at most 63 of [A-Za-z0-9-_.], starting and ending alphanumeric.
std::string label_value(const std::string& s) {
  std::string out;
  for (char c : s)
    out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '-';
  if (out.size() > 63) out.resize(63);
  while (!out.empty() && !std::isalnum(static_cast<unsigned char>(out.back()))) out.pop_back();
  while (!out.empty() && !std::isalnum(static_cast<unsigned char>(out.front()))) out.erase(out.begin());
  return out;
}

std::string ns_path(const std::string& ns) { return "/api/v1/namespaces/" + ns; }
std::string quota_path(const std::string& ns) { return ns_path(ns) + "/resourcequotas/" + quota_name; }
std::string limits_path(const std::string& ns) { return ns_path(ns) + "/limitranges/" + limits_name; }
std::string binding_path(const std::string& ns) {
  return "/apis/rbac.authorization.k8s.io/v1/namespaces/" + ns + "/rolebindings/" + binding_name;
}
std::string policy_path(const std::string& ns, const std::string& name = policy_name) {
  return "/apis/networking.k8s.io/v1/namespaces/" + ns + "/networkpolicies/" + name;
}

using reply = detail::json_reply;

}  // namespace

result<settings> parse_settings(const std::string& connection_json) {
  auto j = parse_json_lenient(connection_json);
  if (!j.is_object()) return make_error(errc::invalid_argument, "expected an object", "connection");
  settings s;
  for (auto [k, out] : std::initializer_list<std::pair<const char*, std::string*>>{
           {"server", &s.server}, {"token", &s.token}, {"caFile", &s.ca_file}, {"subjectKind", &s.subject_kind},
           {"subjectPrefix", &s.subject_prefix}, {"ingressNamespace", &s.ingress_namespace},
           {"consoleUrl", &s.console_url}}) {
    if (!j.contains(k)) continue;
    if (!j[k].is_string()) return make_error(errc::invalid_argument, "expected a string", std::string("connection.") + k);
    *out = j[k].get<std::string>();
  }
  for (auto [k, out] : std::initializer_list<std::pair<const char*, bool*>>{
           {"insecure", &s.insecure}, {"projectRequest", &s.project_request}, {"verifyAccess", &s.verify_access}}) {
    if (!j.contains(k)) continue;
    if (!j[k].is_boolean()) return make_error(errc::invalid_argument, "expected true or false", std::string("connection.") + k);
    *out = j[k].get<bool>();
  }
  for (auto [k, out] : std::initializer_list<std::pair<const char*, int*>>{{"maxPods", &s.max_pods},
                                                                           {"deleteWaitSec", &s.delete_wait_s}}) {
    if (!j.contains(k)) continue;
    if (!j[k].is_number_integer() || j[k].get<int>() < 0)
      return make_error(errc::invalid_argument, "expected a non-negative integer", std::string("connection.") + k);
    *out = j[k].get<int>();
  }
  while (!s.server.empty() && s.server.back() == '/') s.server.pop_back();
  if (s.server.rfind("https://", 0) != 0)
    return make_error(errc::invalid_argument, "required: the API server's https:// URL", "connection.server");
  if (auto u = http::parse_url(s.server); !u)
    return make_error(errc::invalid_argument, "expected the API server's https:// URL: " + u.error().message,
                      "connection.server");
  if (s.token.empty()) return make_error(errc::invalid_argument, "required: a bearer token", "connection.token");
  if (s.subject_kind != "Group" && s.subject_kind != "User")
    return make_error(errc::invalid_argument, "expected Group or User", "connection.subjectKind");
  return s;
}

const char* kind_of(distribution d) { return d == distribution::kubernetes ? "kubernetes" : "openshift"; }

status check_distribution(const settings& s, distribution d) {
  if (d != distribution::kubernetes) return ok();
  if (s.project_request)
    return make_error(errc::invalid_argument,
                      "OpenShift only: a kubernetes cluster gets a plain Namespace; omit it, set it false, or register "
                      "the cluster as openshift",
                      "connection.projectRequest");
  if (!s.console_url.empty())
    return make_error(errc::invalid_argument,
                      "OpenShift only: a kubernetes cluster has no console link; omit it or register the cluster as "
                      "openshift",
                      "connection.consoleUrl");
  return ok();
}

settings for_distribution(settings s, distribution d) {
  if (d == distribution::kubernetes) {
    s.project_request = false;
    s.console_url.clear();
  }
  return s;
}

std::string namespace_name(const std::string& tenant_id, const std::string& request_id) {
  std::string t;
  for (char c : tenant_id) {
    char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool ok = (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9');
    if (ok) t += l;
    else if (!t.empty() && t.back() != '-') t += '-';
  }
  if (t.size() > 40) t.resize(40);
  while (!t.empty() && t.back() == '-') t.pop_back();
  if (t.empty()) t = "x";
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a of the full ids: unique however long they are
  for (unsigned char c : tenant_id + "/" + request_id) h = (h ^ c) * 1099511628211ULL;
  static constexpr char d[] = "0123456789abcdef";
  std::string hex;
  for (int i = 0; i < 10; ++i, h >>= 4) hex += d[h & 0xf];
  return "t-" + t + "-" + hex;
}

error classify(int status, const std::string& body, const std::string& what) {
  auto j = parse_json_lenient(body);
  auto reason = str_or(j, "reason");
  auto message = str_or(j, "message", body.substr(0, 300));
  auto msg = what + ": HTTP " + std::to_string(status) + (reason.empty() ? "" : " " + reason) + ": " + message;
  bool terminating = false;
  if (j.is_object() && j.contains("details") && j["details"].is_object())
    for (auto& c : j["details"].value("causes", json::array()))
      if (str_or(c, "reason") == "NamespaceTerminating") terminating = true;
  switch (status) {
    case 401: return permanent_error("unauthorized", msg);
    case 403: return terminating ? retryable_error("namespace_terminating", msg) : permanent_error("forbidden", msg);
    case 404: return permanent_error("not_found", msg);
    case 409: return reason == "AlreadyExists" ? permanent_error("already_exists", msg) : retryable_error("conflict", msg);
    case 422: return permanent_error("invalid", msg);
    case 429: return retryable_error("rate_limited", msg);
    default:
      if (status >= 500) return retryable_error("server_error", msg);
      return permanent_error("unexpected", msg);
  }
}

namespace {

struct session {
  settings cfg;
  std::unique_ptr<http::client> http;

  // One call; a 401 is retried once (a token being rotated), then permanent.
  result<reply> call(const std::string& method, const std::string& path, const json& body = nullptr,
                     const std::string& content_type = "application/json",
                     const std::vector<std::pair<std::string, std::string>>& extra = {}) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      http::request r{method, cfg.server + path, {{"Authorization", "Bearer " + cfg.token}, {"Accept", "application/json"}}, ""};
      for (auto& h : extra) r.headers.push_back(h);
      if (!body.is_null()) {
        r.headers.emplace_back("Content-Type", content_type);
        r.body = body.dump();
      }
      auto out = http->send(r);
      if (!out) return out.error();
      if (out->status == 401 && attempt == 0) continue;
      return detail::to_json_reply(std::move(*out));
    }
    return permanent_error("unauthorized", "unreachable");
  }

  result<json> expect(result<reply> r, std::initializer_list<int> ok, const std::string& what) {
    if (!r) return r.error();
    for (int c : ok)
      if (r->status == c) return r->body.is_discarded() ? json::object() : r->body;
    return classify(r->status, r->raw, what);
  }

  // Server-side apply with the fixed field manager: creates or converges.
  result<json> apply(const std::string& path, const json& object, const std::string& what) {
    return expect(call("PATCH", path + "?fieldManager=" + manager + "&force=true", object, "application/apply-patch+yaml"),
                  {200, 201}, what);
  }

  // DELETE that counts 404 as done.
  status remove(const std::string& path, const std::string& what) {
    auto r = call("DELETE", path);
    if (!r) return r.error();
    if (r->status == 200 || r->status == 202 || r->status == 404) return ok();
    return classify(r->status, r->raw, what);
  }
};

json quota_object(const std::string& ns, const step_call& c, int pods) {
  auto gi = [](int v) { return std::to_string(v) + "Gi"; };
  return {{"apiVersion", "v1"},
          {"kind", "ResourceQuota"},
          {"metadata", {{"name", quota_name}, {"namespace", ns}}},
          {"spec",
           {{"hard",
             {{"requests.cpu", std::to_string(c.resources.cpu)},
              {"limits.cpu", std::to_string(c.resources.cpu)},
              {"requests.memory", gi(c.resources.memory_gb)},
              {"limits.memory", gi(c.resources.memory_gb)},
              {"requests.storage", gi(c.resources.storage_gb)},
              {"pods", std::to_string(pods)}}}}}};
}

json limits_object(const std::string& ns) {
  return {{"apiVersion", "v1"},
          {"kind", "LimitRange"},
          {"metadata", {{"name", limits_name}, {"namespace", ns}}},
          {"spec",
           {{"limits",
             json::array({{{"type", "Container"},
                           {"default", {{"cpu", "500m"}, {"memory", "512Mi"}}},
                           {"defaultRequest", {{"cpu", "100m"}, {"memory", "128Mi"}}}}})}}}};
}

json binding_object(const std::string& ns, const settings& cfg, const std::string& tenant) {
  return {{"apiVersion", "rbac.authorization.k8s.io/v1"},
          {"kind", "RoleBinding"},
          {"metadata", {{"name", binding_name}, {"namespace", ns}}},
          {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", "admin"}}},
          {"subjects",
           json::array({{{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", cfg.subject_kind},
                         {"name", cfg.subject_prefix + tenant}}})}};
}

json policy_object(const std::string& ns, const settings& cfg) {
  json from = json::array({{{"podSelector", json::object()}}});
  if (!cfg.ingress_namespace.empty())
    from.push_back({{"namespaceSelector", {{"matchLabels", {{"kubernetes.io/metadata.name", cfg.ingress_namespace}}}}}});
  return {{"apiVersion", "networking.k8s.io/v1"},
          {"kind", "NetworkPolicy"},
          {"metadata", {{"name", policy_name}, {"namespace", ns}}},
          {"spec", {{"podSelector", json::object()}, {"policyTypes", json::array({"Ingress"})},
                    {"ingress", json::array({{{"from", from}}})}}}};
}

class kubernetes_provider final : public provider {
 public:
  kubernetes_provider(std::function<result<std::string>(const std::string&)> connection_of, std::shared_ptr<clock> clk,
                      distribution d)
      : clk_(std::move(clk)),
        distribution_(d),
        sessions_(std::move(connection_of), [d](const std::string& c) { return make_session(c, d); }) {}

  std::string kind() const override { return kind_of(distribution_); }

  status validate_connection(const std::string& connection_json) const override {
    auto s = parse_settings(connection_json);
    if (!s) return s.error();
    return check_distribution(*s, distribution_);
  }

  result<step_outcome> execute(const step_call& call) override {
    auto s = session_for(call.cluster_id.str());
    if (!s) return s.error();
    auto ns = namespace_name(call.tenant_id.str(), call.request_id.str());
    switch (call.step) {
      case step_kind::allocate: return allocate(**s, call, ns);
      case step_kind::configure: return configure(**s, call, ns);
      case step_kind::activate: return activate(**s, ns);
      case step_kind::verify: return verify(**s, call, ns);
    }
    return permanent_error("bug", "unknown step");
  }

  result<std::optional<step_outcome>> lookup(const step_call& call) override {
    // Server-side apply converges whatever exists; running the step again is
    // the lookup. Only an interrupted allocate needs care, and it adopts by label.
    (void)call;
    return std::optional<step_outcome>{};
  }

  result<std::vector<std::string>> release(const release_call& call) override {
    auto s = session_for(call.cluster_id.str());
    if (!s) return s.error();
    auto ns = find_namespace(**s, call.request_id.str(), call.known);
    if (!ns) return ns.error();
    std::vector<std::string> ids;
    if (ns->empty()) {  // already gone
      for (auto& r : call.known) ids.push_back(r.id);
      return ids;
    }
    if (call.step == step_kind::configure) {
      for (auto& [path, id] : {std::pair{binding_path(*ns), std::string("rolebinding/") + binding_name},
                               std::pair{policy_path(*ns), std::string("networkpolicy/") + policy_name}}) {
        if (auto st = (*s)->remove(path, "delete " + id); !st) return st.error();
        ids.push_back(*ns + "/" + id);
      }
      return ids;
    }
    if (call.step != step_kind::allocate) return ids;
    if (auto st = (*s)->remove(ns_path(*ns), "delete namespace " + *ns); !st) return st.error();
    // Deletion is asynchronous: done only when the namespace answers 404.
    auto deadline = clk_->now() + time_ms{(*s)->cfg.delete_wait_s} * 1000;
    for (;;) {
      auto r = (*s)->call("GET", ns_path(*ns));
      if (!r) return r.error();
      if (r->status == 404) break;
      if (clk_->now() >= deadline)
        return retryable_error("terminating", "namespace " + *ns + " is still " +
                                                  str_or(r->body.value("status", json::object()), "phase", "present") +
                                                  " (deleted since " +
                                                  str_or(r->body.value("metadata", json::object()), "deletionTimestamp", "?") +
                                                  "); checking again");
      clk_->sleep_for(poll_interval_ms);
    }
    ids.push_back(*ns);
    return ids;
  }

  status set_power(const provisiond::request_id& request, const provisiond::cluster_id& cluster, bool on) override {
    const std::string& request_id = request.str();
    const std::string& cluster_id = cluster.str();
    auto s = session_for(cluster_id);
    if (!s) return s.error();
    auto ns = find_namespace(**s, request_id, {});
    if (!ns) return ns.error();
    if (ns->empty()) return permanent_error("not_found", "no namespace labelled " + std::string(label_request) + "=" + request_id);
    auto quota = (*s)->expect((*s)->call("GET", quota_path(*ns)), {200}, "get quota");
    if (!quota) return quota.error();
    auto annotations = (*quota)["metadata"].value("annotations", json::object());
    auto pods = str_or((*quota)["spec"]["hard"], "pods", "0");
    if (!on) {
      // Nothing new may run: no pods, no traffic. The pod count is kept to restore.
      json patch{{"spec", {{"hard", {{"pods", "0"}}}}}};
      if (!annotations.contains(pods_before_suspend)) patch["metadata"]["annotations"][pods_before_suspend] = pods;
      auto r = (*s)->expect((*s)->call("PATCH", quota_path(*ns), patch, "application/merge-patch+json"), {200},
                            "suspend quota");
      if (!r) return r.error();
      json deny{{"apiVersion", "networking.k8s.io/v1"},
                {"kind", "NetworkPolicy"},
                {"metadata", {{"name", suspended_policy}, {"namespace", *ns}}},
                {"spec", {{"podSelector", json::object()}, {"policyTypes", json::array({"Ingress", "Egress"})}}}};
      auto a = (*s)->apply(policy_path(*ns, suspended_policy), deny, "apply deny-all policy");
      if (!a) return a.error();
      return ok();
    }
    if (annotations.contains(pods_before_suspend)) {
      json patch{{"spec", {{"hard", {{"pods", str_or(annotations, pods_before_suspend)}}}}},
                 {"metadata", {{"annotations", {{pods_before_suspend, nullptr}}}}}};
      auto r = (*s)->expect((*s)->call("PATCH", quota_path(*ns), patch, "application/merge-patch+json"), {200},
                            "restore quota");
      if (!r) return r.error();
    }
    return (*s)->remove(policy_path(*ns, suspended_policy), "delete deny-all policy");
  }

  status check(const cluster_config& cluster) override {
    auto s = make_session(cluster.connection, distribution_);
    if (!s) return s.error();
    auto v = (*s)->expect((*s)->call("GET", "/version"), {200}, "GET /version");
    if (!v) return v.error();
    auto l = (*s)->expect((*s)->call("GET", "/api/v1/namespaces?limit=1"), {200}, "list namespaces");
    if (!l) return l.error();
    return ok();
  }

 private:
  static constexpr time_ms poll_interval_ms = 250;

  static result<std::shared_ptr<session>> make_session(const std::string& connection, distribution d) {
    auto cfg = parse_settings(connection);
    if (!cfg) return permanent_error("config", cfg.error().field + ": " + cfg.error().message);
    auto s = std::make_shared<session>();
    s->cfg = for_distribution(*cfg, d);
    http::client_options o;
    o.ca_file = cfg->ca_file;
    o.verify_peer = !cfg->insecure;
    o.io_timeout = std::chrono::seconds(30);
    s->http = std::make_unique<http::client>(o);
    return s;
  }

  result<std::shared_ptr<session>> session_for(const std::string& cluster_id) { return sessions_.get(cluster_id); }

  // The request's namespace: by the journal's record, else by label; empty when gone.
  result<std::string> find_namespace(session& s, const std::string& request_id,
                                     const std::vector<events::resource_ref>& known) {
    for (auto& r : known)
      if (r.kind == "namespace") {
        auto g = s.call("GET", ns_path(r.id));
        if (!g) return g.error();
        if (g->status == 200) return r.id;
      }
    auto list = s.expect(s.call("GET", std::string("/api/v1/namespaces?labelSelector=") + label_request + "%3D" +
                                           label_value(request_id)),
                         {200}, "list namespaces");
    if (!list) return list.error();
    auto items = list->value("items", json::array());
    return items.empty() ? std::string{} : str_or(items[0]["metadata"], "name");
  }

  result<step_outcome> allocate(session& s, const step_call& c, const std::string& ns) {
    json labels{{label_request, label_value(c.request_id.str())},
                {label_tenant, label_value(c.tenant_id.str())},
                {label_order, label_value(c.order_id)}};
    json annotations{{"provisiond.io/request", c.request_id.str()}, {"provisiond.io/tenant", c.tenant_id.str()},
                     {"provisiond.io/order", c.order_id}};
    auto existing = s.call("GET", ns_path(ns));
    if (!existing) return existing.error();
    if (existing->status == 200) {
      // Adopt only what carries this request's label (a retry, or a crash after the create).
      auto have = existing->body["metadata"].value("labels", json::object());
      bool ours = str_or(have, label_request) == label_value(c.request_id.str()) ||
                  str_or(existing->body["metadata"].value("annotations", json::object()), "openshift.io/description") ==
                      "provisiond request " + c.request_id.str();
      if (!ours) return permanent_error("already_exists", "namespace " + ns + " exists and is not this request's");
      if (str_or(existing->body.value("status", json::object()), "phase") == "Terminating")
        return retryable_error("namespace_terminating", "namespace " + ns + " is still terminating");
    } else if (existing->status == 404 && s.cfg.project_request) {
      json pr{{"apiVersion", "project.openshift.io/v1"},
              {"kind", "ProjectRequest"},
              {"metadata", {{"name", ns}}},
              {"displayName", c.tenant_id.str() + " " + c.order_id},
              {"description", "provisiond request " + c.request_id.str()}};
      auto r = s.call("POST", "/apis/project.openshift.io/v1/projectrequests", pr);
      if (!r) return r.error();
      if (r->status != 201 && r->status != 200) return classify(r->status, r->raw, "create project " + ns);
    } else if (existing->status != 404) {
      return classify(existing->status, existing->raw, "get namespace " + ns);
    }
    json namespace_obj{{"apiVersion", "v1"},
                       {"kind", "Namespace"},
                       {"metadata", {{"name", ns}, {"labels", labels}, {"annotations", annotations}}}};
    auto applied = s.apply(ns_path(ns), namespace_obj, "apply namespace " + ns);
    failpoint("kubernetes-after-namespace-create");  // tests: die right after the create was sent
    if (!applied) return applied.error();
    auto q = s.apply(quota_path(ns), quota_object(ns, c, s.cfg.max_pods), "apply resource quota");
    if (!q) return q.error();
    auto l = s.apply(limits_path(ns), limits_object(ns), "apply limit range");
    if (!l) return l.error();
    step_outcome out;
    out.resources.push_back({ns, "namespace", step_kind::allocate, {}});
    out.outputs["namespace"] = ns;
    return out;
  }

  result<step_outcome> configure(session& s, const step_call& c, const std::string& ns) {
    auto b = s.apply(binding_path(ns), binding_object(ns, s.cfg, c.tenant_id.str()), "apply role binding");
    if (!b) return b.error();
    auto p = s.apply(policy_path(ns), policy_object(ns, s.cfg), "apply network policy");
    if (!p) return p.error();
    step_outcome out;
    out.resources.push_back({ns + "/rolebinding/" + binding_name, "rolebinding", step_kind::configure, {}});
    out.resources.push_back({ns + "/networkpolicy/" + policy_name, "networkpolicy", step_kind::configure, {}});
    return out;
  }

  result<step_outcome> activate(session& s, const std::string& ns) {
    auto deadline = clk_->now() + 30'000;
    for (;;) {
      auto n = s.expect(s.call("GET", ns_path(ns)), {200}, "get namespace");
      if (!n) return n.error();
      auto q = s.expect(s.call("GET", quota_path(ns)), {200}, "get quota");
      if (!q) return q.error();
      auto phase = str_or(n->value("status", json::object()), "phase");
      bool counted = q->contains("status") && !(*q)["status"].value("hard", json::object()).empty();
      if (phase == "Active" && counted) break;
      if (clk_->now() >= deadline)
        return retryable_error("not_ready", "namespace " + ns + " is " + phase +
                                                (counted ? "" : "; its quota has no status yet"));
      clk_->sleep_for(poll_interval_ms);
    }
    step_outcome out;
    out.outputs["phase"] = "Active";
    return out;
  }

  result<step_outcome> verify(session& s, const step_call& c, const std::string& ns) {
    auto mismatch = [&](const std::string& what) { return permanent_error("verify_failed", ns + ": " + what); };
    auto n = s.expect(s.call("GET", ns_path(ns)), {200}, "get namespace");
    if (!n) return n.error();
    if (str_or((*n)["metadata"].value("labels", json::object()), label_request) != label_value(c.request_id.str()))
      return mismatch("the namespace lacks its request label");
    auto q = s.expect(s.call("GET", quota_path(ns)), {200}, "get quota");
    if (!q) return q.error();
    if ((*q)["spec"]["hard"] != quota_object(ns, c, s.cfg.max_pods)["spec"]["hard"]) return mismatch("quota differs");
    auto l = s.expect(s.call("GET", limits_path(ns)), {200}, "get limit range");
    if (!l) return l.error();
    if ((*l)["spec"] != limits_object(ns)["spec"]) return mismatch("limit range differs");
    auto b = s.expect(s.call("GET", binding_path(ns)), {200}, "get role binding");
    if (!b) return b.error();
    auto want = binding_object(ns, s.cfg, c.tenant_id.str());
    if ((*b)["roleRef"] != want["roleRef"] || (*b)["subjects"] != want["subjects"]) return mismatch("role binding differs");
    auto p = s.expect(s.call("GET", policy_path(ns)), {200}, "get network policy");
    if (!p) return p.error();
    if ((*p)["spec"] != policy_object(ns, s.cfg)["spec"]) return mismatch("network policy differs");
    step_outcome out;
    if (s.cfg.verify_access) {
      // As the tenant: may it create deployments in its namespace?
      json review{{"apiVersion", "authorization.k8s.io/v1"},
                  {"kind", "SelfSubjectAccessReview"},
                  {"spec", {{"resourceAttributes", {{"namespace", ns}, {"verb", "create"}, {"group", "apps"},
                                                    {"resource", "deployments"}}}}}};
      auto subject = s.cfg.subject_prefix + c.tenant_id.str();
      std::vector<std::pair<std::string, std::string>> as;
      if (s.cfg.subject_kind == "User") as.emplace_back("Impersonate-User", subject);
      else as = {{"Impersonate-User", "provisiond-check"}, {"Impersonate-Group", subject}};
      auto r = s.expect(s.call("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", review,
                               "application/json", as),
                        {200, 201}, "access review as the tenant");
      if (!r) return r.error();
      if (!(*r).value("status", json::object()).value("allowed", false))
        return mismatch("the tenant may not create deployments in its namespace");
      out.outputs["accessCheck"] = "tenant may create deployments";
    }
    out.outputs["apiServer"] = s.cfg.server;
    out.outputs["namespace"] = ns;
    if (!s.cfg.console_url.empty()) out.outputs["console"] = s.cfg.console_url + "/k8s/cluster/projects/" + ns;
    return out;
  }

  std::shared_ptr<clock> clk_;
  distribution distribution_;
  detail::session_cache<session> sessions_;
};

}  // namespace

std::shared_ptr<provider> make_kubernetes_provider(std::function<result<std::string>(const std::string&)> connection_of,
                                                   std::shared_ptr<clock> clk, distribution d) {
  return std::make_shared<kubernetes_provider>(std::move(connection_of), std::move(clk), d);
}

}  // namespace provisiond::providers::kubernetes
