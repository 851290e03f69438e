// Tenant governance: quotas, usage, approval rules, approvals and the
// approve/reject decisions (quotas and rules through actors::governance,
// decisions and usage through the engine, lists from the projection).
#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "actors/governance/governance.hpp"
#include "actors/tenant/tenant_logic.hpp"
#include "common/ids.hpp"
#include "common/json.hpp"
#include "common/names.hpp"
#include "events/json_mapping.hpp"
#include "gateway/detail/json_http.hpp"
#include "gateway/handlers/handlers.hpp"

namespace provisiond::gateway::handlers {

using nlohmann::json;
namespace ev = provisiond::events;
using detail::bad;
using detail::json_response;

namespace {

// The quota body's fields, in the order of quota_amount's dimensions.
constexpr std::array<std::string_view, 4> quota_fields = {"maxInstances", "maxCpu", "maxMemoryGb", "maxStorageGb"};

// The API field of a quota dimension: "cpu" -> "maxCpu".
std::string quota_field(const std::string& dimension) {
  return "max" + std::string(1, static_cast<char>(std::toupper(static_cast<unsigned char>(dimension[0])))) +
         dimension.substr(1);
}

// A tenant's quota as the API shows it: the stored mapping's dimensions as
// max<Dimension>, unlimited (-1) as null, plus tenantId and configured.
json quota_json(const std::string& tenant, const std::optional<ev::quota_amount>& q) {
  const auto limits = ev::to_json(q.value_or(actors::no_quota));
  json out{{"tenantId", tenant}, {"configured", q.has_value()}};
  for (auto& [dimension, v] : limits.items()) out[quota_field(dimension)] = v.get<int>() < 0 ? json(nullptr) : v;
  return out;
}

result<ev::quota_amount> parse_quota(const std::string& body) {
  auto j = detail::parse_object(body);
  if (!j) return j.error();
  for (auto& [k, v] : j->items()) {
    (void)v;
    if (!is_one_of(quota_fields, k)) return bad(k, "unknown field; expected " + join_names(quota_fields));
  }
  ev::quota_amount q = actors::no_quota;
  int* dims[] = {&q.instances, &q.cpu, &q.memory_gb, &q.storage_gb};
  for (int i = 0; i < 4; ++i) {
    const std::string field{quota_fields[i]};
    if (!j->contains(field) || (*j)[field].is_null()) continue;  // absent: unlimited
    const auto& v = (*j)[field];
    if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() > 1'000'000'000)
      return bad(field, "expected a non-negative integer, or null for unlimited");
    *dims[i] = static_cast<int>(v.get<long long>());
  }
  return q;
}

// A rule as the API shows it: the stored mapping, except a global rule's
// tenantId as null and createdAt as RFC 3339.
json rule_json(const ev::approval_rule& r) {
  auto j = ev::to_json(r);
  if (r.tenant_id.empty()) j["tenantId"] = nullptr;
  j["createdAt"] = format_time(r.created_at);
  return j;
}

result<ev::approval_rule> parse_rule(const std::string& body) {
  auto j = detail::parse_object(body);
  if (!j) return j.error();
  static const std::vector<std::string> known = {"id", "name", "tenantId", "priority", "enabled", "conditions"};
  for (auto& [k, v] : j->items()) {
    (void)v;
    if (std::find(known.begin(), known.end(), k) == known.end())
      return bad(k, "unknown field; expected id, name, tenantId, priority, enabled, conditions");
  }
  ev::approval_rule r;
  if (j->contains("id")) {
    if (!(*j)["id"].is_string() || !is_valid_id((*j)["id"].get<std::string>()))
      return bad("id", "expected 1-64 letters, digits, '.', '_' or '-'");
    r.id = (*j)["id"];
  }
  if (!j->contains("name") || !(*j)["name"].is_string() || (*j)["name"].get<std::string>().empty() ||
      (*j)["name"].get<std::string>().size() > 200)
    return bad("name", "expected a name of 1-200 characters");
  r.name = (*j)["name"];
  if (j->contains("tenantId") && !(*j)["tenantId"].is_null()) {
    if (!(*j)["tenantId"].is_string() || !is_valid_id((*j)["tenantId"].get<std::string>()))
      return bad("tenantId", "expected a tenant id, or null/absent for a global rule");
    r.tenant_id = (*j)["tenantId"];
  }
  if (j->contains("priority")) {
    if (!(*j)["priority"].is_number_integer() || std::abs((*j)["priority"].get<long long>()) > 1'000'000)
      return bad("priority", "expected an integer (larger wins)");
    r.priority = static_cast<int>((*j)["priority"].get<long long>());
  }
  if (j->contains("enabled")) {
    if (!(*j)["enabled"].is_boolean()) return bad("enabled", "expected true or false");
    r.enabled = (*j)["enabled"];
  }
  if (j->contains("conditions")) {
    const auto& c = (*j)["conditions"];
    if (!c.is_object()) return bad("conditions", "expected an object");
    for (auto& [k, v] : c.items()) {
      std::string f = "conditions." + k;
      if (k == "minCpu" || k == "minMemoryGb" || k == "minStorageGb") {
        if (v.is_null()) continue;
        if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() > 1'000'000)
          return bad(f, "expected a non-negative integer");
        auto& slot = k == "minCpu"        ? r.conditions.min_cpu
                     : k == "minMemoryGb" ? r.conditions.min_memory_gb
                                          : r.conditions.min_storage_gb;
        slot = static_cast<int>(v.get<long long>());
      } else if (k == "types" || k == "regions") {
        if (!v.is_array()) return bad(f, "expected an array of strings");
        auto& list = k == "types" ? r.conditions.types : r.conditions.regions;
        for (auto& x : v) {
          if (!x.is_string()) return bad(f, "expected an array of strings");
          list.push_back(x.get<std::string>());
        }
      } else {
        return bad(f, "unknown condition; expected minCpu, minMemoryGb, minStorageGb, types, regions");
      }
    }
  }
  return r;
}

http_response decide(const api_backend& b, const route_call& c, bool approve) {
  const auto& id = c.param("id");
  if (!is_valid_id(id)) return error_response(detail::no_request(id));
  const char* field = approve ? "comment" : "reason";
  std::string text;
  if (!c.req.body.empty()) {
    auto j = detail::parse_object(c.req.body);
    if (!j) return error_response(j.error());
    for (auto& [k, v] : j->items()) {
      (void)v;
      if (k != field) return error_response(bad(k, std::string("unknown field; expected ") + field));
    }
    if (j->contains(field)) {
      if (!(*j)[field].is_string() || (*j)[field].get<std::string>().size() > 2000)
        return error_response(bad(field, "expected a string of at most 2000 characters"));
      text = (*j)[field];
    }
  }
  if (!approve && text.empty()) return error_response(bad("reason", "a rejection needs a reason"));
  auto r = approve ? b.engine->approve(request_id{id}, text) : b.engine->reject(request_id{id}, text);
  if (!r) return error_response(r.error());
  return json_response(200, {{"id", id}, {"state", *r}});
}

}  // namespace

// Without governance wired there are no such routes (404 no route).
std::optional<http_response> governance_wired(const api_backend& b, const route_call& c) {
  if (!b.governance) return no_route(c.req);
  return std::nullopt;
}

// A malformed tenant id is not a tenant path at all (404 no route).
std::optional<http_response> governed_tenant(const api_backend& b, const route_call& c) {
  if (!b.governance || !is_valid_id(c.param("id"))) return no_route(c.req);
  return std::nullopt;
}

http_response get_quota(const api_backend& b, const route_call& c) {
  const auto& tenant = c.param("id");
  return json_response(200, quota_json(tenant, b.governance->quota(tenant)));
}

http_response put_quota(const api_backend& b, const route_call& c) {
  const auto& tenant = c.param("id");
  auto q = parse_quota(c.req.body);
  if (!q) return error_response(q.error());
  auto saved = b.governance->set_quota(tenant, *q);
  if (!saved) return error_response(saved.error());
  return json_response(200, quota_json(tenant, *saved));
}

http_response tenant_usage(const api_backend& b, const route_call& c) {
  const auto& tenant = c.param("id");
  auto u = b.engine->usage(tenant_id{tenant});
  if (!u) return error_response(u.error());
  return json_response(200, {{"tenantId", tenant},
                             {"usage", ev::to_json(u->used)},
                             {"quota", quota_json(tenant, b.governance->quota(tenant))},
                             {"inFlight", u->in_flight},
                             {"waiting", u->waiting},
                             {"maxInFlight", u->max_in_flight}});
}

http_response list_rules(const api_backend& b, const route_call&) {
  json arr = json::array();
  for (auto& r : b.governance->rules()) arr.push_back(rule_json(r));
  return json_response(200, {{"items", arr}});
}

http_response create_rule(const api_backend& b, const route_call& c) {
  auto r = parse_rule(c.req.body);
  if (!r) return error_response(r.error());
  auto saved = b.governance->create_rule(std::move(*r));
  if (!saved) return error_response(saved.error());
  auto resp = json_response(201, rule_json(*saved));
  resp.headers.emplace_back("Location", "/v1/approval-rules/" + saved->id);
  return resp;
}

http_response get_rule(const api_backend& b, const route_call& c) {
  const auto& id = c.param("id");
  auto r = b.governance->rule(id);
  if (!r) return error_response(make_error(errc::not_found, "no approval rule " + id));
  return json_response(200, rule_json(*r));
}

http_response update_rule(const api_backend& b, const route_call& c) {
  const auto& id = c.param("id");
  auto r = parse_rule(c.req.body);
  if (!r) return error_response(r.error());
  if (!r->id.empty() && r->id != id) return error_response(bad("id", "does not match the rule in the path"));
  r->id = id;
  auto saved = b.governance->update_rule(std::move(*r));
  if (!saved) return error_response(saved.error());
  return json_response(200, rule_json(*saved));
}

http_response delete_rule(const api_backend& b, const route_call& c) {
  if (auto st = b.governance->delete_rule(c.param("id")); !st) return error_response(st.error());
  http_response r;
  r.status = 204;
  return r;
}

http_response pending_approvals(const api_backend& b, const route_call& c) {
  projections::list_query q;
  q.state = ev::lifecycle::pending_approval;
  q.limit = 500;
  for (auto& [k, v] : c.req.query) {
    if (k == "state") {
      if (v != "pending") return error_response(bad("state", "expected pending"));
    } else if (k == "tenantId") {
      if (!is_valid_id(v)) return error_response(bad("tenantId", "expected a tenant id"));
      q.tenant_id = tenant_id{v};
    } else {
      return error_response(bad(k, "unknown query parameter; expected state, tenantId"));
    }
  }
  auto page = b.summaries->list(q);
  if (!page) return error_response(page.error());
  json items = json::array();
  for (auto& i : page->items_json)
    if (auto one = parse_json(i, "stored summary")) items.push_back(std::move(*one));
  return json_response(200, {{"items", items}});
}

http_response approve_request(const api_backend& b, const route_call& c) {
  return decide(b, c, true);
}
http_response reject_request(const api_backend& b, const route_call& c) {
  return decide(b, c, false);
}

}  // namespace provisiond::gateway::handlers
