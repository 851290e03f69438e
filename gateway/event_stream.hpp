#pragma once
/// The live stream of journal events (`GET /v1/events/stream`) as
/// Server-Sent Events: one `body_stream` per connection that reads the
/// journal from its own cursor (the last global position sent), so a
/// resumed reader (`Last-Event-ID`) gets exactly the events after it — no
/// gap, no repeat — and the engine never waits for a reader: the stream
/// pulls from the journal's read side when its last piece is written.
///
/// Bounded per connection: one piece is at most `max_piece_bytes` (and
/// `max_piece_events`); a reader that leaves a piece unwritten for the
/// server's slow_ms is sent `event: dropped` with the last id it was sent
/// and the connection closes (it may resume from that id).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "events/envelope.hpp"
#include "gateway/http_server.hpp"

namespace provisiond::gateway {

/// What a reader asked for; empty = everything.
struct stream_filter {
  std::string request_id;
  std::string tenant_id;
  std::set<std::string> types;  ///< journal event types
};

/// The journal's read side the stream needs.
struct stream_source {
  /// Up to `max` events from global position `from` (inclusive), in order.
  std::function<result<std::vector<events::envelope>>(std::uint64_t from, std::size_t max)> read_all;
  /// The stored events of one request, in order (for `requestId`).
  std::function<result<std::vector<events::envelope>>(const std::string& request_id)> history;
  /// The last committed global position.
  std::function<std::uint64_t()> last_position;
  /// The tenant of a request ("" if unknown).
  std::function<std::string(const std::string& request_id)> tenant_of;
};

struct stream_settings {
  time_ms heartbeat_ms = 15000;
  std::size_t max_piece_bytes = 256 * 1024;
  std::size_t max_piece_events = 512;
};

/// Counts itself in provisiond_event_streams (open) and
/// provisiond_event_streams_dropped_total (readers too slow).
class event_stream final : public body_stream {
 public:
  /// Sends the events after global position `after`.
  event_stream(stream_source source, stream_filter filter, std::uint64_t after, stream_settings settings,
               std::shared_ptr<clock> clk);
  ~event_stream() override;
  event_stream(const event_stream&) = delete;
  event_stream& operator=(const event_stream&) = delete;

  std::optional<std::string> next() override;
  void reader_is_slow() override;

  /// The SSE message for one event (`id`, `event`, `data` lines).
  static std::string message(const events::envelope& e, const std::string& request_id, const std::string& tenant_id);

 private:
  bool wanted(const events::envelope& e, const std::string& request_id, const std::string& tenant_id) const;
  std::string tenant_of(const events::envelope& e, const std::string& request_id);
  result<std::vector<events::envelope>> read_after_cursor();
  std::string last_word(const std::string& reason) const;

  stream_source source_;
  stream_filter filter_;
  std::uint64_t cursor_;  ///< last global position sent (or skipped by the filter)
  stream_settings settings_;
  std::shared_ptr<clock> clk_;
  time_ms last_write_;
  bool slow_ = false;
  bool over_ = false;
  std::unordered_map<std::string, std::string> tenants_;  ///< request id → tenant, as seen
};

}  // namespace provisiond::gateway
