// The vSphere provider: the provider interface (steps, lookup, power,
// connectivity) and the four steps of the VPS flow.
#include "providers/vmware/vmware_provider.hpp"

#include <algorithm>
#include <stdexcept>

#include <openssl/rand.h>

#include "common/failpoint.hpp"
#include "common/json.hpp"
#include "providers/detail/steps.hpp"
#include "providers/vmware/detail/provider.hpp"
#include "providers/vmware/guestinfo.hpp"

namespace provisiond::providers::vmware {

namespace detail {

using events::step_kind;
using nlohmann::json;

namespace {

const std::vector<std::string> sizing_paths = {"config.hardware.device", "config.hardware.numCPU",
                                               "config.hardware.memoryMB"};

// Sized as ordered: CPUs and memory equal, the first disk at least as big.
bool sized(const found_vm& vm, const events::resource_spec& want) {
  if (want.cpu > 0 && vm.view.value("config.hardware.numCPU") != std::to_string(want.cpu)) return false;
  if (want.memory_gb > 0 && vm.view.value("config.hardware.memoryMB") != std::to_string(want.memory_gb * 1024))
    return false;
  if (want.storage_gb > 0)
    for (auto& d : vm.view.devices)
      if (d.is_disk()) return d.capacity_kb >= static_cast<long long>(want.storage_gb) * 1024 * 1024;
  return true;
}

step_outcome vm_outcome(const found_vm& vm, const std::string& name, const std::string& template_name) {
  step_outcome out;
  out.resources.push_back({vm.ref.value,
                           "vm",
                           step_kind::allocate,
                           {{"name", name}, {"template", template_name.empty() ? "(created)" : template_name}}});
  out.outputs["vmId"] = vm.ref.value;
  out.outputs["vmName"] = name;
  out.outputs["hostname"] = name;
  return out;
}

}  // namespace

vmware_provider::vmware_provider(std::function<result<std::string>(const std::string&)> connection_of,
                                 std::shared_ptr<events::secret_store> secrets, std::shared_ptr<clock> clk)
    : clk_(std::move(clk)),
      sessions_(std::move(connection_of), [c = clk_](const std::string& conn) { return make_session(conn, c); }),
      secrets_(std::move(secrets)) {}

result<step_outcome> vmware_provider::execute(const step_call& call) {
  auto s = session_for(call.cluster_id.str());
  if (!s) return s.error();
  if (auto st = begin(**s); !st) return st.error();
  switch (call.step) {
    case step_kind::allocate: return providers::detail::created_outcome(allocate(**s, call, true));
    case step_kind::configure: return providers::detail::created_outcome(configure(**s, call, true));
    case step_kind::activate: return activate(**s, call);
    case step_kind::verify: return verify(**s, call);
  }
  return permanent_error("bug", "unknown step");
}

result<std::optional<step_outcome>> vmware_provider::lookup(const step_call& call) {
  auto s = session_for(call.cluster_id.str());
  if (!s) return s.error();
  if (auto st = begin(**s); !st) return st.error();
  switch (call.step) {
    case step_kind::allocate: return allocate(**s, call, false);
    case step_kind::configure: return configure(**s, call, false);
    default: return std::optional<step_outcome>{};  // power and checks create nothing
  }
}

status vmware_provider::set_power(const provisiond::request_id& request, const provisiond::cluster_id& cluster,
                                  bool on) {
  auto found = request_vm(request, cluster, errc::permanent);
  if (!found) return found.error();
  auto& [s, vm] = *found;
  return power(*s, vm.ref, on ? "poweredOn" : (s->cfg.power_mode == "suspend" ? "suspended" : "poweredOff"));
}

// Logs in and finds every object the steps place VMs with, so a typo in
// the settings shows here rather than in a request.
status vmware_provider::check(const cluster_config& cluster) {
  auto s = make_session(cluster.connection, clk_);
  if (!s) return s.error();
  if (auto st = (*s)->ensure_login(); !st) return st.error();
  auto& c = (*s)->cfg;
  for (auto [path, what] : std::initializer_list<std::pair<std::string, const char*>>{
           {c.datacenter, "datacenter"},
           {c.folder_path(), "folder"},
           {c.pool_path(), c.resource_pool.empty() ? "cluster" : "resourcePool"},
           {c.datastore_path(), "datastore"},
           {c.network_path(), "network"}})
    if (auto r = (*s)->require(path, std::string("connection.") + what); !r) return r.error();
  if (!c.template_name.empty())
    if (auto r = (*s)->require(c.template_path(), "connection.template"); !r) return r.error();
  return ok();
}

status vmware_provider::validate_connection(const std::string& connection_json) const {
  auto s = parse_settings(connection_json);
  if (!s) return s.error();
  return ok();
}

// Logs in before the step's first call: refused credentials become
// "unauthenticated", which tells the engine that nothing was sent.
status vmware_provider::begin(session& s) {
  return providers::detail::refused_login_is_permanent(s.ensure_login());
}

// --- allocate: clone and size ------------------------------------------------
result<std::optional<step_outcome>> vmware_provider::allocate(session& s, const step_call& call, bool create) {
  auto name = vm_name_of(call.request_id.str());
  auto vm = find_vm(s, call.request_id.str(), sizing_paths);
  if (!vm) return vm.error();
  // A lookup adopts only a finished step; a clone not yet sized is finished by running the step.
  if (!create) {
    if (*vm && sized(**vm, call.resources))
      return std::optional<step_outcome>{vm_outcome(**vm, name, s.cfg.template_name)};
    return std::optional<step_outcome>{};
  }
  if (!*vm) {
    if (auto st = make_vm(s, call, name); !st) return st.error();
    vm = find_vm(s, call.request_id.str(), sizing_paths);
    if (!vm) return vm.error();
    if (!*vm) return retryable_error("not_found", "vCenter made " + name + " but it is not in the folder yet");
  }
  if (auto st = resize(s, **vm, call.resources); !st) return st.error();
  return std::optional<step_outcome>{vm_outcome(**vm, name, s.cfg.template_name)};
}

// The template cloned, or (no template) an empty VM created with the
// ordered size and its NIC; both carry the request's ids from birth.
status vmware_provider::make_vm(session& s, const step_call& call, const std::string& name) {
  auto folder = s.require(s.cfg.folder_path(), "connection.folder");
  if (!folder) return folder.error();
  auto pool =
      s.require(s.cfg.pool_path(), s.cfg.resource_pool.empty() ? "connection.cluster" : "connection.resourcePool");
  if (!pool) return pool.error();
  std::map<std::string, std::string> ids{
      {request_key, call.request_id.str()}, {order_key, call.order_id}, {tenant_key, call.tenant_id.str()}};
  std::string what, body;
  if (s.cfg.template_name.empty()) {
    if (auto ds = s.require(s.cfg.datastore_path(), "connection.datastore"); !ds) return ds.error();
    auto nic = backing_for_network(s);
    if (!nic) return nic.error();
    auto& want = call.resources;
    what = "vCenter CreateVM_Task " + name;
    body = create_vm(*folder, *pool, name, s.cfg.guest_id, s.cfg.datastore, std::max(1, want.cpu),
                     std::max(1, want.memory_gb) * 1024LL, std::max(1, want.storage_gb) * 1024LL * 1024, nic->xml, ids);
  } else {
    auto source = s.require(s.cfg.template_path(), "connection.template");
    if (!source) return source.error();
    auto ds = s.require(s.cfg.datastore_path(), "connection.datastore");
    if (!ds) return ds.error();
    what = "vCenter CloneVM_Task " + s.cfg.template_name + " → " + name;
    body = clone_vm(*source, *folder, name, *pool, *ds, ids);
  }
  auto task = s.start_task(body, what);
  failpoint("vmware-after-clone-sent");  // tests: die with the clone (or create) on its way
  // DuplicateName: an earlier attempt's VM finished meanwhile; find_vm judges whose it is.
  if (!task && task.error().field != "duplicate_name") return task.error();
  if (task)
    if (auto done = s.wait_task(*task, what); !done && done.error().field != "duplicate_name") return done.error();
  return ok();
}

// --- configure: network and cloud-init guestinfo -----------------------------
result<std::optional<step_outcome>> vmware_provider::configure(session& s, const step_call& call, bool create) {
  auto vm = find_vm(s, call.request_id.str(), {"config.hardware.device", "config.extraConfig"});
  if (!vm) return vm.error();
  auto name = vm_name_of(call.request_id.str());
  if (!*vm) return permanent_error("not_found", "no VM named " + name + " in " + s.cfg.folder_path());
  auto on_network = attach_network(s, **vm, create);
  if (!on_network) return on_network.error();
  auto& extra = (*vm)->view.extra_config;
  if (!create && (!*on_network || !extra.count("guestinfo.userdata"))) return std::optional<step_outcome>{};
  if (create) {
    auto password = providers::detail::root_password(*secrets_, call.request_id.str());
    if (!password) return password.error();
    auto hash = hash_password(*password, call.request_id.str());
    if (!hash) return hash.error();
    auto info = guestinfo(call.request_id.str(), name, *hash);
    bool current = true;
    for (auto& [k, v] : info)
      if (auto it = extra.find(k); it == extra.end() || it->second != v) current = false;
    if (!current) {
      config_spec spec;
      spec.extra_config = info;
      if (auto r = s.run_task(reconfig_vm((*vm)->ref, spec), "vCenter ReconfigVM_Task guestinfo of " + name); !r)
        return r.error();
    }
  }
  step_outcome out;
  out.resources.push_back({(*vm)->ref.value + "/nic", "nic", step_kind::configure, {{"network", s.cfg.network}}});
  out.outputs["network"] = s.cfg.network;
  out.outputs["guestinfo"] = "cloud-init metadata and userdata (hostname, root password hash)";
  return std::optional<step_outcome>{out};
}

// --- activate and verify -----------------------------------------------------
result<step_outcome> vmware_provider::activate(session& s, const step_call& call) {
  auto vm = find_vm(s, call.request_id.str());
  if (!vm) return vm.error();
  if (!*vm) return permanent_error("not_found", "no VM named " + vm_name_of(call.request_id.str()));
  if (auto st = power(s, (*vm)->ref, "poweredOn"); !st) return st.error();
  step_outcome out;
  out.outputs["powerState"] = "poweredOn";
  return out;
}

result<step_outcome> vmware_provider::verify(session& s, const step_call& call) {
  auto vm = find_vm(s, call.request_id.str(),
                    {"runtime.powerState", "guest.toolsRunningStatus", "guest.ipAddress", "guest.hostName"});
  if (!vm) return vm.error();
  auto name = vm_name_of(call.request_id.str());
  if (!*vm) return permanent_error("not_found", "nothing to verify: no VM named " + name);
  auto& v = (*vm)->view;
  auto state = v.value("runtime.powerState");
  if (state != "poweredOn") return retryable_error("not_powered_on", "VM " + name + " is " + state);
  step_outcome out;
  auto ip = v.value("guest.ipAddress");
  auto tools = v.value("guest.toolsRunningStatus");
  out.outputs["powerState"] = state;
  out.outputs["tools"] = tools.empty() ? "unknown" : tools;
  out.outputs["host"] = ip.empty() ? name : ip;
  if (!ip.empty()) {
    out.outputs["ipv4"] = ip;
    out.outputs["ssh"] = "ssh://root@" + ip + ":22";
  }
  out.outputs["check"] =
      "api: VM poweredOn" + std::string(ip.empty() ? "" : ", guest IP " + ip) + ", tools " + out.outputs["tools"];
  return out;
}

}  // namespace detail

std::shared_ptr<provider> make_vmware_provider(std::function<result<std::string>(const std::string&)> connection_of,
                                               std::shared_ptr<events::secret_store> secrets,
                                               std::shared_ptr<clock> clk) {
  return std::make_shared<detail::vmware_provider>(std::move(connection_of), std::move(secrets), std::move(clk));
}

}  // namespace provisiond::providers::vmware
