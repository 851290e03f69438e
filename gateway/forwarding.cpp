#include "gateway/forwarding.hpp"

#include <algorithm>
#include <atomic>
#include <memory>

#include "common/json.hpp"
#include "events/kafka/partitioning.hpp"
#include "gateway/api.hpp"
#include "projections/request_summary.hpp"
#include "providers/http/http_client.hpp"

namespace provisiond::gateway {

namespace {

constexpr const char* forwarded_header = "x-provisiond-forwarded";

bool starts_with(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }

// Writes of admin state: the cluster registry, approval rules, quotas.
bool is_admin_write(const http_request& req) {
  if (req.method != "POST" && req.method != "PUT" && req.method != "DELETE") return false;
  if (req.path == "/v1/clusters" || req.path == "/v1/approval-rules") return req.method == "POST";
  if (starts_with(req.path, "/v1/clusters/"))  // PUT or DELETE a cluster; /test only reads
    return req.method != "POST" && req.path.find('/', 13) == std::string::npos;
  if (starts_with(req.path, "/v1/approval-rules/")) return req.method != "POST";
  if (starts_with(req.path, "/v1/tenants/"))
    return req.method == "PUT" && req.path.size() > 6 && req.path.compare(req.path.size() - 6, 6, "/quota") == 0;
  return false;
}

// /v1/tenants/{tenant}/webhooks...: endpoint writes are admin state (the
// `webhooks` stream); deliveries (their history, redelivery, a test) are the
// business of the instance that delivers for the tenant, its owner.
std::optional<std::string> webhook_key(const http_request& req) {
  constexpr std::string_view prefix = "/v1/tenants/";
  if (!starts_with(req.path, prefix)) return std::nullopt;
  auto rest = req.path.substr(prefix.size());
  auto slash = rest.find('/');
  if (slash == std::string::npos || rest.compare(slash, 9, "/webhooks") != 0) return std::nullopt;
  auto tenant = rest.substr(0, slash);
  auto tail = rest.substr(slash + 9);  // "", "/{id}", "/{id}/rotate-secret", "/{id}/deliveries...", "/{id}/test"
  auto parts = std::count(tail.begin(), tail.end(), '/');
  bool deliveries = tail.find("/deliveries") != std::string::npos || (parts == 2 && tail.size() >= 5 &&
                                                                       tail.compare(tail.size() - 5, 5, "/test") == 0);
  if (deliveries) return tenant;
  if (req.method == "GET") return std::nullopt;
  return std::string{events::kafka::admin_partition_key};
}

// The partition key a write belongs to: the tenant for request writes, the
// admin key for admin state; nullopt when it is this instance's to answer.
std::optional<std::string> key_of(const http_request& req, projections::request_summary_projection* summaries) {
  if (is_admin_write(req)) return std::string{events::kafka::admin_partition_key};
  if (auto k = webhook_key(req)) return k;
  // Credentials are delivered once: by the owner, so two instances never both hand them out.
  bool delivery = req.method == "GET" && req.path.size() > 12 &&
                  req.path.compare(req.path.size() - 12, 12, "/credentials") == 0;
  if (req.method != "POST" && !delivery) return std::nullopt;
  if (req.path == "/v1/requests") {
    auto j = parse_json(req.body, "body");
    if (!j || !j->is_object() || !j->contains("tenantId") || !(*j)["tenantId"].is_string()) return std::nullopt;
    return (*j)["tenantId"].get<std::string>();
  }
  constexpr std::string_view prefix = "/v1/requests/";
  if (req.path.rfind(prefix, 0) != 0 || !summaries) return std::nullopt;
  auto rest = req.path.substr(prefix.size());
  auto id = rest.substr(0, rest.find('/'));
  if (id.empty() || id.size() == rest.size()) return std::nullopt;  // only actions on a request
  auto s = summaries->get(request_id{id});
  if (!s || !*s) return std::nullopt;
  return (*s)->spec.tenant_id;
}

http_response moving(std::int32_t partition) {
  auto r = error_response(make_error(
      errc::unavailable, "the tenant's partition " + std::to_string(partition) + " is moving between instances; retry",
      "tenantId"));
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

}  // namespace

forwarder make_forwarder(ownership_view view, projections::request_summary_projection* summaries) {
  providers::http::client_options o;
  o.io_timeout = std::chrono::milliseconds(15'000);  // the owner answers within its own deadlines
  auto client = std::make_shared<providers::http::client>(o);
  auto forwarding = std::make_shared<std::atomic<int>>(0);
  return [view = std::move(view), summaries, client, forwarding](const http_request& req) -> std::optional<http_response> {
    try {
      if (!req.header(forwarded_header).empty()) return std::nullopt;
      auto tenant = key_of(req, summaries);
      if (!tenant) return std::nullopt;
      auto p = view.partition_of(*tenant);
      if (view.owned_here(p)) return std::nullopt;
      if (view.moving(p)) return moving(p);
      auto owner = view.owner_address(p);
      if (!owner) return moving(p);
      providers::http::request out;
      out.method = req.method;
      out.url = "http://" + *owner + req.target;
      out.body = req.body;
      for (const char* h : {"content-type", "idempotency-key", "authorization", "x-request-id", "x-tenant-id"})
        if (auto v = req.header(h); !v.empty()) out.headers.emplace_back(h, v);
      out.headers.emplace_back(forwarded_header, view.instance_id);
      struct slot {
        std::atomic<int>& n;
        ~slot() { n.fetch_sub(1); }
      } held{*forwarding};
      if (forwarding->fetch_add(1) >= view.max_forwarding) {
        auto busy = error_response(make_error(
            errc::unavailable, "this instance is busy forwarding writes to their owners; retry (or send it to the owner)"));
        busy.headers.emplace_back("Retry-After", "1");
        return busy;
      }
      auto r = client->send(out);
      if (!r) return moving(p);  // the owner is going away: the partition moves
      http_response answer;
      answer.status = r->status;
      answer.body = r->body;
      if (auto ct = r->header("content-type"); !ct.empty()) answer.content_type = ct;
      if (auto ra = r->header("retry-after"); !ra.empty()) answer.headers.emplace_back("Retry-After", ra);
      return answer;
    } catch (const std::exception& e) {
      return error_response(make_error(errc::internal, std::string("forwarding failed: ") + e.what()));
    }
  };
}

}  // namespace provisiond::gateway
