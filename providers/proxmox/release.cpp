// The Proxmox provider's releases: stop, then DELETE with purge and
// destroy-unreferenced-disks; a VM already gone counts as released.
#include <algorithm>

#include "providers/proxmox/detail/provider.hpp"
#include "providers/proxmox/errors.hpp"

namespace provisiond::providers::proxmox::detail {

using events::step_kind;
using nlohmann::json;

result<std::vector<std::string>> proxmox_provider::release(const release_call& call) {
  std::vector<std::string> ids;
  if (call.step != step_kind::allocate) {
    // Cloud-init settings and power live on the VM: they go with it.
    for (auto& r : call.known) ids.push_back(r.id);
    return ids;
  }
  auto s = session_for(call.cluster_id.str());
  if (!s) return s.error();
  auto rid = call.request_id.str();
  // Whatever carries the request's name or tag, or sits on its recorded
  // VMID under its name (an interrupted create); never a stranger's VM.
  auto vms = find_vms(**s, rid);
  if (!vms) return vms.error();
  for (auto& vm : *vms) {
    vm_ref ref{static_cast<int>(as_integer(vm["vmid"]).value_or(0)), str_of(vm, "node")};
    if (auto st = destroy(**s, ref); !st) return st.error();
    ids.push_back(std::to_string(ref.vmid));
  }
  for (auto& r : call.known)
    if (r.kind == "vm" && std::find(ids.begin(), ids.end(), r.id) == ids.end()) ids.push_back(r.id);
  (void)secrets_->erase(intent_name(rid));
  (void)secrets_->erase(events::request_secret_name(rid));  // the VM it opened is gone
  return ids;
}

status proxmox_provider::destroy(session& s, const vm_ref& vm) {
  auto what = "Proxmox destroy VM " + std::to_string(vm.vmid);
  auto path = "/nodes/" + percent_encode(vm.node) + "/qemu/" + std::to_string(vm.vmid);
  for (int tries = 0; tries < 5; ++tries) {
    auto st = vm_status(s, vm);
    if (!st) {
      if (st.error().field == "not_found") return ok();
      return st.error();
    }
    if (!str_of(*st, "lock").empty())
      if (auto w = wait_unlocked(s, vm); !w) return w.error();
    if (str_of(*st, "status") != "stopped") {
      if (auto p = power_action(s, vm, "stop"); !p) return p.error();
      if (auto w = wait_power(s, vm, "stopped", s.cfg.active_timeout_s); !w) return w.error();
    }
    auto r = s.call("DELETE", path, {{"purge", "1"}, {"destroy-unreferenced-disks", "1"}});
    if (!r) return r.error();
    if (r->status == 200 && r->body.is_object() && r->body["data"].is_string()) {
      auto t = s.wait_task(r->body["data"].get<std::string>(), what);
      if (!t && t.error().message.find("does not exist") == std::string::npos) return t.error();
      return ok();
    }
    auto msg = pve_message(r->status, r->raw);
    switch (classify_reply(r->status, msg).what) {
      case action::gone: return ok();
      case action::stop_first:   // started again under our feet: stop, then delete
      case action::wait_unlock:  // a task holds it: the loop waits for the lock
        continue;
      default: return to_error(r->status, r->raw, what);
    }
  }
  return retryable_error("busy", what + ": still there after 5 tries");
}

}  // namespace provisiond::providers::proxmox::detail
