// The vSphere provider's reads and in-place changes of the request's VM:
// found by name in the folder and owned by extraConfig, sized, put on the
// network, powered — each a no-op when it is already so.
#include "providers/vmware/detail/provider.hpp"
#include "providers/vmware/envelopes.hpp"

namespace provisiond::providers::vmware::detail {

result<std::optional<found_vm>> vmware_provider::find_vm(session& s, const std::string& request_id,
                                                         std::vector<std::string> paths) {
  auto name = vm_name_of(request_id);
  auto ref = s.find(s.cfg.folder_path() + "/" + name);
  if (!ref) return ref.error();
  if (!*ref) return std::optional<found_vm>{};
  paths.push_back("config.extraConfig");
  auto view = s.properties(**ref, paths);
  if (!view) {
    // Destroyed between the two calls: nothing there.
    if (view.error().field == "not_found") return std::optional<found_vm>{};
    return view.error();
  }
  auto owner = view->extra_config.find(request_key);
  if (owner == view->extra_config.end() || owner->second != request_id)
    return permanent_error("duplicate_name", "a VM named " + name + " exists in " + s.cfg.folder_path() +
                                                 " and is not this request's (" + std::string(request_key) + " = " +
                                                 (owner == view->extra_config.end() ? "unset" : owner->second) + ")");
  return std::optional<found_vm>{found_vm{**ref, std::move(*view)}};
}

result<std::pair<std::shared_ptr<session>, found_vm>> vmware_provider::request_vm(const provisiond::request_id& request,
                                                                                  const provisiond::cluster_id& cluster,
                                                                                  errc missing,
                                                                                  std::vector<std::string> paths) {
  auto s = session_for(cluster.str());
  if (!s) return s.error();
  auto vm = find_vm(**s, request.str(), std::move(paths));
  if (!vm) return vm.error();
  if (!*vm) {
    auto why = "no VM named " + vm_name_of(request.str()) + " in " + (*s)->cfg.folder_path();
    return missing == errc::permanent ? permanent_error("not_found", std::move(why))
                                      : make_error(missing, std::move(why));
  }
  return std::pair{*s, std::move(**vm)};
}

status vmware_provider::resize(session& s, const found_vm& vm, const events::resource_spec& want) {
  config_spec spec;
  if (want.cpu > 0 && vm.view.value("config.hardware.numCPU") != std::to_string(want.cpu)) spec.num_cpus = want.cpu;
  auto memory = static_cast<long long>(want.memory_gb) * 1024;
  if (want.memory_gb > 0 && vm.view.value("config.hardware.memoryMB") != std::to_string(memory))
    spec.memory_mb = memory;
  auto disk_kb = static_cast<long long>(want.storage_gb) * 1024 * 1024;
  for (auto& d : vm.view.devices) {
    if (!d.is_disk()) continue;
    // Disks only grow: a template bigger than ordered keeps its size.
    if (want.storage_gb > 0 && d.capacity_kb < disk_kb)
      spec.device_changes.push_back(device_change("edit", with_capacity(d, disk_kb)));
    break;
  }
  if (spec.num_cpus == 0 && spec.memory_mb == 0 && spec.device_changes.empty()) return ok();
  auto r = s.run_task(reconfig_vm(vm.ref, spec), "vCenter ReconfigVM_Task sizing of " + vm.ref.value);
  if (!r) return r.error();
  return ok();
}

result<nic_backing> vmware_provider::backing_for_network(session& s) {
  auto net = s.require(s.cfg.network_path(), "connection.network " + s.cfg.network);
  if (!net) return net.error();
  nic_backing b{*net, {}, {}};
  if (net->type != "DistributedVirtualPortgroup") {
    b.xml = network_backing(s.cfg.network, *net);
    return b;
  }
  auto pg = s.properties(*net, {"key", "config.distributedVirtualSwitch"});
  if (!pg) return pg.error();
  b.portgroup_key = pg->value("key").empty() ? net->value : pg->value("key");
  moref dvs{pg->value("config.distributedVirtualSwitch@type"), pg->value("config.distributedVirtualSwitch")};
  if (dvs.type.empty()) dvs.type = "VmwareDistributedVirtualSwitch";
  auto sw = s.properties(dvs, {"uuid"});
  if (!sw) return sw.error();
  b.xml = dvportgroup_backing(sw->value("uuid"), b.portgroup_key);
  return b;
}

result<bool> vmware_provider::attach_network(session& s, const found_vm& vm, bool apply) {
  auto b = backing_for_network(s);
  if (!b) return b.error();
  const device* nic = nullptr;
  for (auto& d : vm.view.devices)
    if (d.is_nic()) {
      nic = &d;
      break;
    }
  bool there =
      nic && (b->portgroup_key.empty() ? nic->network == b->network.value : nic->portgroup_key == b->portgroup_key);
  if (there || !apply) return there;
  config_spec spec;
  spec.device_changes.push_back(nic ? device_change("edit", with_backing(*nic, b->xml))
                                    : device_change("add", new_nic_device(b->xml)));
  auto r =
      s.run_task(reconfig_vm(vm.ref, spec), "vCenter ReconfigVM_Task NIC of " + vm.ref.value + " on " + s.cfg.network);
  if (!r) return r.error();
  return true;
}

status vmware_provider::power(session& s, const moref& vm, const std::string& target) {
  auto state = [&]() -> result<std::string> {
    auto v = s.properties(vm, {"runtime.powerState"});
    if (!v) return v.error();
    return v->value("runtime.powerState");
  };
  auto now = state();
  if (!now) return now.error();
  if (*now == target) return ok();
  // Suspending a VM that is off: it is stopped already.
  if (target == "suspended" && *now == "poweredOff") return ok();
  bool on = target == "poweredOn", pause = target == "suspended";
  auto body = on ? power_on(vm) : pause ? suspend(vm) : power_off(vm);
  auto what = std::string("vCenter ") +
              (on      ? "PowerOnVM_Task"
               : pause ? "SuspendVM_Task"
                       : "PowerOffVM_Task") +
              " of " + vm.value;
  if (auto r = s.run_task(body, what); !r && r.error().field != "invalid_state") return r.error();
  auto deadline = clk_->now() + time_ms{s.cfg.task_timeout_s} * 1000;
  for (;;) {  // InvalidPowerState above: someone else got there; the state decides
    now = state();
    if (!now) return now.error();
    if (*now == target) return ok();
    if (clk_->now() >= deadline)
      return retryable_error("timeout", "VM " + vm.value + " is " + *now + ", not " + target + " after " +
                                            std::to_string(s.cfg.task_timeout_s) + " s");
    clk_->sleep_for(250);
  }
}

}  // namespace provisiond::providers::vmware::detail
