// The Proxmox VE provider: the provider interface (steps, lookup, power,
// connectivity) and the four steps of the VPS flow.
#include "providers/proxmox/proxmox_provider.hpp"

#include <stdexcept>

#include <openssl/rand.h>

#include "common/failpoint.hpp"
#include "common/json.hpp"
#include "providers/detail/steps.hpp"
#include "providers/proxmox/detail/provider.hpp"
#include "providers/proxmox/errors.hpp"

namespace provisiond::providers::proxmox {

namespace detail {

using events::step_kind;
using nlohmann::json;

namespace {

std::string vm_path(const vm_ref& vm) {
  return "/nodes/" + percent_encode(vm.node) + "/qemu/" + std::to_string(vm.vmid);
}

step_outcome vm_outcome(const vm_ref& vm, const std::string& request_id) {
  step_outcome out;
  auto id = std::to_string(vm.vmid);
  out.resources.push_back({id, "vm", step_kind::allocate, {{"node", vm.node}, {"name", vm_name(request_id)}}});
  out.outputs["vmid"] = id;
  out.outputs["node"] = vm.node;
  out.outputs["hostname"] = vm_name(request_id);
  return out;
}

vm_ref ref_of(const json& vm) {
  return vm_ref{static_cast<int>(as_integer(vm["vmid"]).value_or(0)), str_of(vm, "node")};
}

// "32G", "2252M", "1T" → GiB; 0 when unreadable.
double size_gib(const std::string& disk) {
  auto p = disk.find("size=");
  if (p == std::string::npos) return 0;
  auto v = disk.substr(p + 5, disk.find(',', p) == std::string::npos ? std::string::npos : disk.find(',', p) - p - 5);
  if (v.empty()) return 0;
  char unit = v.back();
  double n = std::atof(v.c_str());
  switch (unit) {
    case 'T': return n * 1024;
    case 'G': return n;
    case 'M': return n / 1024;
    case 'K': return n / (1024 * 1024);
    default: return n / (1024.0 * 1024 * 1024);
  }
}

}  // namespace

proxmox_provider::proxmox_provider(std::function<result<std::string>(const std::string&)> connection_of,
                                   std::shared_ptr<events::secret_store> secrets, std::shared_ptr<clock> clk)
    : clk_(std::move(clk)),
      sessions_(std::move(connection_of), [c = clk_](const std::string& conn) { return make_session(conn, c); }),
      secrets_(std::move(secrets)) {}

result<step_outcome> proxmox_provider::execute(const step_call& call) {
  auto s = session_for(call.cluster_id.str());
  if (!s) return s.error();
  // Refused credentials before anything was sent: "unauthenticated" tells
  // the engine there is nothing to roll back and nothing to retry.
  if (auto st = (*s)->authenticate(); !st)
    return st.error().field == "auth" ? permanent_error("unauthenticated", st.error().message) : st.error();
  switch (call.step) {
    case step_kind::allocate: {
      auto r = allocate(**s, call, true);
      if (!r) return r.error();
      if (!*r) return permanent_error("bug", "allocate produced nothing");
      return std::move(**r);
    }
    case step_kind::configure: return configure(**s, call);
    case step_kind::activate: return activate(**s, call);
    case step_kind::verify: return verify(**s, call);
  }
  return permanent_error("bug", "unknown step");
}

result<std::optional<step_outcome>> proxmox_provider::lookup(const step_call& call) {
  auto s = session_for(call.cluster_id.str());
  if (!s) return s.error();
  if (call.step == step_kind::allocate) return allocate(**s, call, false);
  return std::optional<step_outcome>{};  // the other steps are safe to run again
}

status proxmox_provider::set_power(const provisiond::request_id& request, const provisiond::cluster_id& cluster,
                                   bool on) {
  auto found = request_vm(request, cluster, errc::permanent);
  if (!found) return found.error();
  auto& [s, vm] = *found;
  auto st = vm_status(*s, vm);
  if (!st) return st.error();
  std::string target = on ? "running" : "stopped";
  if (str_of(*st, "status") == target) return ok();
  if (auto r = power_action(*s, vm, on ? "start" : s->cfg.power_mode); !r) return r.error();
  return wait_power(*s, vm, target, s->cfg.active_timeout_s);
}

status proxmox_provider::check(const cluster_config& cluster) {
  auto s = make_session(cluster.connection, clk_);
  if (!s) return s.error();
  if (auto st = (*s)->authenticate(); !st) return st.error();
  auto nodes = (*s)->data("GET", "/nodes", {}, "Proxmox nodes");
  if (!nodes) return nodes.error();
  std::string names;
  for (auto& n : nodes->is_array() ? *nodes : json::array()) {
    if (str_of(n, "node") == (*s)->cfg.node) return ok();
    names += (names.empty() ? "" : ", ") + str_of(n, "node");
  }
  return permanent_error("not_found", "node " + (*s)->cfg.node + " is not in the cluster (nodes: " + names + ")");
}

status proxmox_provider::validate_connection(const std::string& connection_json) const {
  auto s = parse_settings(connection_json);
  if (!s) return s.error();
  return ok();
}

// --- allocate: the VM, cloned from the template or created ------------------
result<std::optional<step_outcome>> proxmox_provider::allocate(session& s, const step_call& call, bool create) {
  auto rid = call.request_id.str();
  auto found = find_vm(s, rid);
  if (!found) return found.error();
  vm_ref where;
  if (*found) {
    where = ref_of(**found);
    // The request tag is written last: with it and no lock, the step is done.
    bool finished = has_tag(str_of(**found, "tags"), request_tag(rid)) && str_of(**found, "lock").empty();
    if (finished) return std::optional<step_outcome>{vm_outcome(where, rid)};
    if (!create) return std::optional<step_outcome>{};  // half made: running the step finishes it
  } else {
    if (!create) return std::optional<step_outcome>{};
    if (auto st = create_vm(s, call, where); !st) return st.error();
  }
  if (auto st = wait_unlocked(s, where); !st) return st.error();
  if (s.cfg.template_vmid != 0)
    if (auto st = finish_clone(s, call, where); !st) return st.error();
  return std::optional<step_outcome>{vm_outcome(where, rid)};
}

// A VMID from /cluster/nextid, recorded for the request before it is used.
result<vm_ref> proxmox_provider::fresh_vmid(session& s, const std::string& request_id) {
  auto id = s.data("GET", "/cluster/nextid", {}, "Proxmox nextid");
  if (!id) return id.error();
  auto n = as_integer(*id);
  if (!n) return retryable_error("bad_reply", "Proxmox nextid: not an integer: " + id->dump());
  vm_ref where{static_cast<int>(*n), s.cfg.node};
  if (auto st = record_intent(request_id, where); !st) return st.error();
  return where;
}

// The node that holds the template (clones are asked of it).
result<std::string> proxmox_provider::template_node(session& s) {
  auto list = s.data("GET", "/cluster/resources", {{"type", "vm"}}, "Proxmox cluster resources");
  if (!list) return list.error();
  for (auto& vm : list->is_array() ? *list : json::array())
    if (vm.is_object() && vm.contains("vmid") && as_integer(vm["vmid"]) == s.cfg.template_vmid)
      return str_of(vm, "node");
  return permanent_error("not_found",
                         "Proxmox template " + std::to_string(s.cfg.template_vmid) + " is not in the cluster");
}

// Picks the VMID (or reuses the recorded one), records it, then sends the
// create or clone and waits for its task. nextid is no reservation: a VMID
// another client took first is replaced, and a template locked by another
// clone is waited for.
status proxmox_provider::create_vm(session& s, const step_call& call, vm_ref& where) {
  auto rid = call.request_id.str();
  auto recorded = intent(rid);
  if (!recorded) return recorded.error();
  if (*recorded) {
    where = **recorded;
    // Not ours (find_vm saw no VM of ours on it): still free, or taken by someone else?
    auto free = s.call("GET", "/cluster/nextid", {{"vmid", std::to_string(where.vmid)}});
    if (!free) return free.error();
    if (free->status == 400)
      where = {};
    else if (free->status != 200)
      return to_error(free->status, free->raw, "Proxmox nextid");
  }
  std::string source_node;
  if (s.cfg.template_vmid != 0) {
    auto n = template_node(s);
    if (!n) return n.error();
    source_node = *n;
  }
  for (int tries = 0; tries < 5; ++tries) {
    if (where.vmid == 0) {
      auto fresh = fresh_vmid(s, rid);
      if (!fresh) return fresh.error();
      where = *fresh;
    }
    std::string path, what;
    form f;
    if (s.cfg.template_vmid != 0) {
      path = "/nodes/" + percent_encode(source_node) + "/qemu/" + std::to_string(s.cfg.template_vmid) + "/clone";
      what = "Proxmox clone " + std::to_string(s.cfg.template_vmid) + " to " + std::to_string(where.vmid);
      f = clone_form(s.cfg, call, where.vmid);
    } else {
      path = "/nodes/" + percent_encode(where.node) + "/qemu";
      what = "Proxmox create VM " + std::to_string(where.vmid);
      f = create_form(s.cfg, call, where.vmid);
    }
    auto r = s.call("POST", path, f);
    failpoint("proxmox-after-create");  // tests: die right after the create was sent
    if (!r) return r.error();           // ambiguous: the next attempt finds it by the recorded VMID
    if (r->status == 200 && r->body.is_object() && r->body["data"].is_string())
      return s.wait_task(r->body["data"].get<std::string>(), what);
    auto msg = pve_message(r->status, r->raw);
    switch (classify_reply(r->status, msg).what) {
      case action::already_exists: {
        // Done if the VM on the VMID is ours (a retried create); else
        // another client took the VMID between nextid and our create.
        auto vm = find_vm(s, rid);
        if (!vm) return vm.error();
        if (*vm && as_integer((**vm)["vmid"]) == where.vmid) return ok();
        where = {};
        continue;
      }
      case action::wait_unlock:  // the template is being cloned by someone else
        if (s.cfg.template_vmid != 0)
          if (auto st = wait_unlocked(s, {s.cfg.template_vmid, source_node}); !st) return st.error();
        continue;
      case action::reconcile: {
        auto vm = find_vm(s, rid);
        if (vm && *vm) return ok();
        return to_error(r->status, r->raw, what);
      }
      default: return to_error(r->status, r->raw, what);
    }
  }
  return retryable_error("busy", "Proxmox: no free VMID or the template stayed locked after 5 tries");
}

// After a clone: size it as ordered, grow its disk, then tag it (last: the
// tag says the step is done).
status proxmox_provider::finish_clone(session& s, const step_call& call, const vm_ref& vm) {
  auto what = "Proxmox configure VM " + std::to_string(vm.vmid);
  auto sizing = sizing_form(call);
  std::erase_if(sizing, [](auto& kv) { return kv.first == "tags"; });
  auto put = s.data("PUT", vm_path(vm) + "/config", sizing, what);
  if (!put) return put.error();
  if (put->is_string())
    if (auto st = s.wait_task(put->get<std::string>(), what); !st) return st.error();
  auto config = s.data("GET", vm_path(vm) + "/config", {}, what);
  if (!config) return config.error();
  for (const char* disk : {"scsi0", "virtio0", "sata0", "ide0"}) {
    auto spec = str_of(*config, disk);
    if (spec.empty() || spec.find("media=cdrom") != std::string::npos || spec.find("cloudinit") != std::string::npos)
      continue;
    if (size_gib(spec) + 0.01 < call.resources.storage_gb) {
      auto grown = s.data("PUT", vm_path(vm) + "/resize",
                          {{"disk", disk}, {"size", std::to_string(call.resources.storage_gb) + "G"}},
                          "Proxmox resize " + std::string(disk) + " of VM " + std::to_string(vm.vmid));
      if (!grown) return grown.error();
      if (grown->is_string())
        if (auto st = s.wait_task(grown->get<std::string>(), what); !st) return st.error();
    }
    break;
  }
  auto tagged = s.data("PUT", vm_path(vm) + "/config", {{"tags", tags_of(call)}}, what);
  if (!tagged) return tagged.error();
  return ok();
}

// --- configure: cloud-init ---------------------------------------------------
result<step_outcome> proxmox_provider::configure(session& s, const step_call& call) {
  auto vm = locate(s, call.request_id.str(), call.inputs, errc::permanent);
  if (!vm) return vm.error();
  auto password = providers::detail::root_password(*secrets_, call.request_id.str());
  if (!password) return password.error();
  auto what = "Proxmox cloud-init of VM " + std::to_string(vm->vmid);
  auto put = s.data("PUT", vm_path(*vm) + "/config", cloud_init_form(s.cfg, *password), what);
  if (!put) return put.error();
  if (put->is_string())
    if (auto st = s.wait_task(put->get<std::string>(), what); !st) return st.error();
  step_outcome out;
  out.outputs["username"] = s.cfg.ci_user;
  out.outputs["ipConfig"] = s.cfg.ip_config;
  if (auto ip = static_ipv4(s.cfg.ip_config); !ip.empty()) {
    out.outputs["ipv4"] = ip;
    out.outputs["host"] = ip;
  }
  return out;
}

// --- activate and verify -----------------------------------------------------
result<step_outcome> proxmox_provider::activate(session& s, const step_call& call) {
  auto vm = locate(s, call.request_id.str(), call.inputs, errc::permanent);
  if (!vm) return vm.error();
  auto st = vm_status(s, *vm);
  if (!st) return st.error();
  if (str_of(*st, "status") != "running")
    if (auto r = power_action(s, *vm, "start"); !r) return r.error();
  if (auto r = wait_power(s, *vm, "running", s.cfg.active_timeout_s); !r) return r.error();
  step_outcome out;
  out.outputs["status"] = "running";
  return out;
}

result<step_outcome> proxmox_provider::verify(session& s, const step_call& call) {
  auto vm = locate(s, call.request_id.str(), call.inputs, errc::permanent);
  if (!vm) return vm.error();
  auto st = vm_status(s, *vm);
  if (!st) return st.error();
  auto status = str_of(*st, "status");
  auto qmp = str_of(*st, "qmpstatus");
  if (status != "running" || (!qmp.empty() && qmp != "running"))
    return retryable_error("not_running", "Proxmox VM " + std::to_string(vm->vmid) + " is " + status +
                                              (qmp.empty() ? "" : " (qmp " + qmp + ")"));
  step_outcome out;
  std::string check = "status running";
  std::string ip = call.inputs.count("ipv4") ? call.inputs.at("ipv4") : std::string{};
  // The guest agent knows the addresses DHCP gave; without it, the static one.
  auto agent = s.call("GET", vm_path(*vm) + "/agent/network-get-interfaces");
  if (agent && agent->status == 200 && agent->body.is_object()) {
    auto& d = agent->body["data"];
    auto list = d.is_object() && d.contains("result") ? d["result"] : d;
    for (auto& iface : list.is_array() ? list : json::array()) {
      if (str_of(iface, "name") == "lo") continue;
      if (!iface.is_object() || !iface.contains("ip-addresses") || !iface["ip-addresses"].is_array()) continue;
      for (auto& a : iface["ip-addresses"])
        if (str_of(a, "ip-address-type") == "ipv4" && str_of(a, "ip-address").rfind("127.", 0) != 0 && ip.empty())
          ip = str_of(a, "ip-address");
    }
    check += ", guest agent answered";
  } else if (agent) {
    check += ", no guest agent (" + pve_message(agent->status, agent->raw) + ")";
  }
  out.outputs["check"] = check;
  if (!ip.empty()) {
    out.outputs["ipv4"] = ip;
    out.outputs["host"] = ip;
    out.outputs["ssh"] = "ssh://" + s.cfg.ci_user + "@" + ip + ":22";
  }
  out.outputs["console"] = s.cfg.url + "/#v1:0:=qemu%2F" + std::to_string(vm->vmid);
  return out;
}

}  // namespace detail

std::shared_ptr<provider> make_proxmox_provider(std::function<result<std::string>(const std::string&)> connection_of,
                                                std::shared_ptr<events::secret_store> secrets,
                                                std::shared_ptr<clock> clk) {
  return std::make_shared<detail::proxmox_provider>(std::move(connection_of), std::move(secrets), std::move(clk));
}

}  // namespace provisiond::providers::proxmox
