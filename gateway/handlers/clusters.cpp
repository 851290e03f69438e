// Clusters: the registry, capacity and breaker state, the connectivity test.
// Every /v1/clusters/{id} route is guarded: an unknown cluster is a 404
// whatever the method.
#include <chrono>

#include <nlohmann/json.hpp>

#include "actors/cluster/cluster_directory.hpp"
#include "actors/cluster/cluster_logic.hpp"
#include "common/json.hpp"
#include "gateway/cluster_body.hpp"
#include "events/json_mapping.hpp"
#include "gateway/detail/json_http.hpp"
#include "gateway/handlers/handlers.hpp"

namespace provisiond::gateway::handlers {

using nlohmann::json;
namespace ev = provisiond::events;
using detail::json_response;

namespace {

error no_cluster(const std::string& id) {
  return make_error(errc::not_found, "no cluster " + id);
}

// The cluster as the API shows it: the stored mapping (secrets already only
// by name, never by value), except createdAt as RFC 3339.
json cluster_json(const cluster_config& c) {
  auto j = ev::to_json(c);
  j["createdAt"] = format_time(c.created_at);
  return j;
}

// Adds what the cluster actor knows: capacity used and free, breaker state.
json with_usage(const api_backend& b, const cluster_config& c) {
  auto j = cluster_json(c);
  auto u = b.engine->usage_of_cluster(cluster_id{c.id});
  if (!u) return j;
  auto free = c.capacity;
  actors::operator-=(free, u->used);
  j["used"] = ev::to_json(u->used);
  j["available"] = ev::to_json(free);
  j["requests"] = u->requests;
  j["breaker"] = u->breaker;
  return j;
}

// The provider's own check of a connection (no I/O), so a bad setting is a
// 400 now, not a failed request later. Secrets kept from before count as
// present. A type without a provider in this build has nothing to check.
status validate_connection(const api_backend& b, const cluster_definition& d,
                           const std::vector<std::string>& kept_secrets) {
  auto prov = b.providers ? b.providers->find(d.cluster.type) : nullptr;
  if (!prov) return ok();
  auto parsed = parse_json(d.cluster.connection, "connection");
  json conn = parsed && parsed->is_object() ? std::move(*parsed) : json::object();
  for (auto& [k, v] : d.secrets) conn[k] = v;
  for (auto& k : kept_secrets)
    if (!conn.contains(k)) conn[k] = "(kept)";
  return prov->validate_connection(dump_json(conn));
}

}  // namespace

std::optional<http_response> cluster_registry(const api_backend& b, const route_call&) {
  if (!b.clusters) return error_response(make_error(errc::not_found, "no cluster registry"));
  return std::nullopt;
}

std::optional<http_response> existing_cluster(const api_backend& b, const route_call& c) {
  if (auto refused = cluster_registry(b, c)) return refused;
  if (!b.clusters->get(c.param("id"))) return error_response(no_cluster(c.param("id")));
  return std::nullopt;
}

http_response list_clusters(const api_backend& b, const route_call&) {
  json items = json::array();
  for (auto& c : b.clusters->list()) items.push_back(with_usage(b, c));
  return json_response(200, {{"items", items}});
}

http_response create_cluster(const api_backend& b, const route_call& c) {
  auto d = parse_cluster(c.req.body, "", true);
  if (!d) return error_response(d.error());
  if (auto st = validate_connection(b, *d, {}); !st) return error_response(st.error());
  auto created = b.clusters->create(std::move(*d));
  if (!created) return error_response(created.error());
  auto r = json_response(201, with_usage(b, *created));
  r.headers.emplace_back("Location", "/v1/clusters/" + created->id);
  return r;
}

http_response get_cluster(const api_backend& b, const route_call& c) {
  auto existing = b.clusters->get(c.param("id"));
  if (!existing) return error_response(no_cluster(c.param("id")));
  return json_response(200, with_usage(b, *existing));
}

http_response update_cluster(const api_backend& b, const route_call& c) {
  const auto& id = c.param("id");
  auto existing = b.clusters->get(id);
  if (!existing) return error_response(no_cluster(id));
  auto d = parse_cluster(c.req.body, "", true);
  if (!d) return error_response(d.error());
  if (auto st = validate_connection(b, *d, existing->secret_fields); !st) return error_response(st.error());
  auto updated = b.clusters->update(id, std::move(*d));
  if (!updated) return error_response(updated.error());
  return json_response(200, with_usage(b, *updated));
}

http_response delete_cluster(const api_backend& b, const route_call& c) {
  const auto& id = c.param("id");
  auto u = b.engine->usage_of_cluster(cluster_id{id});
  if (!u) return error_response(u.error());
  if (u->requests > 0)
    return error_response(
        make_error(errc::conflict, "cluster " + id + " still holds capacity for " + std::to_string(u->requests) +
                                       " requests; deprovision them or set provisioningEnabled false first"));
  if (auto st = b.clusters->remove(id); !st) return error_response(st.error());
  http_response r;
  r.status = 204;
  return r;
}

http_response test_cluster(const api_backend& b, const route_call& c) {
  const auto& id = c.param("id");
  auto existing = b.clusters->get(id);
  if (!existing) return error_response(no_cluster(id));
  auto prov = b.providers ? b.providers->find(existing->type) : nullptr;
  if (!prov)
    return json_response(
        200, {{"success", false}, {"latencyMs", 0}, {"error", "no " + existing->type + " provider in this build"}});
  auto cfg = *existing;
  auto conn = b.clusters->connection(id);  // with its secrets, for the provider only
  if (!conn) return error_response(conn.error());
  cfg.connection = *conn;
  auto started = std::chrono::steady_clock::now();
  status st = ok();
  try {
    st = prov->check(cfg);
  } catch (const std::exception& e) {
    st = make_error(errc::internal, std::string("the provider's check failed: ") + e.what());
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  json out{{"success", st.has_value()}, {"latencyMs", ms}};
  if (!st) out["error"] = st.error().message;
  return json_response(200, out);
}

}  // namespace provisiond::gateway::handlers
