#pragma once
/// Restore from the changelog: a consumer of every partition of
/// `provisioning.journal` (assigned, not a group member) that appends each
/// record's stored event (parse_journal_record) to the local journal, so
/// this instance holds what other instances wrote — the read models fold
/// it like their own events, and a partition taken over resumes from it.
///
/// Per record: the event is appended at its own sequence with its writer's
/// fencing token and not to the outbox (it is on Kafka already). The local
/// journal holding it already (this instance wrote it, or a redelivery) is a
/// no-op; a stale writer's event — its token below the one the stream was
/// last written with — is refused by the journal (errc::fenced, counted in
/// `provisiond_fencing_refusals_total`). The offset applied per partition is
/// kept in a checkpoint file, so a restart applies only what is new.
///
/// The hash chain (events/chain.hpp) leaves the global position and the
/// fencing token out, so an event restored here links to the same hash as
/// on its writer; the record carries the writer's hash and a difference is
/// counted (`result="chain_mismatch"`) and logged.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "common/settings.hpp"
#include "events/journal.hpp"

namespace provisiond::events::kafka {

/// What became of the records applied so far.
struct replica_counts {
  std::uint64_t restored = 0;   ///< events appended to the local journal
  std::uint64_t held = 0;       ///< the journal had them already
  std::uint64_t refused = 0;    ///< a stale writer (lower fencing token)
  std::uint64_t diverged = 0;   ///< another event at that sequence, same or higher token
  std::uint64_t gaps = 0;       ///< earlier events of the stream missing (retention)
  std::uint64_t malformed = 0;  ///< not a journal record
  /// Restored, but the chain hash computed here is not the one its writer
  /// published (the streams' histories differ between the instances).
  std::uint64_t chain_mismatches = 0;
};

class journal_replica {
 public:
  /// `checkpoint_file` keeps "<partition> <next offset> <highest token>" lines (empty: none,
  /// every start reads the topic from the beginning).
  journal_replica(std::shared_ptr<journal> j, std::string bootstrap, kafka_config cfg, std::string checkpoint_file);
  ~journal_replica();
  journal_replica(const journal_replica&) = delete;
  journal_replica& operator=(const journal_replica&) = delete;

  /// Called on the replica's thread after each batch with the streams it
  /// appended to (the admin state refreshes from it). Set before start().
  void on_applied(std::function<void(const std::vector<std::string>& streams)> fn);

  /// Reads the topic's partitions, assigns them from the checkpoint and
  /// starts the thread. Registers `provisiond_replica_lag_records` and
  /// `provisiond_replica_events_total{result}`.
  status start();
  void stop();

  /// Blocks until every record of `partition` that was on the topic when
  /// called is applied, or `timeout` passes. False on timeout.
  bool caught_up(std::int32_t partition, std::chrono::milliseconds timeout);
  /// The same for every partition.
  bool caught_up(std::chrono::milliseconds timeout);
  /// Records on the topic not applied yet (from the last high watermarks seen).
  std::int64_t lag() const;
  replica_counts counts() const;
  std::int32_t partitions() const;
  /// The highest fencing token of any record seen on `partition` (the floor
  /// for the next lease's token).
  std::uint64_t highest_token(std::int32_t partition) const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace provisiond::events::kafka
