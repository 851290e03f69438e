// The OpenStack provider: the provider interface (steps, lookup, power,
// metrics, connectivity) and the four steps of the VPS flow.
#include "providers/openstack/openstack_provider.hpp"

#include <stdexcept>

#include <openssl/rand.h>

#include "common/failpoint.hpp"
#include "common/json.hpp"
#include "providers/openstack/detail/error_body.hpp"
#include "providers/openstack/detail/json_fields.hpp"
#include "providers/openstack/detail/probe.hpp"
#include "providers/detail/steps.hpp"
#include "providers/openstack/detail/provider.hpp"

namespace provisiond::providers::openstack {

namespace detail {

using events::step_kind;
using nlohmann::json;

namespace {

step_outcome server_outcome(const json& srv, const std::string& sg) {
  step_outcome out;
  auto id = str_or(srv, "id");
  out.resources.push_back({id, "server", step_kind::allocate, {{"name", str_or(srv, "name")}}});
  if (!sg.empty()) out.resources.push_back({sg, "security_group", step_kind::allocate, {}});
  out.outputs["serverId"] = id;
  out.outputs["hostname"] = str_or(srv, "name");
  if (!sg.empty()) out.outputs["securityGroupId"] = sg;
  return out;
}

}  // namespace

openstack_provider::openstack_provider(std::function<result<std::string>(const std::string&)> connection_of,
                                       std::shared_ptr<events::secret_store> secrets, std::shared_ptr<clock> clk)
    : clk_(std::move(clk)),
      sessions_(std::move(connection_of), [c = clk_](const std::string& conn) { return make_session(conn, c); }),
      secrets_(std::move(secrets)) {}

result<step_outcome> openstack_provider::execute(const step_call& call) {
  auto s = session_for(call.cluster_id.str());
  if (!s) return s.error();
  if (auto st = begin(**s); !st) return st.error();
  switch (call.step) {
    case step_kind::allocate: return providers::detail::created_outcome(allocate(**s, call, true));
    case step_kind::configure: {
      auto r = providers::detail::created_outcome(configure(**s, call, true));
      // A server that failed its build loses its port under our feet: the
      // real cause is Nova's fault, not Neutron's 404 on the port.
      if (!r)
        if (auto id = server_id_of(**s, call); !id.empty())
          if (auto fault = server_fault(**s, id); !fault && fault.error().field == "server_error") return fault.error();
      return r;
    }
    case step_kind::activate: return activate(**s, call);
    case step_kind::verify: return verify(**s, call);
  }
  return permanent_error("bug", "unknown step");
}

result<std::optional<step_outcome>> openstack_provider::lookup(const step_call& call) {
  auto s = session_for(call.cluster_id.str());
  if (!s) return s.error();
  switch (call.step) {
    case step_kind::allocate: return allocate(**s, call, false);
    case step_kind::configure: return configure(**s, call, false);
    default: return std::optional<step_outcome>{};  // polling and checks create nothing
  }
}

status openstack_provider::set_power(const provisiond::request_id& request, const provisiond::cluster_id& cluster, bool on) {
  auto found = request_server(request, cluster, errc::permanent);
  if (!found) return found.error();
  auto& [s, id] = *found;
  bool suspend = s->cfg.power_mode == "suspend";
  std::string action = on ? (suspend ? "resume" : "os-start") : (suspend ? "suspend" : "os-stop");
  std::string target = on ? "ACTIVE" : (suspend ? "SUSPENDED" : "SHUTOFF");
  auto cur = server_status(*s, id);
  if (!cur) return cur.error();
  if (*cur != target) {
    auto r = s->call("POST", svc::compute, "/servers/" + id + "/action", json{{action, nullptr}});
    if (!r) return r.error();
    // 409 "... while it is in vm_state stopped": already there.
    if (r->status != 202 && !(r->status == 409 && r->raw.find("vm_state") != std::string::npos))
      return classify(r->status, r->raw, r->retry_after, "Nova " + action);
  }
  return wait_status(*s, id, target, 120);
}

// Nova's server diagnostics (2.48: the standard format). Admin-only under
// Nova's default policy: a 403 says so in the cloud's words. Its counters
// are totals since boot; Nova gives no rates.
result<service_metrics> openstack_provider::metrics(const provisiond::request_id& request,
                                                    const provisiond::cluster_id& cluster) {
  auto found = request_server(request, cluster, errc::not_found);
  if (!found) return found.error();
  auto& [s, id] = *found;
  auto d = expect(s->call("GET", svc::compute, "/servers/" + id + "/diagnostics"), {200}, "Nova server diagnostics");
  if (!d) return d.error();
  service_metrics m;
  m.provider = "openstack";
  m.resource_id = id;
  m.source = "nova diagnostics";
  m.details_json = d->dump();
  auto number = [](const json& j, const char* key) -> std::optional<double> {
    return j.is_object() && j.contains(key) && j[key].is_number() ? std::optional<double>(j[key].get<double>())
                                                                  : std::nullopt;
  };
  auto sum = [&](const char* list, const char* key) -> std::optional<double> {
    if (!d->contains(list) || !(*d)[list].is_array() || (*d)[list].empty()) return std::nullopt;
    double total = 0;
    for (auto& item : (*d)[list])
      if (auto v = number(item, key)) total += *v;
    return total;
  };
  if (d->contains("state") && (*d)["state"].is_string()) m.power_state = (*d)["state"];
  m.cpu_count = number(*d, "num_cpus");
  m.uptime_seconds = number(*d, "uptime");
  if (d->contains("memory_details")) {
    m.memory_total_mib = number((*d)["memory_details"], "maximum");
    m.memory_used_mib = number((*d)["memory_details"], "used");
  }
  m.disk_read_bytes = sum("disk_details", "read_bytes");
  m.disk_write_bytes = sum("disk_details", "write_bytes");
  m.net_rx_bytes = sum("nic_details", "rx_octets");
  m.net_tx_bytes = sum("nic_details", "tx_octets");
  return m;
}

status openstack_provider::check(const cluster_config& cluster) {
  auto s = make_session(cluster.connection, clk_);
  if (!s) return s.error();
  auto flavors = expect((*s)->call("GET", svc::compute, "/flavors"), {200}, "Nova flavors");
  if (!flavors) return flavors.error();
  return ok();
}

status openstack_provider::validate_connection(const std::string& connection_json) const {
  auto s = parse_settings(connection_json);
  if (!s) return s.error();
  return ok();
}

// Authenticates before the step's first call: refused credentials become
// "unauthenticated", which tells the engine that nothing was sent.
status openstack_provider::begin(session& s) {
  return providers::detail::refused_login_is_permanent(s.ensure_token());
}

// --- allocate: security group and server ------------------------------------
result<std::string> openstack_provider::security_group(session& s, const std::string& request_id, bool create) {
  auto found = expect(s.call("GET", svc::network, "/security-groups?name=" + tag_of(request_id)), {200},
                      "Neutron list security groups");
  if (!found) return found.error();
  auto groups = found->value("security_groups", json::array());
  std::string id;
  if (!groups.empty()) id = str_or(groups[0], "id");
  if (id.empty()) {
    if (!create) return std::string{};
    auto made = expect(s.call("POST", svc::network, "/security-groups", security_group_body(request_id)), {201},
                       "Neutron create security group");
    if (!made) return made.error();
    id = str_or((*made)["security_group"], "id");
  }
  if (!create) return id;
  for (int port : {22, 80, 443}) {
    auto r = s.call("POST", svc::network, "/security-group-rules", ingress_rule_body(id, port));
    if (!r) return r.error();
    if (r->status != 201 && !(r->status == 409 && neutron_type(r->raw) == "SecurityGroupRuleExists"))
      return classify(r->status, r->raw, r->retry_after, "Neutron create security group rule");
  }
  return id;
}

result<std::optional<step_outcome>> openstack_provider::allocate(session& s, const step_call& call, bool create) {
  auto sg = security_group(s, call.request_id.str(), create);
  if (!sg) return sg.error();
  auto servers = find_servers(s, call.request_id.str());
  if (!servers) return servers.error();
  if (servers->size() > 1)
    return permanent_error("duplicate",
                           std::to_string(servers->size()) + " servers carry tag " + tag_of(call.request_id.str()));
  if (servers->size() == 1) return std::optional<step_outcome>{server_outcome((*servers)[0], *sg)};
  // No server yet: running the step is safe (it adopts the group by name).
  if (!create) return std::optional<step_outcome>{};
  auto flavor = id_by_name(s, svc::compute, "/flavors/detail", "flavors", s.cfg.flavor, "Nova flavor");
  if (!flavor) return flavor.error();
  auto images =
      expect(s.call("GET", svc::image, "/images?status=active&name=" + s.cfg.image), {200}, "Glance list images");
  if (!images) return images.error();
  auto img = images->value("images", json::array());
  if (img.empty()) return permanent_error("not_found", "Glance image: no active image named " + s.cfg.image);
  auto net = expect(s.call("GET", svc::network, "/networks?name=" + s.cfg.network), {200}, "Neutron list networks");
  if (!net) return net.error();
  auto nets = net->value("networks", json::array());
  if (nets.empty()) return permanent_error("not_found", "Neutron network: no network named " + s.cfg.network);

  // The root password: generated once per request and sealed before the
  // server exists, so a retried create sets the same one.
  auto password = providers::detail::root_password(*secrets_, call.request_id.str());
  if (!password) return password.error();
  std::string hostname = "vps-" + call.request_id.str();
  auto server = parse_json_lenient(
      server_create_body(s.cfg, call, {*flavor, str_or(img[0], "id"), str_or(nets[0], "id"), *sg}, *password));
  auto made = s.call("POST", svc::compute, "/servers", server);
  failpoint("openstack-after-server-create");  // tests: die right after the create was sent
  if (!made) return made.error();              // ambiguous: the next attempt looks the server up by tag first
  if (made->status != 202) return classify(made->status, made->raw, made->retry_after, "Nova create server");
  auto srv = made->body.value("server", json::object());
  srv["name"] = hostname;
  return std::optional<step_outcome>{server_outcome(srv, *sg)};
}

// --- configure: floating IP --------------------------------------------------
result<std::optional<step_outcome>> openstack_provider::configure(session& s, const step_call& call, bool create) {
  auto server_id = server_id_of(s, call);
  if (server_id.empty()) return permanent_error("not_found", "no server tagged " + tag_of(call.request_id.str()));
  auto port = server_port(s, server_id, create ? 60 : 0);  // a lookup does not wait
  if (!port) return create ? result<std::optional<step_outcome>>{port.error()} : std::optional<step_outcome>{};
  auto port_id = str_or(*port, "id");
  auto fixed = str_or(port->value("fixed_ips", json::array())[0], "ip_address");
  auto found =
      expect(s.call("GET", svc::network, "/floatingips?port_id=" + port_id), {200}, "Neutron list floating IPs");
  if (!found) return found.error();
  auto fips = found->value("floatingips", json::array());
  json fip;
  if (!fips.empty()) {
    fip = fips[0];
  } else {
    if (!create) return std::optional<step_outcome>{};
    std::string ext;
    if (s.cfg.external_network.empty()) {
      auto nets = expect(s.call("GET", svc::network, "/networks?router:external=true"), {200},
                         "Neutron list external networks");
      if (!nets) return nets.error();
      auto list = nets->value("networks", json::array());
      if (list.empty()) return permanent_error("not_found", "Neutron: no external network for floating IPs");
      ext = str_or(list[0], "id");
    } else {
      auto id = id_by_name(s, svc::network, "/networks?name=" + s.cfg.external_network, "networks",
                           s.cfg.external_network, "Neutron external network");
      if (!id) return id.error();
      ext = *id;
    }
    // Created on the port in one call: it either exists on the port (and is
    // found by port next time) or not at all.
    auto made = expect(s.call("POST", svc::network, "/floatingips", floating_ip_body(ext, port_id, call.request_id.str())),
                       {201}, "Neutron create floating IP");
    if (!made) return made.error();
    fip = (*made)["floatingip"];
  }
  step_outcome out;
  auto address = str_or(fip, "floating_ip_address");
  out.resources.push_back({str_or(fip, "id"), "floating_ip", step_kind::configure, {{"address", address}}});
  out.outputs["floatingIp"] = address;
  out.outputs["ipv4"] = address;
  out.outputs["fixedIp"] = fixed;
  out.outputs["portId"] = port_id;
  out.outputs["firewall"] = "tcp/22,80,443 from 0.0.0.0/0";
  return std::optional<step_outcome>{out};
}

// --- activate and verify -----------------------------------------------------
result<step_outcome> openstack_provider::activate(session& s, const step_call& call) {
  auto id = server_id_of(s, call);
  if (id.empty()) return permanent_error("not_found", "no server tagged " + tag_of(call.request_id.str()));
  if (auto st = wait_status(s, id, "ACTIVE", s.cfg.active_timeout_s); !st) return st.error();
  step_outcome out;
  out.outputs["status"] = "ACTIVE";
  // The boot volume Nova made belongs to the server's step: released with it.
  auto j = expect(s.call("GET", svc::compute, "/servers/" + id), {200}, "Nova get server");
  if (j)
    for (auto& v : (*j)["server"].value("os-extended-volumes:volumes_attached", json::array()))
      out.resources.push_back({str_or(v, "id"), "volume", step_kind::allocate, {{"server", id}}});
  return out;
}

result<step_outcome> openstack_provider::verify(session& s, const step_call& call) {
  auto id = server_id_of(s, call);
  auto ip = call.inputs.count("floatingIp") ? call.inputs.at("floatingIp") : std::string{};
  if (id.empty() || ip.empty()) return permanent_error("not_found", "nothing to verify: no server or floating IP");
  step_outcome out;
  if (s.cfg.health_check == "probe") {
    auto banner = tcp_banner(ip, 22, 5000);
    if (!banner || banner->rfind("SSH-", 0) != 0) return retryable_error("probe", "no SSH banner on " + ip + ":22");
    auto web = s.http->send({"GET", "http://" + ip + "/", {}, ""});
    if (!web) return web.error();
    out.outputs["check"] = "ssh banner, http " + std::to_string(web->status);
  } else {
    auto st = server_status(s, id);
    if (!st) return st.error();
    if (*st != "ACTIVE") return retryable_error("not_active", "server " + id + " is " + *st);
    auto port = server_port(s, id);
    if (!port) return port.error();
    auto binding = str_or(*port, "binding:vif_type");
    if (binding == "unbound" || binding == "binding_failed")
      return retryable_error("port_unbound", "port " + str_or(*port, "id") + " is " + binding);
    auto fips = expect(s.call("GET", svc::network, "/floatingips?port_id=" + str_or(*port, "id")), {200},
                       "Neutron list floating IPs");
    if (!fips) return fips.error();
    if (fips->value("floatingips", json::array()).empty())
      return permanent_error("no_floating_ip", "the floating IP is not on the server's port");
    out.outputs["check"] = "api: server ACTIVE, port bound, floating IP on the port";
  }
  out.outputs["ssh"] = "ssh://root@" + ip + ":22";
  out.outputs["http"] = "http://" + ip + "/";
  out.outputs["https"] = "https://" + ip + "/";
  return out;
}

}  // namespace detail

std::shared_ptr<provider> make_openstack_provider(std::function<result<std::string>(const std::string&)> connection_of,
                                                  std::shared_ptr<events::secret_store> secrets,
                                                  std::shared_ptr<clock> clk) {
  return std::make_shared<detail::openstack_provider>(std::move(connection_of), std::move(secrets), std::move(clk));
}

}  // namespace provisiond::providers::openstack
