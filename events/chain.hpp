#pragma once
/// The tamper-evident journal's pure parts: the canonical bytes of an event,
/// the per-stream hash chain, the journal-wide running digest and the signed
/// checkpoints over it. The writer (events/rocksdb) and the verifier
/// (events/audit.hpp) both call only these, so what is written and what is
/// checked cannot drift apart. SHA-256 and HMAC-SHA256 from OpenSSL.
///
/// Canonical bytes of an event (all integers big-endian, every string a
/// 4-byte length then its bytes):
///
///     str "provisiond.event.v1"   domain tag, changes only with this layout
///     str stream                  "request-<id>", "clusters", ...
///     u64 sequence
///     str type                    wire name
///     u32 schema version
///     u64 time                    ms since the epoch (two's complement)
///     str event id                "<request-id>:<seq>" (derived; "" never)
///     str payload                 the stored JSON text, byte for byte
///
/// Not in them: the global position and the fencing token (each instance's
/// own journal numbers positions itself; both are covered by the running
/// digest instead). So the chain of a stream is the same on every instance
/// that holds the same events in the same order (scale-out replicas).
///
/// Link:   hash = SHA-256(previous hash || canonical bytes); the previous
///         hash of a stream's first hashed event is 32 zero bytes.
/// Digest: D0 = 32 zero bytes; D(p) = SHA-256(D(p-1) || u64 p ||
///         u64 fencing token || entry), entry = the event's hash, or for an
///         event that predates hashing SHA-256(zeros || canonical bytes).
/// Checkpoint: HMAC-SHA256(key, str "provisiond.checkpoint.v1" || u64
///         position || digest || u64 time).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "events/envelope.hpp"

namespace provisiond::events {

inline constexpr std::size_t hash_size = 32;

/// 32 zero bytes: the previous hash of a chain's first link, and D0.
const std::string& chain_origin();

/// The canonical bytes above. Uses `e.event_id`, derived from stream and
/// sequence when empty.
std::string canonical_bytes(const envelope& e);

/// SHA-256(previous || canonical_bytes(e)), 32 raw bytes.
std::string link_hash(std::string_view previous, const envelope& e);

/// Sets `e.previous_hash` and `e.hash` for appending after `previous`
/// (an empty `previous`: the chain starts here, at chain_origin()).
void seal_link(envelope& e, std::string_view previous);

/// True when `e` carries a hash and it is link_hash(e.previous_hash, e).
bool link_holds(const envelope& e);

/// The running digest after `e` (at e.global_position) given the digest
/// before it.
std::string digest_step(std::string_view digest, const envelope& e);

/// The checkpoint key: 32 bytes.
using checkpoint_key = std::array<unsigned char, 32>;

/// Loads the key from `path`; when missing and `create` is set, creates it
/// (32 random bytes, mode 0600). Errors name `field`.
result<checkpoint_key> load_checkpoint_key(const std::string& path, bool create, const std::string& field);

/// A signed statement: "the journal's first `position` events digest to
/// `digest`".
struct checkpoint {
  std::uint64_t position = 0;
  std::string digest;  ///< 32 raw bytes
  time_ms time = 0;    ///< the time of the event at `position`
  std::string mac;     ///< HMAC-SHA256, 32 raw bytes
};

/// Fills `c.mac`.
void sign(checkpoint& c, const checkpoint_key& key);
/// Constant-time check of `c.mac`.
bool signature_holds(const checkpoint& c, const checkpoint_key& key);

/// Stored form of a checkpoint (format byte, fields, mac).
std::string encode_checkpoint(const checkpoint& c);
result<checkpoint> decode_checkpoint(std::string_view bytes);

/// Lower-case hex of raw bytes.
std::string to_hex(std::string_view raw);
/// Raw bytes of hex (either case); none if it is not hex.
std::optional<std::string> from_hex(std::string_view hex);

}  // namespace provisiond::events
