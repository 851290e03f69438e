// The OpenStack provider's reads of Nova and Neutron, and its waits, which
// poll against the injected clock and sleep through it.
#include "providers/openstack/bodies.hpp"
#include "providers/openstack/detail/json_fields.hpp"
#include "providers/openstack/detail/provider.hpp"

namespace provisiond::providers::openstack::detail {

using nlohmann::json;

result<json> openstack_provider::find_servers(session& s, const std::string& request_id) {
  auto j =
      expect(s.call("GET", svc::compute, "/servers/detail?tags=" + tag_of(request_id)), {200}, "Nova list servers");
  if (!j) return j.error();
  return j->value("servers", json::array());
}

result<std::pair<std::shared_ptr<session>, std::string>> openstack_provider::request_server(
    const provisiond::request_id& request, const provisiond::cluster_id& cluster, errc missing) {
  auto s = session_for(cluster.str());
  if (!s) return s.error();
  auto servers = find_servers(**s, request.str());
  if (!servers) return servers.error();
  if (servers->empty()) {
    std::string why = "no server tagged " + tag_of(request.str());
    return missing == errc::permanent ? permanent_error("not_found", std::move(why)) : make_error(missing, std::move(why));
  }
  return std::pair{*s, str_or((*servers)[0], "id")};
}

result<std::string> openstack_provider::server_status(session& s, const std::string& id) {
  auto j = expect(s.call("GET", svc::compute, "/servers/" + id), {200}, "Nova get server");
  if (!j) return j.error();
  return str_or((*j)["server"], "status");
}

// An error when the server went to ERROR (with Nova's fault), else ok.
status openstack_provider::server_fault(session& s, const std::string& id) {
  auto j = expect(s.call("GET", svc::compute, "/servers/" + id), {200}, "Nova get server");
  if (!j) return j.error();
  auto& srv = (*j)["server"];
  if (str_or(srv, "status") != "ERROR") return ok();
  auto fault = srv.contains("fault") ? str_or(srv["fault"], "message") : std::string("no fault message");
  return permanent_error("server_error", "server " + id + " went to ERROR: " + fault);
}

status openstack_provider::wait_status(session& s, const std::string& id, const std::string& target, int seconds) {
  auto deadline = clk_->now() + time_ms{seconds} * 1000;
  for (;;) {
    auto j = expect(s.call("GET", svc::compute, "/servers/" + id), {200}, "Nova get server");
    if (!j) return j.error();
    auto& srv = (*j)["server"];
    auto st = str_or(srv, "status");
    if (st == target) return ok();
    if (st == "ERROR") {
      auto fault = srv.contains("fault") ? str_or(srv["fault"], "message") : std::string("no fault message");
      return permanent_error("server_error", "server " + id + " went to ERROR: " + fault);
    }
    if (clk_->now() >= deadline)
      return permanent_error("timeout", "server " + id + " still " + st + " after " + std::to_string(seconds) +
                                            " s (waiting for " + target + ")");
    clk_->sleep_for(poll_interval_ms);
  }
}

result<std::string> openstack_provider::id_by_name(session& s, svc service, const std::string& path, const char* list,
                                                   const std::string& name, const std::string& what) {
  auto j = expect(s.call("GET", service, path), {200}, what);
  if (!j) return j.error();
  for (auto& x : j->value(list, json::array()))
    if (str_or(x, "name") == name) return str_or(x, "id");
  return permanent_error("not_found", what + ": no " + name);
}

// The server's port with an address; waits up to `wait_s` for Nova to make it
// (0: looks once).
result<json> openstack_provider::server_port(session& s, const std::string& server_id, int wait_s) {
  auto deadline = clk_->now() + time_ms{wait_s} * 1000;
  for (;;) {
    auto j = expect(s.call("GET", svc::network, "/ports?device_id=" + server_id), {200}, "Neutron list ports");
    if (!j) return j.error();
    for (auto& p : j->value("ports", json::array()))
      if (!p.value("fixed_ips", json::array()).empty()) return p;
    // A build that failed never gets a port: say why instead of waiting.
    if (auto failed = server_fault(s, server_id); !failed && failed.error().field == "server_error")
      return failed.error();
    if (clk_->now() >= deadline)
      return retryable_error("no_port", "server " + server_id + " has no port with an address yet");
    clk_->sleep_for(poll_interval_ms);
  }
}

std::string openstack_provider::server_id_of(session& s, const step_call& call) {
  if (auto it = call.inputs.find("serverId"); it != call.inputs.end()) return it->second;
  auto servers = find_servers(s, call.request_id.str());
  return servers && !servers->empty() ? str_or((*servers)[0], "id") : std::string{};
}

}  // namespace provisiond::providers::openstack::detail
