#pragma once
/// The one JSON mapping of the shared simulation cloud's protocol (the
/// `provisiond sim-cloud` server and `make_remote_simulation_provider`):
/// step calls, outcomes, releases, power calls, provider errors and the
/// ledger. Resource specs and refs go through events/json_mapping.hpp; the
/// ledger is read back from what `ledger_to_json` writes. Decoders never
/// throw: a missing or mistyped field is invalid_argument naming it.
/// Pure and thread-safe.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "providers/simulation/simulation_provider.hpp"

namespace provisiond::providers::simulation::wire {

/// {requestId, tenantId, orderId, type, region, clusterId, resources, step,
/// attempt, idempotencyKey, inputs}
nlohmann::json to_json(const step_call& c);
result<step_call> step_call_from(const nlohmann::json& j);

/// {resources: [resource_ref], outputs, awaitingInput}
nlohmann::json to_json(const step_outcome& o);
result<step_outcome> step_outcome_from(const nlohmann::json& j);

/// {requestId, clusterId, step, attempt, known: [resource_ref]}
nlohmann::json to_json(const release_call& c);
result<release_call> release_call_from(const nlohmann::json& j);

/// A suspend or reactivate: {requestId, clusterId, on}.
struct power_call {
  provisiond::request_id request_id;
  provisiond::cluster_id cluster_id;
  bool on = true;
};
nlohmann::json to_json(const power_call& c);
result<power_call> power_call_from(const nlohmann::json& j);

/// A provider's verdict as the server answers it (status 200, so the
/// client can tell it from a transport failure):
/// {"error": {"code": "retryable", "field": "timeout", "message": "..."}}.
nlohmann::json error_to_json(const error& e);
/// The error carried by a reply body, if it has an `error` object.
std::optional<error> error_from_json(const nlohmann::json& j);

/// The entries `ledger_to_json` wrote (createdAt read back from RFC 3339).
result<std::vector<ledger_entry>> ledger_from_json(const nlohmann::json& j);

}  // namespace provisiond::providers::simulation::wire
