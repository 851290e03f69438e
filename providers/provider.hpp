#pragma once
/// The interface every provider implements (simulation, manual, openstack,
/// kubernetes, proxmox, vmware). Calls block; the actors run them on an I/O
/// pool, never on CAF's scheduler threads.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/ids.hpp"
#include "common/result.hpp"
#include "events/domain_events.hpp"
#include "providers/metrics.hpp"

namespace provisiond::providers {

/// One pipeline step to run for one request.
struct step_call {
  provisiond::request_id request_id;
  provisiond::tenant_id tenant_id;
  std::string order_id;
  std::string type;
  std::string region;
  provisiond::cluster_id cluster_id;
  events::resource_spec resources;
  events::step_kind step = events::step_kind::allocate;
  int attempt = 1;
  /// Derived from request id, step and attempt. Resources are tagged with it
  /// and with request id and step, so any later attempt finds them.
  std::string idempotency_key;
  events::string_map inputs;  ///< outputs of the earlier steps
};

struct step_outcome {
  std::vector<events::resource_ref> resources;  ///< created or adopted
  events::string_map outputs;                   ///< endpoints and facts
  /// The step cannot finish without a person (manual provider): the request
  /// waits in AwaitingManualInput; `outputs["message"]` says for what.
  bool awaiting_input = false;
};

/// Undo one step: release everything the request holds from it.
struct release_call {
  provisiond::request_id request_id;
  provisiond::cluster_id cluster_id;
  events::step_kind step = events::step_kind::allocate;
  int attempt = 1;
  std::vector<events::resource_ref> known;  ///< what the journal says the step owns
};

/// Errors carry errc::retryable or errc::permanent; `field` holds the
/// provider's own error code (e.g. "timeout", "quota").
class provider {
 public:
  virtual ~provider() = default;
  /// Cluster type this provider serves ("simulation", "openstack", ...).
  virtual std::string kind() const = 0;

  /// Runs a step. Idempotent: what already exists for (request, step) is
  /// adopted, not created again.
  virtual result<step_outcome> execute(const step_call& call) = 0;

  /// Looks up what exists for (request, step) without creating anything.
  /// nullopt: nothing exists, so running the step is safe.
  virtual result<std::optional<step_outcome>> lookup(const step_call& call) = 0;

  /// Releases everything of (request, step), known to the journal or found at
  /// the provider. Idempotent; a missing resource counts as released.
  /// Returns the ids released.
  virtual result<std::vector<std::string>> release(const release_call& call) = 0;

  /// Stops (on = false) or starts the request's service, keeping its
  /// resources. Idempotent: stopping a stopped service succeeds.
  virtual status set_power(const request_id& request, const cluster_id& cluster, bool on) = 0;

  /// Connectivity check against one cluster (authenticate, list something).
  virtual status check(const cluster_config& cluster) = 0;

  /// Checks a cluster's connection settings (a JSON object, secrets
  /// included) without any I/O, so a bad setting is a 400 at registration:
  /// the error names the field (`connection.flavor`). Default: anything goes.
  virtual status validate_connection(const std::string& connection_json) const {
    (void)connection_json;
    return ok();
  }

  /// Live figures of a running service (CPU, memory, disk, network), where
  /// the provider and the cloud's policy allow it; one shape for all
  /// (metrics.hpp).
  virtual result<service_metrics> metrics(const request_id& request, const cluster_id& cluster) {
    (void)request;
    (void)cluster;
    return make_error(errc::unsupported, "this provider has no live metrics");
  }
};

/// Provider error helpers.
inline error retryable_error(std::string code, std::string message) {
  return make_error(errc::retryable, std::move(message), std::move(code));
}
inline error permanent_error(std::string code, std::string message) {
  return make_error(errc::permanent, std::move(message), std::move(code));
}

/// Finds a provider by cluster type.
class provider_registry {
 public:
  void add(std::shared_ptr<provider> p) { providers_.push_back(std::move(p)); }
  std::shared_ptr<provider> find(const std::string& kind) const {
    for (auto& p : providers_)
      if (p->kind() == kind) return p;
    return nullptr;
  }

 private:
  std::vector<std::shared_ptr<provider>> providers_;
};

}  // namespace provisiond::providers
