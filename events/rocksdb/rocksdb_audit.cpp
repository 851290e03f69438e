#include "events/rocksdb/rocksdb_audit.hpp"

#include <cstring>
#include <memory>

#include "events/rocksdb/rocksdb_journal.hpp"

namespace provisiond::events::rocksdb_adapter {

namespace {

std::string_view view(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

// Every checkpoint record; a malformed one is the first broken link.
result<std::map<std::uint64_t, checkpoint>> read_checkpoints(const store& db, std::optional<broken_link>& broken) {
  std::map<std::uint64_t, checkpoint> out;
  std::unique_ptr<rocksdb::Iterator> it{db.db()->NewIterator(rocksdb::ReadOptions{}, db.meta())};
  const std::size_t prefix = std::strlen(checkpoint_prefix);
  for (it->Seek(checkpoint_prefix); it->Valid() && it->key().starts_with(checkpoint_prefix); it->Next()) {
    std::uint64_t at = it->key().size() == prefix + 8 ? read_be64(it->key().data() + prefix) : 0;
    auto c = decode_checkpoint(view(it->value()));
    if (!c || c->position != at) {
      broken = broken_link{"", 0, at, "", c ? "stored under another position than the one it signs" : c.error().message};
      return out;
    }
    out[at] = std::move(*c);
  }
  if (!it->status().ok()) return make_error(errc::internal, it->status().ToString());
  return out;
}

std::optional<std::pair<std::uint64_t, std::string>> read_head(const store& db, const std::string& stream) {
  std::string v;
  if (!db.db()->Get(rocksdb::ReadOptions{}, db.meta(), head_key(stream), &v).ok()) return std::nullopt;
  auto h = decode_head(v);
  return std::pair{h.sequence, h.hash};
}

// Closes one stream's check: its head, its note.
void close_stream(const store& db, const std::string& stream, const chain_check& check, audit_report& r) {
  if (!r.broken) r.broken = check.finish(read_head(db, stream));
  ++r.streams;
  r.events += check.events();
  r.hashed += check.hashed();
  if (auto n = check.note()) r.notes.push_back(*n);
}

status check_chains(const store& db, const std::string& only_stream, audit_report& r) {
  std::unique_ptr<rocksdb::Iterator> it{db.db()->NewIterator(rocksdb::ReadOptions{}, db.streams())};
  std::optional<chain_check> check;
  std::string current;
  const std::string start = only_stream.empty() ? std::string{} : only_stream + '\0';
  for (it->Seek(start); it->Valid() && !r.broken; it->Next()) {
    auto key = view(it->key());
    // "<stream>\0<be64 seq>"; anything else in the index is itself a break.
    if (key.size() < 9 || key[key.size() - 9] != '\0') {
      r.broken = broken_link{std::string(key), 0, 0, "", "a stream index key of an unknown shape"};
      break;
    }
    std::string stream{key.substr(0, key.size() - 9)};
    if (!only_stream.empty() && stream != only_stream) break;
    if (!check || stream != current) {
      if (check) close_stream(db, current, *check, r);
      if (r.broken) break;
      current = stream;
      check.emplace(stream);
    }
    r.broken = check->next(read_be64(key.data() + key.size() - 8), decode_envelope(view(it->value())));
  }
  if (!it->status().ok()) return make_error(errc::internal, it->status().ToString());
  if (check && !r.broken) close_stream(db, current, *check, r);
  if (!only_stream.empty() && !check) return make_error(errc::not_found, "no events in stream " + only_stream);
  return ok();
}

status check_global(const store& db, const std::optional<checkpoint_key>& key, const std::string& only_stream,
                    audit_report& r) {
  r.global_checked = true;
  auto checkpoints = read_checkpoints(db, r.broken);
  if (!checkpoints) return checkpoints.error();
  if (r.broken) return ok();
  digest_check check{std::move(*checkpoints), key, only_stream};
  std::unique_ptr<rocksdb::Iterator> it{db.db()->NewIterator(rocksdb::ReadOptions{}, db.events())};
  std::string copy;
  for (it->SeekToFirst(); it->Valid() && !r.broken; it->Next()) {
    auto key_bytes = view(it->key());
    if (key_bytes.size() != 8) {
      r.broken = broken_link{"?", 0, 0, "", "an event key of an unknown shape in the global order"};
      break;
    }
    auto e = decode_envelope(view(it->value()));
    bool agree = true;
    if (e) {
      auto st = db.db()->Get(rocksdb::ReadOptions{}, db.streams(), stream_key(e->stream, e->sequence), &copy);
      agree = st.ok() && copy == view(it->value());
    }
    r.broken = check.next(read_be64(key_bytes.data()), e, agree);
  }
  if (!it->status().ok()) return make_error(errc::internal, it->status().ToString());
  std::string v;
  std::uint64_t last = 0;
  if (db.db()->Get(rocksdb::ReadOptions{}, db.meta(), position_meta_key, &v).ok() && v.size() == 8) last = read_be64(v.data());
  if (!r.broken) r.broken = check.finish(last);
  r.positions = check.positions();
  r.checkpoints = check.checkpoints_verified();
  r.last_checkpoint = check.last_checkpoint();
  return ok();
}

}  // namespace

result<audit_report> verify_journal(const store& db, const std::optional<checkpoint_key>& key,
                                    const std::string& only_stream) {
  audit_report r;
  if (auto st = check_chains(db, only_stream, r); !st) return st.error();
  if (r.broken) return r;
  if (auto st = check_global(db, key, only_stream, r); !st) return st.error();
  return r;
}

}  // namespace provisiond::events::rocksdb_adapter
