#pragma once
/// The one JSON mapping of each domain value that is stored, published or
/// shown: the codec's event payloads, the request-summary rows, the Kafka
/// CloudEvents and the HTTP views all call these, so a field is named and
/// typed in one place. A view that shows a value differently (the API's
/// createdAt as RFC 3339, unlimited quota as null) starts from this mapping
/// and overrides only what differs.
///
/// Named functions, not nlohmann's ADL hooks: `cluster_capacity` and
/// `cluster_config` live in common/, which cannot see this file, and an
/// implicit `json j = value` would silently pick the stored form where a
/// view wants another. Every use is an explicit `to_json(x)` /
/// `from_json<T>(j)`.
///
/// `from_json` reads what `to_json` writes; optional fields missing from
/// older data get their defaults (as the codec's upcasting needs). It throws
/// (nlohmann's exceptions, std::invalid_argument for an unknown step) on a
/// missing or mistyped required field: callers decode at an edge that turns
/// that into an error value (codec::decode_payload, the projection's row
/// reader). Pure and thread-safe.

#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/cluster.hpp"
#include "events/domain_events.hpp"

namespace provisiond::events {

/// "allocate" | "configure" | "activate" | "verify".
nlohmann::json to_json(step_kind s);
/// {cpu, memoryGb, storageGb}
nlohmann::json to_json(const resource_spec& r);
/// {id, kind, step, attributes}
nlohmann::json to_json(const resource_ref& r);
/// {cpu, memoryGb, storageGb, vmSlots}
nlohmann::json to_json(const cluster_capacity& c);
/// {instances, cpu, memoryGb, storageGb}; -1 (unlimited) as -1.
nlohmann::json to_json(const quota_amount& a);
/// {dimension, requested, used, limit}
nlohmann::json to_json(const quota_violation& v);
/// An array of violations.
nlohmann::json to_json(const std::vector<quota_violation>& vs);
/// {minCpu, minMemoryGb, minStorageGb (null when unset), types, regions}
nlohmann::json to_json(const approval_conditions& c);
/// {id, name, tenantId ("" for global), priority, enabled, conditions, createdAt (ms)}
nlohmann::json to_json(const approval_rule& r);
/// The rule that gated a request: {ruleId, ruleName, priority, matched}.
nlohmann::json to_json(const approval_requested& a);
/// {id, name, type, region, default, capacity, health, provisioningEnabled,
/// connection (object, secrets already removed), secretFields, createdAt (ms)}.
nlohmann::json to_json(const cluster_config& c);
/// {id, tenantId, url, events, enabled, description, createdAt, updatedAt,
/// previousSecretUntil, deactivatedAt, deactivatedReason} (times in ms, 0 = none).
nlohmann::json to_json(const webhook_endpoint& w);
/// {at, timestamp, statusCode, latencyMs, error, responseBody} (as stored: at in ms, 0 = no answer).
nlohmann::json to_json(const webhook_attempt& a);
/// A submission: {tenantId, orderId, type, region, provider, resources,
/// metadata, idempotencyKey, requestHash, dependsOn}.
nlohmann::json to_json(const request_submitted& s);

/// The value `to_json` wrote. Specialised for each type above.
template <class T>
T from_json(const nlohmann::json& j);

template <> step_kind from_json<step_kind>(const nlohmann::json& j);
template <> resource_spec from_json<resource_spec>(const nlohmann::json& j);
template <> resource_ref from_json<resource_ref>(const nlohmann::json& j);
template <> cluster_capacity from_json<cluster_capacity>(const nlohmann::json& j);
template <> quota_amount from_json<quota_amount>(const nlohmann::json& j);
template <> quota_violation from_json<quota_violation>(const nlohmann::json& j);
template <> std::vector<quota_violation> from_json<std::vector<quota_violation>>(const nlohmann::json& j);
template <> approval_conditions from_json<approval_conditions>(const nlohmann::json& j);
template <> approval_rule from_json<approval_rule>(const nlohmann::json& j);
template <> approval_requested from_json<approval_requested>(const nlohmann::json& j);
template <> cluster_config from_json<cluster_config>(const nlohmann::json& j);
template <> webhook_endpoint from_json<webhook_endpoint>(const nlohmann::json& j);
template <> webhook_attempt from_json<webhook_attempt>(const nlohmann::json& j);
/// Reads `dependsOn` when present (schema v2); the codec drops it for v1.
template <> request_submitted from_json<request_submitted>(const nlohmann::json& j);

}  // namespace provisiond::events
