#pragma once
/// Verifying the tamper-evident journal (events/chain.hpp), as pure checks
/// fed the stored records in order; the adapter (events/rocksdb/
/// rocksdb_audit.hpp) reads them and `provisiond audit verify` prints the
/// report. Each check stops at the first broken link and names it.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "events/chain.hpp"
#include "events/envelope.hpp"

namespace provisiond::events {

/// The first thing found wrong: which event (or checkpoint) and why.
struct broken_link {
  std::string stream;        ///< empty for a checkpoint
  std::uint64_t sequence = 0;
  std::uint64_t position = 0;  ///< global position (0 when unknown)
  std::string type;
  std::string reason;
};

/// "request req-1 (stream request-req-1), sequence 4, global position 17,
/// event type step_started: <reason>".
std::string describe(const broken_link& b);

/// Checks one stream's chain, fed its stored events in sequence order.
class chain_check {
 public:
  explicit chain_check(std::string stream) : stream_(std::move(stream)) {}

  /// The next stored event: the sequence its key names, and what decoding
  /// its bytes gave.
  std::optional<broken_link> next(std::uint64_t key_sequence, const result<envelope>& stored);
  /// After the last event: its head as stored in the journal's metadata
  /// (sequence and last hash), if any.
  std::optional<broken_link> finish(std::optional<std::pair<std::uint64_t, std::string>> head) const;

  std::uint64_t events() const { return events_; }
  std::uint64_t hashed() const { return hashed_; }
  /// Set when the first events predate hashing: "chain starts at sequence N;
  /// earlier events predate hashing" (or "no event is hashed yet").
  std::optional<std::string> note() const;

 private:
  broken_link at(const envelope& e, std::string reason) const;
  std::string stream_;
  std::uint64_t last_sequence_ = 0;
  std::uint64_t last_position_ = 0;
  std::string last_type_;
  std::string last_hash_;
  std::uint64_t events_ = 0;
  std::uint64_t hashed_ = 0;
  std::uint64_t chain_start_ = 0;  ///< sequence of the first hashed event
};

/// Checks the global order: positions 1, 2, ... without holes, each event's
/// own hash, that both stored copies agree, and the running digest against
/// every checkpoint (signature first).
class digest_check {
 public:
  /// `key`: none → checkpoints cannot be checked (reported as broken when
  /// there are any).
  /// `only_stream`: the per-event checks (own hash, copies) for that stream's
  /// events only; positions and checkpoints always cover the whole journal.
  digest_check(std::map<std::uint64_t, checkpoint> checkpoints, std::optional<checkpoint_key> key,
               std::string only_stream = {})
      : checkpoints_(std::move(checkpoints)), key_(key), only_stream_(std::move(only_stream)) {}

  /// The event stored at `key_position`; `copies_agree`: its copy in the
  /// stream index has the same bytes.
  std::optional<broken_link> next(std::uint64_t key_position, const result<envelope>& stored, bool copies_agree);
  /// After the last event: `last_position` as the journal records it.
  std::optional<broken_link> finish(std::uint64_t last_position) const;

  std::uint64_t positions() const { return position_; }
  std::uint64_t checkpoints_verified() const { return verified_; }
  std::uint64_t last_checkpoint() const { return last_checkpoint_; }

 private:
  std::optional<broken_link> check_checkpoint(const checkpoint& c, const envelope& at);
  std::map<std::uint64_t, checkpoint> checkpoints_;
  std::optional<checkpoint_key> key_;
  std::string only_stream_;
  std::string digest_ = chain_origin();
  std::uint64_t position_ = 0;
  std::uint64_t verified_ = 0;
  std::uint64_t last_checkpoint_ = 0;
};

/// What `audit verify` found.
struct audit_report {
  std::uint64_t streams = 0;
  std::uint64_t events = 0;  ///< in the chains checked
  std::uint64_t hashed = 0;
  std::uint64_t positions = 0;
  std::uint64_t checkpoints = 0;
  std::uint64_t last_checkpoint = 0;
  bool global_checked = false;  ///< false when a chain broke first
  std::vector<std::string> notes;  ///< "request X: chain starts at sequence N; ..."
  std::optional<broken_link> broken;
};

/// The report as printed: a summary, the notes, and "OK" or "BROKEN: ...".
std::string render(const audit_report& r, bool one_request);

}  // namespace provisiond::events
