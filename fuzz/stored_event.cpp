// The stored_event target: what the journal reads back (RocksDB envelopes),
// what a replica reads off provisioning.journal, and the payload of every
// event type at every schema version (upcasting included).
#include <string>

#include "events/codec.hpp"
#include "events/kafka/kafka.hpp"
#include "events/rocksdb/rocksdb_journal.hpp"
#include "fuzz/entries.hpp"

namespace provisiond::fuzz {

namespace {

// An event decoded from anything must survive its own encoding unchanged.
finding round_trip(const events::event& e, const std::string& where) {
  const auto* name = events::type_name(e);
  auto back = events::decode_payload(name, events::schema_version(e), events::encode_payload(e));
  if (!back) return where + ": a decoded " + name + " does not decode again: " + back.error().message;
  if (!(*back == e))
    return where + ": a decoded " + name + " changes when encoded and decoded again: " +
           events::encode_payload(e).substr(0, 300) + " became " + events::encode_payload(*back).substr(0, 300);
  return std::nullopt;
}

finding payload(std::string_view type, std::uint32_t version, std::string_view text, const std::string& where) {
  auto e = events::decode_payload(type, version, text);
  if (!e) {
    if (e.error().message.empty()) return where + ": an error without a message";
    return std::nullopt;
  }
  if (type != events::type_name(*e)) return where + ": " + std::string(type) + " decoded as " + events::type_name(*e);
  return round_trip(*e, where);
}

finding stored_envelope(std::string_view bytes) {
  auto env = events::rocksdb_adapter::decode_envelope(bytes);
  if (!env) return std::nullopt;
  auto again = events::rocksdb_adapter::decode_envelope(events::rocksdb_adapter::encode_envelope(*env));
  if (!again || again->payload != env->payload || again->stream != env->stream || again->type != env->type ||
      again->sequence != env->sequence || again->event_id != env->event_id)
    return "decode_envelope: an envelope changes when encoded and decoded again";
  return payload(env->type, env->schema_version, env->payload, "stored " + env->type);
}

finding journal_record(std::string_view bytes) {
  std::optional<events::dedupe_record> dedupe;
  auto env = events::kafka::parse_journal_record(bytes, &dedupe);
  if (!env) {
    if (env.error().message.empty()) return "parse_journal_record: an error without a message";
    return std::nullopt;
  }
  return payload(env->type, env->schema_version, env->payload, "journal record " + env->type);
}

}  // namespace

finding stored_event_input(std::string_view bytes) {
  if (bytes.size() < 3) return std::nullopt;
  const auto form = static_cast<unsigned char>(bytes[0]) % 3;
  if (form == 0) return stored_envelope(bytes.substr(1));
  if (form == 1) return journal_record(bytes.substr(1));
  // A payload: byte 1 picks the type, byte 2 the schema version (1-4).
  const auto& names = events::all_type_names();
  const auto& type = names[static_cast<unsigned char>(bytes[1]) % names.size()];
  const auto version = 1u + static_cast<unsigned char>(bytes[2]) % 4u;
  return payload(type, version, bytes.substr(3), type + " v" + std::to_string(version));
}

}  // namespace provisiond::fuzz
