#pragma once
/// The request stream's events: past-tense facts. Wire names and schema
/// versions (see codec.hpp) are never changed or reused.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/clock.hpp"

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
  friend bool operator==(const request_submitted&, const request_submitted&) = default;
};

/// Placement chose a cluster for the request.
struct cluster_placed {
  std::string cluster_id;
  std::string reason;
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

using event = std::variant<request_submitted, cluster_placed, step_started, resource_allocated,
                           step_completed, step_failed, request_completed, request_failed,
                           rollback_started, step_compensated, compensation_failed, rolled_back>;

/// Wire name of the event's type ("request_submitted", ...).
const char* type_name(const event& e) noexcept;

}  // namespace provisiond::events
