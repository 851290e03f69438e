#pragma once
/// The HTTP API: routes, validation and JSON rendering. No Beast and no CAF
/// here; the server hands requests in, the engine and projections answer.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "actors/engine.hpp"
#include "common/result.hpp"
#include "events/envelope.hpp"
#include "events/secret_store.hpp"
#include "gateway/http_server.hpp"
#include "projections/request_summary.hpp"

namespace provisiond::gateway {

/// What the API needs, wired by app/.
struct api_backend {
  actors::engine* engine = nullptr;
  actors::governance* governance = nullptr;  ///< quotas and approval rules
  actors::cluster_directory* clusters = nullptr;
  providers::provider_registry* providers = nullptr;  ///< for POST /v1/clusters/{id}/test
  events::secret_store* secrets = nullptr;            ///< delivered credentials (manual complete)
  projections::request_summary_projection* summaries = nullptr;
  /// The stored events of one request (read side of the journal, for audits).
  std::function<result<std::vector<events::envelope>>(const std::string& request_id)> history;
  /// GET /v1/simulation/ledger body, or unset when no simulation provider runs.
  std::function<result<std::string>()> simulation_ledger;
  /// False while starting or stopping (/readyz).
  std::function<bool()> ready;
  /// GET /v1/system body (Kafka bootstrap, version, ...).
  std::function<std::string()> system_info;
};

/// Handles one request. Thread-safe; never throws.
http_response handle(const api_backend& backend, const http_request& req);

/// Parses and validates a POST /v1/requests body (also used by the Kafka
/// intake). Errors name the field and what was expected. The optional
/// client-chosen request id goes to `id` when given.
result<events::request_submitted> parse_submission(const std::string& body, std::string* id = nullptr);

/// The same from a parsed JSON object (the Kafka intake's provision
/// command); keys named by `extra_known_*` are skipped (the command's own).
result<events::request_submitted> submission_from_json(const nlohmann::json& j, std::string* id = nullptr,
                                                       const char* extra_known_a = nullptr,
                                                       const char* extra_known_b = nullptr);

/// {"error": {"code", "message", "field"?}} with the matching HTTP status.
http_response error_response(const error& e);

/// Cluster routes (/v1/clusters...) and the manual-provider routes
/// (/v1/manual-requests, /v1/requests/{id}/complete and /credentials);
/// nullopt if the path is not one of them.
std::optional<http_response> cluster_route(const api_backend& b, const http_request& req,
                                           const std::vector<std::string>& parts);

/// Tenant governance routes (quota, usage, approval rules, approvals,
/// approve/reject); nullopt if the path is not one of them.
std::optional<http_response> governance_route(const api_backend& b, const http_request& req,
                                               const std::vector<std::string>& parts);

}  // namespace provisiond::gateway
