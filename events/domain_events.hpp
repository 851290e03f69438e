#pragma once
/// The request stream's events: past-tense facts. Wire names and schema
/// versions (see codec.hpp) are never changed or reused.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/clock.hpp"
#include "common/cluster.hpp"

namespace provisiond::events {

/// The four pipeline steps, in order.
enum class step_kind : std::uint8_t { allocate = 0, configure = 1, activate = 2, verify = 3 };
inline constexpr int step_count = 4;
/// "allocate", "configure", "activate", "verify".
const char* to_string(step_kind s) noexcept;
std::optional<step_kind> parse_step(const std::string& s) noexcept;

using string_map = std::map<std::string, std::string>;

struct resource_spec {
  int cpu = 0;
  int memory_gb = 0;
  int storage_gb = 0;
  friend bool operator==(const resource_spec&, const resource_spec&) = default;
};

/// Something a provider created for a request.
struct resource_ref {
  std::string id;
  std::string kind;  ///< "server", "floating_ip", ...
  step_kind step = step_kind::allocate;
  string_map attributes;
  friend bool operator==(const resource_ref&, const resource_ref&) = default;
};

/// A request was accepted into the system (state Queued).
struct request_submitted {
  std::string tenant_id;
  std::string order_id;
  std::string type;      ///< vps | private-cloud | managed-database | object-storage | namespace
  std::string region;
  std::string provider;  ///< cluster type
  resource_spec resources;
  string_map metadata;
  std::string idempotency_key;  ///< empty when none was given
  std::string request_hash;     ///< digest of the canonical body, for Idempotency-Key checks
  std::vector<std::string> depends_on;  ///< request ids of the same tenant (schema v2)
  friend bool operator==(const request_submitted&, const request_submitted&) = default;
};

/// Quota dimensions; also what one request reserves.
struct quota_amount {
  int instances = 0;
  int cpu = 0;
  int memory_gb = 0;
  int storage_gb = 0;
  friend bool operator==(const quota_amount&, const quota_amount&) = default;
};

/// Admission reserved the request's resources against the tenant's quota.
struct quota_reserved {
  quota_amount amount;
  friend bool operator==(const quota_reserved&, const quota_reserved&) = default;
};

/// The reservation was given back (rolled back, rejected, failed before allocating).
struct quota_released {
  quota_amount amount;
  friend bool operator==(const quota_released&, const quota_released&) = default;
};

struct quota_violation {
  std::string dimension;  ///< instances | cpu | memoryGb | storageGb
  long long requested = 0;
  long long used = 0;
  long long limit = 0;
  friend bool operator==(const quota_violation&, const quota_violation&) = default;
};

/// Admission refused: the request does not fit the tenant's quota.
struct quota_exceeded {
  std::vector<quota_violation> violations;
  friend bool operator==(const quota_exceeded&, const quota_exceeded&) = default;
};

/// An approval rule matched: the request waits in PendingApproval.
struct approval_requested {
  std::string rule_id;
  std::string rule_name;
  int priority = 0;
  std::vector<std::string> matched;  ///< the conditions that held, e.g. "minCpu 16 <= 32"
  friend bool operator==(const approval_requested&, const approval_requested&) = default;
};

struct request_approved {
  std::string comment;
  friend bool operator==(const request_approved&, const request_approved&) = default;
};

struct request_rejected {
  std::string reason;
  friend bool operator==(const request_rejected&, const request_rejected&) = default;
};

/// The tenant supervisor gave the request a working slot: dependencies are
/// complete and fewer than the tenant's limit are in flight.
struct request_admitted {
  friend bool operator==(const request_admitted&, const request_admitted&) = default;
};

/// Placement chose a cluster for the request.
/// `reason` says why this cluster, and why each candidate before it was
/// skipped. `capacity` was reserved on the cluster (schema v2).
struct cluster_placed {
  std::string cluster_id;
  std::string reason;
  cluster_capacity capacity;
  friend bool operator==(const cluster_placed&, const cluster_placed&) = default;
};

/// Intent: a provider call for `step` is about to be made. Persisted before the call.
struct step_started {
  step_kind step = step_kind::allocate;
  int attempt = 1;
  std::string idempotency_key;
  friend bool operator==(const step_started&, const step_started&) = default;
};

/// A provider resource now belongs to the request (created or adopted).
struct resource_allocated {
  resource_ref resource;
  friend bool operator==(const resource_allocated&, const resource_allocated&) = default;
};

struct step_completed {
  step_kind step = step_kind::allocate;
  int attempt = 1;
  string_map outputs;  ///< endpoints and facts the step produced
  bool adopted = false;  ///< settled by lookup after an interrupted call
  friend bool operator==(const step_completed&, const step_completed&) = default;
};

struct step_failed {
  step_kind step = step_kind::allocate;
  int attempt = 1;
  std::string code;  ///< provider error code
  std::string message;
  bool retryable = false;
  time_ms retry_at = 0;  ///< 0: no retry follows
  friend bool operator==(const step_failed&, const step_failed&) = default;
};

/// All four steps completed.
struct request_completed {
  string_map endpoints;
  friend bool operator==(const request_completed&, const request_completed&) = default;
};

/// The request failed for good.
struct request_failed {
  std::string code;  ///< e.g. "step_failed", "retries_exhausted", "no_cluster"
  std::string reason;
  std::optional<step_kind> step;
  friend bool operator==(const request_failed&, const request_failed&) = default;
};

struct rollback_started {
  std::string reason;
  friend bool operator==(const rollback_started&, const rollback_started&) = default;
};

/// Everything one step allocated was released at the provider.
struct step_compensated {
  step_kind step = step_kind::allocate;
  std::vector<std::string> released;  ///< resource ids
  friend bool operator==(const step_compensated&, const step_compensated&) = default;
};

struct compensation_failed {
  step_kind step = step_kind::allocate;
  int attempt = 1;
  std::string message;
  time_ms retry_at = 0;
  friend bool operator==(const compensation_failed&, const compensation_failed&) = default;
};

/// Every allocated resource is released (state RolledBack).
struct rolled_back {
  friend bool operator==(const rolled_back&, const rolled_back&) = default;
};

/// What an operator or the Order saga asks of a request's service.
enum class lifecycle_action : std::uint8_t { suspend, reactivate, deprovision, retry };
/// "suspend", "reactivate", "deprovision", "retry" (events/catalog.hpp).
const char* to_string(lifecycle_action a) noexcept;
std::optional<lifecycle_action> parse_lifecycle_action(std::string_view s) noexcept;

/// Service lifecycle actions: suspend | reactivate | deprovision.
/// An action was asked for (the intent, before the provider call).
struct action_requested {
  lifecycle_action action = lifecycle_action::suspend;
  friend bool operator==(const action_requested&, const action_requested&) = default;
};

/// The provider stopped the service; resources are kept (state Suspended).
struct service_suspended {
  friend bool operator==(const service_suspended&, const service_suspended&) = default;
};

/// The provider started the service again (state Completed).
struct service_reactivated {
  friend bool operator==(const service_reactivated&, const service_reactivated&) = default;
};

/// A suspend or reactivate call failed; retried at `retry_at` unless 0.
struct action_failed {
  lifecycle_action action = lifecycle_action::suspend;
  int attempt = 1;
  std::string message;
  time_ms retry_at = 0;
  friend bool operator==(const action_failed&, const action_failed&) = default;
};

/// Deprovisioning finished: everything released (state RolledBack, deprovisioned).
struct deprovisioned {
  friend bool operator==(const deprovisioned&, const deprovisioned&) = default;
};

/// A Failed or RolledBack request runs again (state Queued, admission anew).
struct retry_requested {
  friend bool operator==(const retry_requested&, const retry_requested&) = default;
};

/// The cluster capacity reserved at placement was given back (with the
/// rolled_back or deprovisioned that ends the request's hold on the cluster).
struct capacity_released {
  std::string cluster_id;
  cluster_capacity capacity;
  friend bool operator==(const capacity_released&, const capacity_released&) = default;
};

/// The provider needs a person (manual / vendor-managed clusters): the step
/// waits in AwaitingManualInput until POST /complete.
struct manual_input_requested {
  step_kind step = step_kind::activate;
  std::string message;
  friend bool operator==(const manual_input_requested&, const manual_input_requested&) = default;
};

/// An operator delivered the access details. The password or private key is
/// never here: it is sealed in the secret store; `credential` names its kind.
struct manual_input_provided {
  step_kind step = step_kind::activate;
  std::string host;
  std::string username;
  string_map endpoints;
  std::string credential;  ///< "password" | "privateKey"
  std::string operator_note;
  friend bool operator==(const manual_input_provided&, const manual_input_provided&) = default;
};

/// A provider call given up as stuck answered after all. Its resources now
/// belong to the request again, so the rollback releases them too.
struct late_result_received {
  step_kind step = step_kind::allocate;
  int attempt = 1;
  std::vector<resource_ref> resources;
  friend bool operator==(const late_result_received&, const late_result_received&) = default;
};

/// Admin stream `clusters`: a cluster was registered or changed. Secret
/// connection fields are not here (sealed in the secret store); only their names.
struct cluster_saved {
  cluster_config cluster;
  friend bool operator==(const cluster_saved&, const cluster_saved&) = default;
};

struct cluster_deleted {
  std::string cluster_id;
  friend bool operator==(const cluster_deleted&, const cluster_deleted&) = default;
};

/// Admin stream `tenant-quotas`: a tenant's quota was set (-1 = unlimited).
struct quota_set {
  std::string tenant_id;
  quota_amount limits;
  friend bool operator==(const quota_set&, const quota_set&) = default;
};

struct approval_conditions {
  std::optional<int> min_cpu;
  std::optional<int> min_memory_gb;
  std::optional<int> min_storage_gb;
  std::vector<std::string> types;    ///< empty: any
  std::vector<std::string> regions;  ///< empty: any
  friend bool operator==(const approval_conditions&, const approval_conditions&) = default;
};

struct approval_rule {
  std::string id;
  std::string name;
  std::string tenant_id;  ///< empty: global
  int priority = 0;
  bool enabled = true;
  approval_conditions conditions;
  time_ms created_at = 0;
  friend bool operator==(const approval_rule&, const approval_rule&) = default;
};

/// Admin stream `approval-rules`: a rule was created or replaced.
struct approval_rule_saved {
  approval_rule rule;
  friend bool operator==(const approval_rule_saved&, const approval_rule_saved&) = default;
};

struct approval_rule_deleted {
  std::string rule_id;
  friend bool operator==(const approval_rule_deleted&, const approval_rule_deleted&) = default;
};

/// A tenant's webhook endpoint (admin stream `webhooks`). Its signing
/// secrets are not here: they are sealed in the secret store
/// (`webhook_secret_name`); `previous_secret_until` is the end of a
/// rotation's overlap, during which the previous secret also signs.
struct webhook_endpoint {
  std::string id;
  std::string tenant_id;
  std::string url;
  std::vector<std::string> events;  ///< event types, or "*" for all
  bool enabled = true;
  std::string description;
  time_ms created_at = 0;
  time_ms updated_at = 0;
  time_ms previous_secret_until = 0;  ///< 0: no previous secret
  time_ms deactivated_at = 0;         ///< set while deactivated by failures
  std::string deactivated_reason;
  friend bool operator==(const webhook_endpoint&, const webhook_endpoint&) = default;
};

/// Admin stream `webhooks`: an endpoint was registered, changed, re-enabled
/// or had its secret rotated.
struct webhook_saved {
  webhook_endpoint endpoint;
  friend bool operator==(const webhook_saved&, const webhook_saved&) = default;
};

struct webhook_deleted {
  std::string webhook_id;
  friend bool operator==(const webhook_deleted&, const webhook_deleted&) = default;
};

/// Consecutive failed deliveries switched the endpoint off (until a PUT
/// with `enabled: true`).
struct webhook_deactivated {
  std::string webhook_id;
  std::string reason;
  int consecutive_failures = 0;
  time_ms at = 0;
  friend bool operator==(const webhook_deactivated&, const webhook_deactivated&) = default;
};

/// One attempt to deliver a webhook.
struct webhook_attempt {
  time_ms at = 0;
  std::int64_t timestamp_s = 0;  ///< the `webhook-timestamp` sent
  int status_code = 0;           ///< 0: no answer
  std::int64_t latency_ms = 0;
  std::string error;          ///< "" on success; "blocked_address: ...", "timeout: ...", "status 500", ...
  std::string response_body;  ///< at most 1 KiB
  friend bool operator==(const webhook_attempt&, const webhook_attempt&) = default;
};

/// Stream `webhook-deliveries-<tenant>`: a delivery ended (succeeded, or
/// failed after its retries), with its attempts. Written by the instance
/// that delivers for the tenant; the others fold it so a failover does not
/// send it again.
struct webhook_delivery_settled {
  std::string delivery_id;
  std::string webhook_id;
  std::string event_id;
  std::string status;  ///< "succeeded" | "failed"
  std::vector<webhook_attempt> attempts;
  friend bool operator==(const webhook_delivery_settled&, const webhook_delivery_settled&) = default;
};

/// Admin stream `api-keys`: an API key was issued. Only the SHA-256 of its
/// secret is kept (the secret is 256 random bits, shown once to whoever
/// created it); `role` is an auth role name, `tenant_id` set for tenant roles.
struct api_key_issued {
  std::string key_id;
  std::string name;
  std::string role;
  std::string tenant_id;
  bool read_only = false;
  std::string secret_sha256;  ///< hex
  time_ms created_at = 0;
  std::string created_by;  ///< the issuer's audit subject ("key:<id>", "jwt:...")
  friend bool operator==(const api_key_issued&, const api_key_issued&) = default;
};

struct api_key_revoked {
  std::string key_id;
  time_ms at = 0;
  std::string by;
  friend bool operator==(const api_key_revoked&, const api_key_revoked&) = default;
};

using event = std::variant<request_submitted, cluster_placed, step_started, resource_allocated,
                           step_completed, step_failed, request_completed, request_failed,
                           rollback_started, step_compensated, compensation_failed, rolled_back,
                           quota_reserved, quota_released, quota_exceeded, approval_requested,
                           request_approved, request_rejected, request_admitted, quota_set,
                           approval_rule_saved, approval_rule_deleted, action_requested, service_suspended,
                           service_reactivated, action_failed, deprovisioned, retry_requested,
                           capacity_released, manual_input_requested, manual_input_provided,
                           late_result_received, cluster_saved, cluster_deleted, webhook_saved,
                           webhook_deleted, webhook_deactivated, webhook_delivery_settled, api_key_issued,
                           api_key_revoked>;

/// Wire name of the event's type ("request_submitted", ...).
const char* type_name(const event& e) noexcept;
/// Every event type's wire name, in the variant's order.
const std::vector<std::string>& all_type_names();

}  // namespace provisiond::events
