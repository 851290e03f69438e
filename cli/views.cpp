#include "cli/views.hpp"

#include <array>

#include "cli/table.hpp"

namespace provisiond::cli {

namespace {

const json& member(const json& obj, const char* key) {
  static const json none;
  if (!obj.is_object()) return none;
  auto it = obj.find(key);
  return it == obj.end() ? none : *it;
}

const json& items_of(const json& page) {
  static const json empty = json::array();
  const auto& items = member(page, "items");
  return items.is_array() ? items : empty;
}

// "cpu 2, memory 4 GB, storage 40 GB" from {cpu, memoryGb, storageGb}.
std::string resources_text(const json& r) {
  if (!r.is_object()) return "";
  std::string out;
  auto add = [&](const char* key, const char* label, const char* unit) {
    if (!r.contains(key)) return;
    out += (out.empty() ? "" : ", ") + std::string(label) + " " + text_of(r[key]) + unit;
  };
  add("cpu", "cpu", "");
  add("memoryGb", "memory", " GB");
  add("storageGb", "storage", " GB");
  add("vmSlots", "vm slots", "");
  add("instances", "instances", "");
  return out;
}

std::string joined(const json& arr) {
  if (!arr.is_array()) return text_of(arr);
  std::string out;
  for (const auto& v : arr) out += (out.empty() ? "" : ", ") + text_of(v);
  return out;
}

// "used/capacity" of one capacity dimension.
std::string used_of(const json& c, const char* key) {
  auto used = field_text(member(c, "used"), key);
  auto cap = field_text(member(c, "capacity"), key);
  return (used.empty() ? "?" : used) + "/" + cap;
}

std::string limit_text(const json& v) {
  return v.is_null() ? "unlimited" : text_of(v);
}

}  // namespace

std::string text_of(const json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

std::string field_text(const json& obj, const char* key) {
  return text_of(member(obj, key));
}

std::string event_detail(const std::string& type, const json& data) {
  if (!data.is_object() || data.empty()) return "";
  if (type == "request_submitted")
    return field_text(data, "tenantId") + " " + field_text(data, "orderId") + " " + field_text(data, "type") + " " +
           field_text(data, "region") + " (" + resources_text(member(data, "resources")) + ")";
  if (type == "cluster_placed") return field_text(data, "reason");
  if (data.contains("amount")) return resources_text(member(data, "amount"));
  if (type == "request_completed" && member(data, "endpoints").is_object()) {
    std::string out;
    for (auto& [k, v] : data["endpoints"].items()) out += (out.empty() ? "" : ", ") + k + " " + text_of(v);
    return out;
  }
  std::string out;
  auto add = [&](const std::string& s) {
    if (!s.empty()) out += (out.empty() ? "" : " ") + s;
  };
  if (data.contains("step")) {
    add(field_text(data, "step"));
    if (data.contains("attempt")) add("attempt " + field_text(data, "attempt"));
    add(field_text(data, "code"));
    add(field_text(data, "message"));
    if (type == "resource_allocated") add(field_text(member(data, "resource"), "id"));
    if (!out.empty()) return out;
  }
  if (type == "resource_allocated") {
    const auto& res = member(data, "resource");
    return field_text(res, "kind") + " " + field_text(res, "id");
  }
  // Admin state: the thing saved or deleted, by id and name.
  for (const char* key : {"cluster", "rule", "webhook"})
    if (const auto& thing = member(data, key); thing.is_object())
      return std::string(key) + " " + field_text(thing, "id") + " " + field_text(thing, "name");
  for (const char* key : {"tenantId", "clusterId", "action", "code", "reason", "comment", "message", "ruleName", "id"})
    add(field_text(data, key));
  if (!out.empty()) return shorten(out, 200);
  return shorten(data.dump(), 200);
}

void print_request(std::ostream& out, const json& r) {
  std::string failure;
  if (const auto& f = member(r, "failure"); f.is_object())
    failure = field_text(f, "code") + ": " + field_text(f, "reason");
  std::string approval;
  if (const auto& a = member(r, "approval"); a.is_object()) {
    approval = field_text(a, "state") + " (rule " + field_text(a, "ruleName") + ")";
    if (auto why = field_text(a, "comment") + field_text(a, "reason"); !why.empty()) approval += ": " + why;
  }
  print_fields(out, {{"ID", field_text(r, "id")},
                     {"Tenant", field_text(r, "tenantId")},
                     {"Order", field_text(r, "orderId")},
                     {"Type", field_text(r, "type")},
                     {"Provider", field_text(r, "provider")},
                     {"Region", field_text(r, "region")},
                     {"Cluster", field_text(r, "clusterId")},
                     {"State", field_text(r, "state")},
                     {"Resources", resources_text(member(r, "resources"))},
                     {"Depends on", joined(member(r, "dependsOn"))},
                     {"Failure", failure},
                     {"Approval", approval},
                     {"Waiting for", field_text(member(r, "awaitingManualInput"), "message")},
                     {"Pending action", field_text(r, "pendingAction")},
                     {"Last action error", field_text(r, "lastActionError")},
                     {"Rollback error", field_text(member(r, "rollback"), "lastError")},
                     {"Deprovisioned", member(r, "deprovisioned") == true ? "yes" : ""},
                     {"Created", field_text(r, "createdAt")},
                     {"Updated", field_text(r, "updatedAt")},
                     {"Version", field_text(r, "version")}});
  if (const auto& steps = member(r, "steps"); steps.is_array() && !steps.empty()) {
    out << "\n";
    table t{{"STEP", "STATUS", "ATTEMPTS", "LAST ERROR"}};
    for (const auto& s : steps)
      t.add({field_text(s, "name"), field_text(s, "status"), field_text(s, "attempts"), field_text(s, "lastError")});
    t.print(out);
  }
  if (const auto& res = member(r, "allocatedResources"); res.is_array() && !res.empty()) {
    out << "\n";
    table t{{"RESOURCE", "KIND", "STEP"}};
    for (const auto& x : res) t.add({field_text(x, "id"), field_text(x, "kind"), field_text(x, "step")});
    t.print(out);
  }
  if (const auto& ep = member(r, "endpoints"); ep.is_object() && !ep.empty()) {
    out << "\n";
    table t{{"ENDPOINT", "VALUE"}};
    for (auto& [k, v] : ep.items()) t.add({k, text_of(v)});
    t.print(out);
  }
}

void print_request_list(std::ostream& out, const json& page) {
  table t{{"ID", "TENANT", "TYPE", "REGION", "STATE", "CLUSTER", "UPDATED"}};
  for (const auto& r : items_of(page))
    t.add({field_text(r, "id"), field_text(r, "tenantId"), field_text(r, "type"), field_text(r, "region"),
           field_text(r, "state"), field_text(r, "clusterId"), field_text(r, "updatedAt")});
  t.print(out);
}

void print_events(std::ostream& out, const json& events) {
  table t{{"SEQ", "POSITION", "TIME", "TYPE", "DETAIL"}};
  if (events.is_array())
    for (const auto& e : events) {
      auto type = field_text(e, "type");
      t.add({field_text(e, "seq"), field_text(e, "position"), field_text(e, "time"), type,
             event_detail(type, member(e, "data"))});
    }
  t.print(out);
}

void print_id_state(std::ostream& out, const json& j) {
  table t{{"ID", "STATE"}};
  t.add({field_text(j, "id"), field_text(j, "state")});
  t.print(out);
}

void print_approvals(std::ostream& out, const json& page) {
  table t{{"ID", "TENANT", "TYPE", "REGION", "RESOURCES", "RULE", "MATCHED"}};
  for (const auto& r : items_of(page)) {
    const auto& a = member(r, "approval");
    t.add({field_text(r, "id"), field_text(r, "tenantId"), field_text(r, "type"), field_text(r, "region"),
           resources_text(member(r, "resources")), field_text(a, "ruleName"), joined(member(a, "matched"))});
  }
  t.print(out);
}

void print_manual(std::ostream& out, const json& page) {
  table t{{"ID", "TENANT", "TYPE", "CLUSTER", "SINCE", "WAITING FOR"}};
  for (const auto& r : items_of(page))
    t.add({field_text(r, "id"), field_text(r, "tenantId"), field_text(r, "type"), field_text(r, "clusterId"),
           field_text(r, "updatedAt"), field_text(member(r, "awaitingManualInput"), "message")});
  t.print(out);
}

void print_clusters(std::ostream& out, const json& page) {
  table t{{"ID", "NAME", "TYPE", "REGION", "HEALTH", "PROVISIONING", "BREAKER", "REQUESTS", "CPU", "MEMORY GB",
           "STORAGE GB", "VM SLOTS"}};
  for (const auto& c : items_of(page)) {
    auto enabled = member(c, "provisioningEnabled");
    t.add({field_text(c, "id") + (member(c, "default") == true ? " (default)" : ""), field_text(c, "name"),
           field_text(c, "type"), field_text(c, "region"), field_text(c, "health"),
           enabled.is_boolean() ? (enabled.get<bool>() ? "enabled" : "disabled") : "", field_text(c, "breaker"),
           field_text(c, "requests"), used_of(c, "cpu"), used_of(c, "memoryGb"), used_of(c, "storageGb"),
           used_of(c, "vmSlots")});
  }
  t.print(out);
}

void print_cluster(std::ostream& out, const json& c) {
  auto enabled = member(c, "provisioningEnabled");
  print_fields(out, {{"ID", field_text(c, "id")},
                     {"Name", field_text(c, "name")},
                     {"Type", field_text(c, "type")},
                     {"Region", field_text(c, "region")},
                     {"Default", member(c, "default") == true ? "yes" : "no"},
                     {"Health", field_text(c, "health")},
                     {"Provisioning", enabled.is_boolean() ? (enabled.get<bool>() ? "enabled" : "disabled") : ""},
                     {"Capacity", resources_text(member(c, "capacity"))},
                     {"Available", resources_text(member(c, "available"))},
                     {"Secret fields", joined(member(c, "secretFields"))},
                     {"Breaker", field_text(c, "breaker")}});
}

void print_cluster_test(std::ostream& out, const json& t) {
  table tb{{"SUCCESS", "LATENCY MS", "ERROR"}};
  tb.add({member(t, "success") == true ? "yes" : "no", field_text(t, "latencyMs"), field_text(t, "error")});
  tb.print(out);
}

void print_quota(std::ostream& out, const json& q) {
  table t{{"LIMIT", "VALUE"}};
  for (const char* key : {"maxInstances", "maxCpu", "maxMemoryGb", "maxStorageGb"})
    t.add({key, limit_text(member(q, key))});
  t.print(out);
  if (member(q, "configured") == false)
    out << "(no quota configured for " << printable(field_text(q, "tenantId")) << ": unlimited)\n";
}

void print_usage(std::ostream& out, const json& u) {
  const auto& used = member(u, "usage");
  const auto& quota = member(u, "quota");
  static const std::array<std::pair<const char*, const char*>, 4> dims = {
      {{"instances", "maxInstances"}, {"cpu", "maxCpu"}, {"memoryGb", "maxMemoryGb"}, {"storageGb", "maxStorageGb"}}};
  table t{{"DIMENSION", "USED", "LIMIT"}};
  for (auto [dim, limit] : dims) t.add({dim, field_text(used, dim), limit_text(member(quota, limit))});
  t.print(out);
  out << "\n";
  print_fields(out, {{"In flight", field_text(u, "inFlight") + " of " + field_text(u, "maxInFlight")},
                     {"Waiting", field_text(u, "waiting")}});
}

}  // namespace provisiond::cli
