#pragma once
/// The HTTP handlers, by resource; gateway/routes.cpp maps method + pattern
/// to them. Each runs on a server I/O thread, may block briefly, and is
/// called only once its route matched (and its guard, if any, let it
/// through). Errors are answered with `error_response` (api.hpp).

#include <optional>

#include "gateway/api.hpp"
#include "gateway/routes.hpp"

namespace provisiond::gateway::handlers {

// system.cpp: probes, metrics, system info, the simulation ledger.
http_response healthz(const api_backend& b, const route_call& c);
http_response readyz(const api_backend& b, const route_call& c);
http_response prometheus_metrics(const api_backend& b, const route_call& c);
http_response system_info(const api_backend& b, const route_call& c);
http_response simulation_ledger(const api_backend& b, const route_call& c);

// stream.cpp: the live event stream (Server-Sent Events).
http_response live_events(const api_backend& b, const route_call& c);

// static_files.cpp: the OpenAPI document; the console's files (a mount
// before the route table: /console and everything under /console/).
http_response openapi_document(const api_backend& b, const route_call& c);
std::optional<http_response> console_file(const http_request& req);

// requests.cpp: create, list, get.
http_response create_request(const api_backend& b, const route_call& c);
http_response list_requests(const api_backend& b, const route_call& c);
http_response get_request(const api_backend& b, const route_call& c);

// lifecycle.cpp: suspend, reactivate, deprovision, retry (the path's last segment).
http_response lifecycle_action(const api_backend& b, const route_call& c);

// audit.cpp: a request's stored events, and its state as of one of them.
http_response request_events(const api_backend& b, const route_call& c);
http_response request_state_at(const api_backend& b, const route_call& c);

// clusters.cpp: the cluster registry, capacity, connectivity test.
std::optional<http_response> cluster_registry(const api_backend& b, const route_call& c);
std::optional<http_response> existing_cluster(const api_backend& b, const route_call& c);
http_response list_clusters(const api_backend& b, const route_call& c);
http_response create_cluster(const api_backend& b, const route_call& c);
http_response get_cluster(const api_backend& b, const route_call& c);
http_response update_cluster(const api_backend& b, const route_call& c);
http_response delete_cluster(const api_backend& b, const route_call& c);
http_response test_cluster(const api_backend& b, const route_call& c);

// manual.cpp: the manual provider's work list, completion, credentials; live metrics.
std::optional<http_response> secret_request(const api_backend& b, const route_call& c);
http_response manual_requests(const api_backend& b, const route_call& c);
http_response complete_request(const api_backend& b, const route_call& c);
http_response request_credentials(const api_backend& b, const route_call& c);
http_response request_metrics(const api_backend& b, const route_call& c);

// governance.cpp: quotas, usage, approval rules, approvals, approve/reject.
std::optional<http_response> governance_wired(const api_backend& b, const route_call& c);
std::optional<http_response> governed_tenant(const api_backend& b, const route_call& c);
http_response get_quota(const api_backend& b, const route_call& c);
http_response put_quota(const api_backend& b, const route_call& c);
http_response tenant_usage(const api_backend& b, const route_call& c);
http_response list_rules(const api_backend& b, const route_call& c);
http_response create_rule(const api_backend& b, const route_call& c);
http_response get_rule(const api_backend& b, const route_call& c);
http_response update_rule(const api_backend& b, const route_call& c);
http_response delete_rule(const api_backend& b, const route_call& c);
http_response pending_approvals(const api_backend& b, const route_call& c);
http_response approve_request(const api_backend& b, const route_call& c);
http_response reject_request(const api_backend& b, const route_call& c);

// keys.cpp: the caller's identity; API keys (issue, list, revoke).
http_response whoami(const api_backend& b, const route_call& c);
std::optional<http_response> keys_wired(const api_backend& b, const route_call& c);
http_response list_api_keys(const api_backend& b, const route_call& c);
http_response create_api_key(const api_backend& b, const route_call& c);
http_response get_api_key(const api_backend& b, const route_call& c);
http_response revoke_api_key(const api_backend& b, const route_call& c);

// webhooks.cpp: tenant webhook endpoints, their deliveries, test deliveries.
std::optional<http_response> webhooks_wired(const api_backend& b, const route_call& c);
std::optional<http_response> tenant_webhook(const api_backend& b, const route_call& c);
http_response list_all_webhooks(const api_backend& b, const route_call& c);
http_response list_webhooks(const api_backend& b, const route_call& c);
http_response create_webhook(const api_backend& b, const route_call& c);
http_response get_webhook(const api_backend& b, const route_call& c);
http_response update_webhook(const api_backend& b, const route_call& c);
http_response delete_webhook(const api_backend& b, const route_call& c);
http_response rotate_webhook_secret(const api_backend& b, const route_call& c);
http_response deactivate_webhook(const api_backend& b, const route_call& c);
http_response test_webhook(const api_backend& b, const route_call& c);
http_response list_deliveries(const api_backend& b, const route_call& c);
http_response redeliver(const api_backend& b, const route_call& c);

}  // namespace provisiond::gateway::handlers
