#pragma once
/// The vSphere provider class, declared once for the files that implement
/// it: provider.cpp (the interface and the four steps), lookups.cpp (the
/// request's VM, sizing, NIC, power), release.cpp, stats.cpp (metrics).
/// Thread-safe: state is the session cache and the secret store, both
/// thread-safe; calls block and run on the engine's I/O pool.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "events/secret_store.hpp"
#include "providers/detail/session_cache.hpp"
#include "providers/provider.hpp"
#include "providers/vmware/detail/session.hpp"

namespace provisiond::providers::vmware::detail {

/// The request's VM and the properties read with it.
struct found_vm {
  moref ref;
  object_view view;
};

/// A NIC backing on the configured network, and what identifies it.
struct nic_backing {
  moref network;
  std::string xml;            ///< the <backing> element
  std::string portgroup_key;  ///< distributed port groups only
};

class vmware_provider final : public provider {
 public:
  vmware_provider(std::function<result<std::string>(const std::string&)> connection_of,
                  std::shared_ptr<events::secret_store> secrets, std::shared_ptr<clock> clk);

  std::string kind() const override { return "vmware"; }
  result<step_outcome> execute(const step_call& call) override;
  result<std::optional<step_outcome>> lookup(const step_call& call) override;
  result<std::vector<std::string>> release(const release_call& call) override;
  status set_power(const provisiond::request_id& request, const provisiond::cluster_id& cluster, bool on) override;
  result<service_metrics> metrics(const provisiond::request_id& request,
                                  const provisiond::cluster_id& cluster) override;
  status check(const cluster_config& cluster) override;
  status validate_connection(const std::string& connection_json) const override;

 private:
  // provider.cpp
  static status begin(session& s);
  result<std::optional<step_outcome>> allocate(session& s, const step_call& call, bool create);
  status make_vm(session& s, const step_call& call, const std::string& name);
  result<std::optional<step_outcome>> configure(session& s, const step_call& call, bool create);
  result<step_outcome> activate(session& s, const step_call& call);
  result<step_outcome> verify(session& s, const step_call& call);

  // lookups.cpp
  /// The VM named for the request in the configured folder, with `paths`
  /// read; nullopt when there is none. A VM of that name that carries
  /// another request's id (or none) is permanent "duplicate_name".
  result<std::optional<found_vm>> find_vm(session& s, const std::string& request_id,
                                          std::vector<std::string> paths = {});
  /// The cluster's session and the request's VM; `missing` is the error
  /// class when there is none.
  result<std::pair<std::shared_ptr<session>, found_vm>> request_vm(const provisiond::request_id& request,
                                                                   const provisiond::cluster_id& cluster, errc missing,
                                                                   std::vector<std::string> paths = {});
  /// CPU count, memory and the first disk grown to the ordered sizes, in one
  /// reconfigure, only where they differ.
  status resize(session& s, const found_vm& vm, const events::resource_spec& want);
  /// The configured network's backing (a distributed port group is read for
  /// its key and switch).
  result<nic_backing> backing_for_network(session& s);
  /// The first NIC on the configured network (edited, or added when the VM
  /// has none); nothing when it is there already.
  /// With `apply` false only reports whether it is there. Returns whether
  /// the NIC is on the network afterwards.
  result<bool> attach_network(session& s, const found_vm& vm, bool apply);
  /// Powers the VM to `target` (poweredOn | poweredOff | suspended) and
  /// waits until vCenter reports it; already there is done.
  status power(session& s, const moref& vm, const std::string& target);

  // release.cpp
  result<std::vector<std::string>> release_vm(session& s, const release_call& call);

  result<std::shared_ptr<session>> session_for(const std::string& cluster_id) { return sessions_.get(cluster_id); }

  std::shared_ptr<clock> clk_;
  providers::detail::session_cache<session> sessions_;
  std::shared_ptr<events::secret_store> secrets_;
  std::mutex counters_mutex_;
  std::map<std::string, std::map<std::string, int>> counters_;  // perf counter ids by cluster id (stats.cpp)
};

}  // namespace provisiond::providers::vmware::detail
