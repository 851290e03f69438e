#include "gateway/event_stream.hpp"

#include <atomic>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/json.hpp"
#include "common/metrics.hpp"

namespace provisiond::gateway {

namespace {

using nlohmann::json;

// Requests whose tenant a stream remembers; a long admin stream forgets
// them all past this (they are looked up again when seen).
constexpr std::size_t max_remembered_tenants = 100000;
constexpr const char* settlements_prefix = "webhook-deliveries-";

std::atomic<std::int64_t>& open_streams() {
  static std::atomic<std::int64_t> n{0};
  static const bool registered = [] {
    metrics::registry::global().gauge("provisiond_event_streams", "Open live event streams (GET /v1/events/stream)",
                                      {}, [] { return static_cast<double>(n.load()); });
    return true;
  }();
  (void)registered;
  return n;
}

metrics::counter& dropped_readers() {
  return metrics::registry::global().get_counter(
      "provisiond_event_streams_dropped_total", "Live event streams closed because the reader did not keep up");
}

}  // namespace

event_stream::event_stream(stream_source source, stream_filter filter, std::uint64_t after, stream_settings settings,
                           std::shared_ptr<clock> clk)
    : source_(std::move(source)),
      filter_(std::move(filter)),
      cursor_(after),
      settings_(settings),
      clk_(std::move(clk)),
      last_write_(clk_->now()) {
  open_streams().fetch_add(1);
  dropped_readers();  // the series exists from the first stream on, at 0
}

void event_stream::reader_is_slow() {
  if (!slow_) dropped_readers().inc();
  slow_ = true;
}

event_stream::~event_stream() { open_streams().fetch_sub(1); }

std::string event_stream::message(const events::envelope& e, const std::string& request_id,
                                  const std::string& tenant_id) {
  auto payload = parse_json(e.payload, "stored event");
  json data{{"position", e.global_position},
            {"stream", e.stream},
            {"requestId", request_id.empty() ? json(nullptr) : json(request_id)},
            {"tenantId", tenant_id.empty() ? json(nullptr) : json(tenant_id)},
            {"seq", e.sequence},
            {"eventId", e.event_id},
            {"type", e.type},
            {"schemaVersion", e.schema_version},
            {"time", format_time(e.time)},
            {"data", payload ? std::move(*payload) : json(nullptr)}};
  // One line of JSON (dump escapes every newline), so one `data:` line.
  return "id: " + std::to_string(e.global_position) + "\nevent: " + e.type + "\ndata: " + dump_json(data) + "\n\n";
}

std::string event_stream::tenant_of(const events::envelope& e, const std::string& request_id) {
  if (request_id.empty()) {
    if (e.stream.starts_with(settlements_prefix)) return e.stream.substr(std::char_traits<char>::length(settlements_prefix));
    return {};  // admin streams belong to no tenant
  }
  if (auto it = tenants_.find(request_id); it != tenants_.end()) return it->second;
  std::string tenant;
  if (e.type == "request_submitted") {
    auto j = parse_json_lenient(e.payload);
    if (j.is_object() && j.contains("tenantId") && j["tenantId"].is_string()) tenant = j["tenantId"].get<std::string>();
  }
  if (tenant.empty() && source_.tenant_of) tenant = source_.tenant_of(request_id);
  // The read model may trail the journal by a moment: the request's own
  // first event says it exactly.
  if (tenant.empty() && source_.history)
    if (auto events = source_.history(request_id); events && !events->empty()) {
      auto j = parse_json_lenient(events->front().payload);
      if (j.is_object() && j.contains("tenantId") && j["tenantId"].is_string()) tenant = j["tenantId"].get<std::string>();
    }
  if (tenant.empty()) return tenant;  // not known yet: asked again next time
  if (tenants_.size() >= max_remembered_tenants) tenants_.clear();
  tenants_.emplace(request_id, tenant);
  return tenant;
}

bool event_stream::wanted(const events::envelope& e, const std::string& request_id,
                          const std::string& tenant_id) const {
  if (!filter_.request_id.empty() && request_id != filter_.request_id) return false;
  if (!filter_.tenant_id.empty() && tenant_id != filter_.tenant_id) return false;
  if (!filter_.types.empty() && !filter_.types.contains(e.type)) return false;
  return true;
}

// One request's stream is read whole (it is short) and cut at the cursor;
// everything else is read from the global position after the cursor.
result<std::vector<events::envelope>> event_stream::read_after_cursor() {
  if (filter_.request_id.empty()) return source_.read_all(cursor_ + 1, settings_.max_piece_events);
  auto all = source_.history(filter_.request_id);
  if (!all) return all.error();
  std::vector<events::envelope> after;
  for (auto& e : *all)
    if (e.global_position > cursor_ && after.size() < settings_.max_piece_events) after.push_back(std::move(e));
  return after;
}

std::string event_stream::last_word(const std::string& reason) const {
  json data{{"reason", reason}, {"lastEventId", cursor_}};
  return "event: dropped\ndata: " + dump_json(data) + "\n\n";
}

std::optional<std::string> event_stream::next() {
  if (over_) return std::nullopt;
  if (slow_) {
    over_ = true;
    return last_word("the reader did not keep up; resume with Last-Event-ID");
  }
  std::string piece;
  std::uint64_t head = source_.last_position();
  if (head > cursor_) {
    auto batch = read_after_cursor();
    if (!batch) {
      over_ = true;
      return last_word("the journal could not be read: " + batch.error().message);
    }
    bool whole = true;
    for (auto& e : *batch) {
      if (piece.size() >= settings_.max_piece_bytes) {
        whole = false;
        break;
      }
      std::string request_id = events::request_of_stream(e.stream);
      std::string tenant_id = tenant_of(e, request_id);
      if (wanted(e, request_id, tenant_id)) piece += message(e, request_id, tenant_id);
      cursor_ = e.global_position;
    }
    // A request's events up to `head` are all in its history: nothing more
    // until the journal moves past it (history is read again only then).
    if (!filter_.request_id.empty() && whole && batch->size() < settings_.max_piece_events) cursor_ = std::max(cursor_, head);
  }
  auto now = clk_->now();
  if (piece.empty() && now - last_write_ >= settings_.heartbeat_ms) piece = ": heartbeat\n\n";
  if (!piece.empty()) last_write_ = now;
  return piece;
}

}  // namespace provisiond::gateway
