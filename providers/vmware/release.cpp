// The vSphere provider's releases: power off, Destroy_Task, and a VM that is
// already gone (ManagedObjectNotFound) counts as released.
#include <algorithm>

#include "providers/vmware/detail/provider.hpp"
#include "providers/vmware/envelopes.hpp"

namespace provisiond::providers::vmware::detail {

using events::step_kind;

result<std::vector<std::string>> vmware_provider::release(const release_call& call) {
  auto s = session_for(call.cluster_id.str());
  if (!s) return s.error();
  if (call.step == step_kind::allocate) return release_vm(**s, call);
  // The NIC and guestinfo of configure go with the VM.
  std::vector<std::string> ids;
  for (auto& r : call.known) ids.push_back(r.id);
  return ids;
}

result<std::vector<std::string>> vmware_provider::release_vm(session& s, const release_call& call) {
  std::vector<std::string> vms, released;
  for (auto& r : call.known)
    if (r.kind == "vm") vms.push_back(r.id);
  // Also the VM an interrupted clone left behind, found by name; one that is
  // not this request's is never touched.
  auto named = find_vm(s, call.request_id.str());
  if (!named && named.error().field != "duplicate_name") return named.error();
  if (named && *named && std::find(vms.begin(), vms.end(), (*named)->ref.value) == vms.end())
    vms.push_back((*named)->ref.value);
  for (auto& id : vms) {
    moref vm{"VirtualMachine", id};
    auto v = s.properties(vm, {"runtime.powerState"});
    if (!v && v.error().field != "not_found") return v.error();
    if (v) {
      if (v->value("runtime.powerState") != "poweredOff")
        if (auto r = s.run_task(power_off(vm), "vCenter PowerOffVM_Task of " + id);
            !r && r.error().field != "invalid_state" && r.error().field != "not_found")
          return r.error();
      if (auto r = s.run_task(destroy(vm), "vCenter Destroy_Task of " + id); !r && r.error().field != "not_found")
        return r.error();
    }
    released.push_back(id);
  }
  (void)secrets_->erase(events::request_secret_name(call.request_id.str()));  // the VM it opened is gone
  return released;
}

}  // namespace provisiond::providers::vmware::detail
