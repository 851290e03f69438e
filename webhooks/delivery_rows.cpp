#include "webhooks/delivery_rows.hpp"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstdio>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "common/json.hpp"
#include "events/json_mapping.hpp"

namespace provisiond::webhooks {

namespace ev = provisiond::events;
using nlohmann::json;

namespace rows {

namespace {
std::string hex(const unsigned char* p, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

}  // namespace

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  RAND_bytes(raw.data(), static_cast<int>(raw.size()));
  return hex(raw.data(), raw.size());
}

// Newest first: the history key sorts by the inverted position.
std::string history_key(const std::string& webhook_id, std::uint64_t position) {
  char buf[21];
  std::snprintf(buf, sizeof buf, "%020llu", static_cast<unsigned long long>(UINT64_MAX - position));
  return "wh/e/" + webhook_id + "/" + buf;
}
std::string record_key(const std::string& id) { return "wh/d/" + id; }
std::string pending_key(const std::string& id) { return "wh/p/" + id; }
std::string failures_key(const std::string& webhook_id) { return "wh/f/" + webhook_id; }


// The delivery's fields as stored; the API view starts from them.
json delivery_fields(const delivery& d) {
  json attempts = json::array();
  for (auto& a : d.attempts) attempts.push_back(ev::to_json(a));
  return json{{"id", d.id},
              {"webhookId", d.webhook_id},
              {"tenantId", d.tenant_id},
              {"requestId", d.request_id},
              {"eventId", d.event_id},
              {"eventType", d.event_type},
              {"position", d.position},
              {"status", d.status},
              {"createdAt", d.created_at},
              {"nextAttemptAt", d.next_attempt_at},
              {"attempts", attempts}};
}

std::string to_store(const stored& s) {
  auto j = delivery_fields(s.d);
  j["roundStart"] = s.round_start;
  j["body"] = s.d.body;
  return dump_json(j);
}

result<stored> from_store(const std::string& text) {
  auto j = parse_json(text, "delivery");
  if (!j) return j.error();
  try {
    stored s;
    auto& d = s.d;
    d.id = j->at("id").get<std::string>();
    d.webhook_id = j->at("webhookId").get<std::string>();
    d.tenant_id = j->value("tenantId", "");
    d.request_id = j->value("requestId", "");
    d.event_id = j->value("eventId", "");
    d.event_type = j->value("eventType", "");
    d.position = j->value("position", std::uint64_t{0});
    d.status = j->value("status", "pending");
    d.created_at = j->value("createdAt", time_ms{0});
    d.next_attempt_at = j->value("nextAttemptAt", time_ms{0});
    s.round_start = j->value("roundStart", std::size_t{0});
    for (auto& a : j->value("attempts", json::array())) d.attempts.push_back(ev::from_json<attempt>(a));
    d.body = j->value("body", "");
    return s;
  } catch (const std::exception& e) {
    return make_error(errc::internal, std::string("stored delivery is malformed: ") + e.what(), "delivery");
  }
}

}  // namespace rows


// Stable across processes, restarts and instances: only (endpoint, event) decide it.
std::string delivery_id_for(const std::string& webhook_id, const std::string& event_id, const std::string& type) {
  std::string input = webhook_id + "\n" + event_id + "\n" + type;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return "msg_" + rows::hex(digest, 16);
}

std::string attempt_json(const attempt& a) {
  return dump_json(json{{"at", format_time(a.at)},
                        {"timestamp", a.timestamp_s},
                        {"statusCode", a.status_code == 0 ? json(nullptr) : json(a.status_code)},
                        {"latencyMs", a.latency_ms},
                        {"error", a.error.empty() ? json(nullptr) : json(a.error)},
                        {"responseBody", a.response_body}});
}

std::string delivery_json(const delivery& d) {
  auto j = rows::delivery_fields(d);
  j.erase("position");  // this instance's journal position: meaningless to a caller
  j["createdAt"] = format_time(d.created_at);
  j["nextAttemptAt"] = d.status == "pending" ? json(format_time(d.next_attempt_at)) : json(nullptr);
  j["attempts"] = json::array();
  for (auto& a : d.attempts) j["attempts"].push_back(json::parse(attempt_json(a)));
  return dump_json(j);
}


}  // namespace provisiond::webhooks
