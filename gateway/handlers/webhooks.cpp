// Tenant webhooks: endpoints (webhooks::registry), their deliveries and
// test deliveries (webhooks::delivery_service). Every route is under
// /v1/tenants/{id}/webhooks; an endpoint of another tenant is 404.
#include <algorithm>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/ids.hpp"
#include "common/json.hpp"
#include "common/names.hpp"
#include "events/json_mapping.hpp"
#include "gateway/detail/json_http.hpp"
#include "gateway/handlers/handlers.hpp"
#include "webhooks/deliveries.hpp"

namespace provisiond::gateway::handlers {

using nlohmann::json;
namespace ev = provisiond::events;
using detail::bad;
using detail::json_response;

namespace {

constexpr std::size_t max_url_bytes = 2048;
constexpr std::size_t max_description_bytes = 500;
constexpr std::size_t max_event_types = 64;
constexpr time_ms max_overlap_ms = 7LL * 24 * 3600 * 1000;

error no_webhook(const std::string& id) { return make_error(errc::not_found, "no webhook " + id); }

json time_or_null(time_ms t) { return t == 0 ? json(nullptr) : json(format_time(t)); }

// An endpoint as the API shows it: the stored mapping with times as RFC 3339
// (null when unset) and the reason null unless deactivated.
json webhook_json(const ev::webhook_endpoint& w) {
  auto j = ev::to_json(w);
  j["createdAt"] = format_time(w.created_at);
  j["updatedAt"] = format_time(w.updated_at);
  j["previousSecretUntil"] = time_or_null(w.previous_secret_until);
  j["deactivatedAt"] = time_or_null(w.deactivated_at);
  j["deactivatedReason"] = w.deactivated_reason.empty() ? json(nullptr) : json(w.deactivated_reason);
  return j;
}

// {url, events, enabled?, description?}: what POST and PUT take.
result<ev::webhook_endpoint> parse_webhook(const api_backend& b, const std::string& body) {
  auto j = detail::parse_object(body);
  if (!j) return j.error();
  static constexpr std::array<std::string_view, 4> known = {"url", "events", "enabled", "description"};
  for (auto& [k, v] : j->items()) {
    (void)v;
    if (!is_one_of(known, k)) return bad(k, "unknown field; expected " + join_names(known));
  }
  ev::webhook_endpoint w;
  if (!j->contains("url") || !(*j)["url"].is_string() || (*j)["url"].get<std::string>().empty() ||
      (*j)["url"].get<std::string>().size() > max_url_bytes)
    return bad("url", "expected an http or https URL of at most 2048 characters");
  w.url = (*j)["url"];
  if (auto checked = b.webhook_guard->check(w.url); !checked) return checked.error();  // names `url` and why
  if (!j->contains("events") || !(*j)["events"].is_array() || (*j)["events"].empty() ||
      (*j)["events"].size() > max_event_types)
    return bad("events", "expected an array of 1-64 event types, or [\"*\"] for all");
  const auto& types = webhooks::subscribable_types();
  for (std::size_t i = 0; i < (*j)["events"].size(); ++i) {
    const auto& t = (*j)["events"][i];
    auto field = "events[" + std::to_string(i) + "]";
    if (!t.is_string()) return bad(field, "expected an event type string");
    auto name = t.get<std::string>();
    if (name != "*" && std::find(types.begin(), types.end(), name) == types.end()) {
      std::string all;
      for (auto& x : types) all += (all.empty() ? "" : ", ") + x;
      return bad(field, "unknown event type '" + name.substr(0, 64) + "'; expected \"*\" or one of " + all);
    }
    if (std::find(w.events.begin(), w.events.end(), name) == w.events.end()) w.events.push_back(name);
  }
  if (j->contains("enabled")) {
    if (!(*j)["enabled"].is_boolean()) return bad("enabled", "expected true or false");
    w.enabled = (*j)["enabled"];
  }
  if (j->contains("description") && !(*j)["description"].is_null()) {
    if (!(*j)["description"].is_string() || (*j)["description"].get<std::string>().size() > max_description_bytes)
      return bad("description", "expected a string of at most 500 characters");
    w.description = (*j)["description"];
  }
  return w;
}

std::string delivery_list_json(const webhooks::delivery_page& page) {
  std::string out = "{\"items\":[";
  for (std::size_t i = 0; i < page.items.size(); ++i) {
    if (i) out += ',';
    out += webhooks::delivery_json(page.items[i]);
  }
  out += "],\"nextCursor\":" + (page.next_cursor.empty() ? std::string("null") : "\"" + page.next_cursor + "\"") + "}";
  return out;
}

http_response raw_json(int status, std::string body) {
  http_response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

// Scale-out: a write is answered once the changelog has it (else 503: the
// retry is idempotent).
std::optional<http_response> unpublished(const api_backend& b) {
  if (b.await_published && !b.await_published())
    return error_response(make_error(errc::unavailable, "not yet on the changelog; retry"));
  return std::nullopt;
}

// A write that hands out a secret waits for the changelog too, but answers
// either way: a retry would make another secret, and this one is durable
// here (published when Kafka takes it).
void await_changelog(const api_backend& b) {
  if (b.await_published) (void)b.await_published();
}

}  // namespace

std::optional<http_response> webhooks_wired(const api_backend& b, const route_call& c) {
  if (!b.webhooks || !b.deliveries || !b.webhook_guard) return no_route(c.req);
  // /v1/tenants/{id}/...: a malformed tenant id is no tenant path at all.
  if (!c.params.empty() && !is_valid_id(c.param("id"))) return no_route(c.req);
  return std::nullopt;
}

std::optional<http_response> tenant_webhook(const api_backend& b, const route_call& c) {
  if (auto off = webhooks_wired(b, c)) return off;
  const auto& id = c.param("webhookId");
  auto w = b.webhooks->get(id);
  // Another tenant's endpoint is not there, as far as this path goes.
  if (!w || w->tenant_id != c.param("id")) return error_response(no_webhook(id.substr(0, 64)));
  return std::nullopt;
}

http_response list_webhooks(const api_backend& b, const route_call& c) {
  json items = json::array();
  for (auto& w : b.webhooks->list(c.param("id"))) items.push_back(webhook_json(w));
  return json_response(200, {{"items", items}});
}

// GET /v1/webhooks[?tenantId=]: every tenant's endpoints, for operators.
http_response list_all_webhooks(const api_backend& b, const route_call& c) {
  std::string tenant;
  for (auto& [k, v] : c.req.query) {
    if (k != "tenantId") return error_response(bad(k, "unknown query parameter; expected tenantId"));
    if (!is_valid_id(v)) return error_response(bad("tenantId", "expected a tenant id"));
    tenant = v;
  }
  json items = json::array();
  for (auto& w : b.webhooks->list(tenant)) items.push_back(webhook_json(w));
  return json_response(200, {{"items", items}});
}

http_response create_webhook(const api_backend& b, const route_call& c) {
  auto w = parse_webhook(b, c.req.body);
  if (!w) return error_response(w.error());
  w->tenant_id = c.param("id");
  auto made = b.webhooks->create(*w);
  if (!made) return error_response(made.error());
  await_changelog(b);
  auto j = webhook_json(made->endpoint);
  j["secret"] = made->secret;  // shown this once
  return json_response(201, j);
}

http_response get_webhook(const api_backend& b, const route_call& c) {
  auto w = b.webhooks->get(c.param("webhookId"));
  if (!w) return error_response(no_webhook(c.param("webhookId")));
  return json_response(200, webhook_json(*w));
}

http_response update_webhook(const api_backend& b, const route_call& c) {
  auto w = parse_webhook(b, c.req.body);
  if (!w) return error_response(w.error());
  w->id = c.param("webhookId");
  auto saved = b.webhooks->update(*w);
  if (!saved) return error_response(saved.error());
  if (auto busy = unpublished(b)) return *busy;
  b.deliveries->wake();
  return json_response(200, webhook_json(*saved));
}

http_response delete_webhook(const api_backend& b, const route_call& c) {
  if (auto st = b.webhooks->remove(c.param("webhookId")); !st) return error_response(st.error());
  if (auto busy = unpublished(b)) return *busy;
  http_response r;
  r.status = 204;
  r.body.clear();
  return r;
}

http_response rotate_webhook_secret(const api_backend& b, const route_call& c) {
  time_ms overlap = b.webhook_rotation_overlap_ms;
  if (!c.req.body.empty()) {
    auto j = detail::parse_object(c.req.body);
    if (!j) return error_response(j.error());
    for (auto& [k, v] : j->items()) {
      if (k != "overlapSeconds") return error_response(bad(k, "unknown field; expected overlapSeconds"));
      if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() > max_overlap_ms / 1000)
        return error_response(bad("overlapSeconds", "expected seconds from 0 to 604800 (7 days)"));
      overlap = v.get<long long>() * 1000;
    }
  }
  auto rotated = b.webhooks->rotate(c.param("webhookId"), overlap);
  if (!rotated) return error_response(rotated.error());
  await_changelog(b);
  auto j = webhook_json(rotated->endpoint);
  j["secret"] = rotated->secret;  // shown this once
  return json_response(200, j);
}

http_response deactivate_webhook(const api_backend& b, const route_call& c) {
  std::string reason = "deactivated by an operator";
  int failures = 0;
  if (!c.req.body.empty()) {
    auto j = detail::parse_object(c.req.body);
    if (!j) return error_response(j.error());
    for (auto& [k, v] : j->items()) {
      if (k == "reason") {
        if (!v.is_string() || v.get<std::string>().empty() || v.get<std::string>().size() > 1000)
          return error_response(bad("reason", "expected a string of 1-1000 characters"));
        reason = v.get<std::string>();
      } else if (k == "consecutiveFailures") {
        if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() > 1'000'000)
          return error_response(bad("consecutiveFailures", "expected a non-negative integer"));
        failures = static_cast<int>(v.get<long long>());
      } else {
        return error_response(bad(k, "unknown field; expected reason, consecutiveFailures"));
      }
    }
  }
  if (auto st = b.webhooks->deactivate(c.param("webhookId"), reason, failures); !st) return error_response(st.error());
  if (auto busy = unpublished(b)) return *busy;
  auto w = b.webhooks->get(c.param("webhookId"));
  if (!w) return error_response(no_webhook(c.param("webhookId")));
  return json_response(200, webhook_json(*w));
}

http_response test_webhook(const api_backend& b, const route_call& c) {
  auto a = b.deliveries->test(c.param("webhookId"));
  if (!a) return error_response(a.error());
  auto j = json::parse(webhooks::attempt_json(*a));
  j["success"] = a->error.empty();
  j["webhookId"] = c.param("webhookId");
  return json_response(200, j);
}

http_response list_deliveries(const api_backend& b, const route_call& c) {
  std::string status, cursor;
  std::size_t limit = 50;
  for (auto& [k, v] : c.req.query) {
    if (k == "status") {
      static constexpr std::array<std::string_view, 3> statuses = {"pending", "succeeded", "failed"};
      if (!is_one_of(statuses, v)) return error_response(bad("status", "expected " + join_names(statuses)));
      status = v;
    } else if (k == "cursor") {
      if (v.size() != 20 || v.find_first_not_of("0123456789") != std::string::npos)
        return error_response(bad("cursor", "expected the nextCursor of a previous page"));
      cursor = v;
    } else if (k == "limit") {
      if (v.empty() || v.size() > 3 || v.find_first_not_of("0123456789") != std::string::npos || std::stoi(v) < 1 ||
          std::stoi(v) > 500)
        return error_response(bad("limit", "expected an integer from 1 to 500"));
      limit = static_cast<std::size_t>(std::stoi(v));
    } else {
      return error_response(bad(k, "unknown query parameter; expected status, cursor, limit"));
    }
  }
  auto page = b.deliveries->list(c.param("webhookId"), status, cursor, limit);
  if (!page) return error_response(page.error());
  return raw_json(200, delivery_list_json(*page));
}

http_response redeliver(const api_backend& b, const route_call& c) {
  auto d = b.deliveries->redeliver(c.param("webhookId"), c.param("deliveryId"));
  if (!d) return error_response(d.error());
  return raw_json(202, webhooks::delivery_json(*d));
}

}  // namespace provisiond::gateway::handlers
