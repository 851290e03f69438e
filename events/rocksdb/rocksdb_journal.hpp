#pragma once
/// journal implemented on RocksDB with group commit: one writer thread takes
/// every queued append, checks them in order, and writes them as one
/// WriteBatch (one fsync in durable mode). The writer also links each event
/// into its stream's hash chain, keeps the journal's running digest and
/// writes signed checkpoints (events/chain.hpp) in the same batch.

#include <cstdint>
#include <memory>
#include <optional>

#include "events/chain.hpp"
#include "events/journal.hpp"
#include "events/rocksdb/store.hpp"

namespace provisiond::events::rocksdb_adapter {

/// Audit settings of the writer (config `audit`).
struct journal_options {
  /// A checkpoint at every global position that is a multiple of this
  /// (0: only at clean shutdown).
  std::uint64_t checkpoint_every = 1000;
  /// The HMAC key; none: no checkpoints are written (tools, tests).
  std::optional<checkpoint_key> key;
};

/// Creates the journal over an open store. Stops its writer thread on destruction
/// after finishing queued appends, then (with a key) writes a checkpoint at
/// the last position unless one is there.
std::shared_ptr<journal> make_journal(std::shared_ptr<store> db, journal_options options = {});

/// Binary envelope encoding used in the events and streams column families
/// (format 2: with the chain hashes; format 1, before them, still decodes).
std::string encode_envelope(const envelope& e);
result<envelope> decode_envelope(std::string_view bytes);

/// Keys of the column families, for the verifier and tests.
/// `streams`: "<stream>\0<be64 seq>".
std::string stream_key(const std::string& stream, std::uint64_t seq);
/// `meta`: the stream's head, be64 sequence + be64 fencing token [+ 32-byte hash].
std::string head_key(const std::string& stream);
/// `meta`: a checkpoint record (encode_checkpoint) at `position`.
std::string checkpoint_meta_key(std::uint64_t position);
inline constexpr const char* checkpoint_prefix = "checkpoint/";
/// `meta`: the last committed global position, be64.
inline constexpr const char* position_meta_key = "position";
/// `meta`: the running digest, be64 position + 32 bytes.
inline constexpr const char* digest_meta_key = "audit/digest";

/// A stream head as stored.
struct stream_head {
  std::uint64_t sequence = 0;
  std::uint64_t token = 0;
  std::string hash;  ///< empty: the stream's last event predates hashing
};
std::string encode_head(const stream_head& h);
stream_head decode_head(const std::string& v);

}  // namespace provisiond::events::rocksdb_adapter
