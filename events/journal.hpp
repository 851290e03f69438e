#pragma once
/// The event journal: append-only streams with optimistic concurrency, a
/// global order, the outbox and command dedupe records, all written in one
/// atomic batch per append.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "events/domain_events.hpp"
#include "events/envelope.hpp"

namespace provisiond::events {

/// An event about to be appended.
struct pending_event {
  std::string type;
  std::uint32_t schema_version = 1;
  std::string payload;
  time_ms time = 0;
};

/// Encodes a domain event for appending.
pending_event make_pending(const event& e, time_ms now);

/// The command that caused an append, recorded so a redelivery is a no-op.
struct dedupe_record {
  std::string key;    ///< e.g. "idem/<tenant>/<Idempotency-Key>" or "cmd/<commandId>"
  std::string value;  ///< what a duplicate should be answered with
};

struct append_request {
  std::string stream;
  std::uint64_t expected_sequence = 0;  ///< the stream's current last sequence; 0 for a new stream
  std::vector<pending_event> events;
  std::uint64_t fencing_token = 0;
  std::optional<dedupe_record> dedupe;
  bool to_outbox = true;  ///< also enqueue the events for the Kafka relay
};

struct append_result {
  std::uint64_t last_sequence = 0;
  std::uint64_t first_position = 0;  ///< 0 if nothing was written
  std::uint64_t last_position = 0;
  /// The chain hash of the last event written (32 raw bytes; events/chain.hpp).
  std::string last_hash;
  /// Set when the dedupe key was already recorded: nothing was written and
  /// this is the value recorded with it.
  std::optional<std::string> duplicate_of;
};

/// Journal API. All methods are thread-safe. Appends are serialized by the
/// implementation and become visible to readers in global-position order.
class journal {
 public:
  using append_callback = std::function<void(result<append_result>)>;
  virtual ~journal() = default;

  /// Appends atomically. Fails with errc::conflict if the stream's last
  /// sequence is not `expected_sequence`. The callback runs on the journal's
  /// writer thread once the batch is durable (per the durability mode); it
  /// must not block. Not idempotent by itself: use a dedupe record for that.
  virtual void append_async(append_request req, append_callback done) = 0;

  /// Blocking append (for tests, tools and start-up code).
  result<append_result> append(append_request req);

  /// Events of one stream with sequence >= from_sequence, at most `max`.
  virtual result<std::vector<envelope>> read_stream(const std::string& stream, std::uint64_t from_sequence,
                                                    std::size_t max = SIZE_MAX) = 0;

  /// Events in global order with position >= from_position, at most `max`,
  /// never past the last committed position.
  virtual result<std::vector<envelope>> read_all(std::uint64_t from_position, std::size_t max) = 0;

  /// The last committed global position (0 when empty).
  virtual std::uint64_t last_position() const = 0;

  /// The value recorded with a dedupe key, if any.
  virtual result<std::optional<std::string>> find_dedupe(const std::string& key) = 0;

  /// Outbox entries (global positions) not yet acknowledged, from `from_position`.
  virtual result<std::vector<std::uint64_t>> read_outbox(std::uint64_t from_position, std::size_t max) = 0;
  /// Marks outbox entries as published. Idempotent.
  virtual status ack_outbox(const std::vector<std::uint64_t>& positions) = 0;
  /// The dedupe record appended together with the event at `position` (kept
  /// with its outbox entry until published, so the changelog carries it and
  /// a command redelivered to another instance stays a no-op there).
  virtual result<std::optional<dedupe_record>> outbox_dedupe(std::uint64_t position) = 0;

  /// Registers a callback invoked (on the writer thread) after each committed
  /// batch with the new last position. Register before appending starts.
  virtual void on_commit(std::function<void(std::uint64_t)> fn) = 0;
};

}  // namespace provisiond::events
