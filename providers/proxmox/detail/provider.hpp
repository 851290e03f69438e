#pragma once
/// The Proxmox VE provider class, declared once for the files that
/// implement it: provider.cpp (the interface and the four steps), vm.cpp
/// (finding the request's VM, its recorded VMID, power and waits),
/// release.cpp, metrics.cpp. Thread-safe: state is the session cache and
/// the secret store, both thread-safe; calls block on the engine's I/O pool.

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "events/secret_store.hpp"
#include "providers/detail/session_cache.hpp"
#include "providers/provider.hpp"
#include "providers/proxmox/detail/session.hpp"

namespace provisiond::providers::proxmox::detail {

/// Where a request's VM is: its VMID and node.
struct vm_ref {
  int vmid = 0;
  std::string node;
};

class proxmox_provider final : public provider {
 public:
  proxmox_provider(std::function<result<std::string>(const std::string&)> connection_of,
                   std::shared_ptr<events::secret_store> secrets, std::shared_ptr<clock> clk);

  std::string kind() const override { return "proxmox"; }
  result<step_outcome> execute(const step_call& call) override;
  result<std::optional<step_outcome>> lookup(const step_call& call) override;
  result<std::vector<std::string>> release(const release_call& call) override;
  status set_power(const provisiond::request_id& request, const provisiond::cluster_id& cluster, bool on) override;
  result<service_metrics> metrics(const provisiond::request_id& request,
                                  const provisiond::cluster_id& cluster) override;
  status check(const cluster_config& cluster) override;
  status validate_connection(const std::string& connection_json) const override;

 private:
  using json = nlohmann::json;

  // provider.cpp
  result<std::optional<step_outcome>> allocate(session& s, const step_call& call, bool create);
  status create_vm(session& s, const step_call& call, vm_ref& where);
  result<vm_ref> fresh_vmid(session& s, const std::string& request_id);
  result<std::string> template_node(session& s);
  status finish_clone(session& s, const step_call& call, const vm_ref& vm);
  result<step_outcome> configure(session& s, const step_call& call);
  result<step_outcome> activate(session& s, const step_call& call);
  result<step_outcome> verify(session& s, const step_call& call);

  // vm.cpp
  /// The VMID recorded for the request before its create was sent (sealed
  /// with the secrets, so it outlives a crash); nullopt: none yet.
  result<std::optional<vm_ref>> intent(const std::string& request_id);
  status record_intent(const std::string& request_id, const vm_ref& vm);
  /// Every VM in /cluster/resources with the request's name or tag, the one
  /// on the recorded VMID first.
  result<json> find_vms(session& s, const std::string& request_id);
  /// The first of find_vms; nullopt: none.
  result<std::optional<json>> find_vm(session& s, const std::string& request_id);
  /// The request's VM from the step's inputs or the cluster; `missing`
  /// classes the error when there is none.
  result<vm_ref> locate(session& s, const std::string& request_id, const events::string_map& inputs, errc missing);
  result<std::pair<std::shared_ptr<session>, vm_ref>> request_vm(const provisiond::request_id& request,
                                                                 const provisiond::cluster_id& cluster, errc missing);
  result<json> vm_status(session& s, const vm_ref& vm);
  /// Waits until the VM has no lock (a clone or backup running on it).
  status wait_unlocked(session& s, const vm_ref& vm);
  /// POST status/<action>, then its task; a locked VM is waited for first.
  status power_action(session& s, const vm_ref& vm, const std::string& action);
  status wait_power(session& s, const vm_ref& vm, const std::string& target, int seconds);

  // release.cpp
  status destroy(session& s, const vm_ref& vm);

  result<std::shared_ptr<session>> session_for(const std::string& cluster_id) { return sessions_.get(cluster_id); }

  std::shared_ptr<clock> clk_;
  providers::detail::session_cache<session> sessions_;
  std::shared_ptr<events::secret_store> secrets_;
};

/// "request/<id>/proxmox-vm": where the VMID chosen for a request is kept.
std::string intent_name(const std::string& request_id);

/// `j[k]` as a string, else "".
std::string str_of(const nlohmann::json& j, const char* k);
/// `j[k]` as a number (Proxmox gives numbers, sometimes as strings), else nullopt.
std::optional<double> num_of(const nlohmann::json& j, const char* k);

}  // namespace provisiond::providers::proxmox::detail
