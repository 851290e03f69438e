#include "events/rocksdb/rocksdb_journal.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <rocksdb/write_batch.h>

#include "common/metrics.hpp"
#include "events/chain.hpp"
#include "events/codec.hpp"

namespace provisiond::events {

pending_event make_pending(const event& e, time_ms now) {
  return pending_event{type_name(e), schema_version(e), encode_payload(e), now};
}

result<append_result> journal::append(append_request req) {
  std::promise<result<append_result>> p;
  auto f = p.get_future();
  append_async(std::move(req), [&p](result<append_result> r) { p.set_value(std::move(r)); });
  return f.get();
}

}  // namespace provisiond::events

namespace provisiond::events::rocksdb_adapter {

namespace {

void put_u32(std::string& out, std::uint32_t v) {
  char b[4];
  std::memcpy(b, &v, 4);
  out.append(b, 4);
}
void put_u64(std::string& out, std::uint64_t v) {
  char b[8];
  std::memcpy(b, &v, 8);
  out.append(b, 8);
}
void put_str(std::string& out, std::string_view s) {
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

struct cursor {
  std::string_view in;
  bool ok = true;
  template <class T>
  T num() {
    T v{};
    if (in.size() < sizeof(T)) {
      ok = false;
      return v;
    }
    std::memcpy(&v, in.data(), sizeof(T));
    in.remove_prefix(sizeof(T));
    return v;
  }
  std::string str() {
    auto n = num<std::uint32_t>();
    if (!ok || in.size() < n) {
      ok = false;
      return {};
    }
    std::string s{in.substr(0, n)};
    in.remove_prefix(n);
    return s;
  }
};

// 1: before the hash chain; 2: followed by previous hash and hash.
constexpr std::uint8_t envelope_format_v1 = 1;
constexpr std::uint8_t envelope_format = 2;

const std::string position_key = position_meta_key;

}  // namespace

std::string stream_key(const std::string& stream, std::uint64_t seq) {
  std::string k = stream;
  k.push_back('\0');
  k += be64(seq);
  return k;
}

std::string head_key(const std::string& stream) { return "head/" + stream; }

std::string checkpoint_meta_key(std::uint64_t position) { return checkpoint_prefix + be64(position); }

// A stream's head: its last sequence, the highest fencing token that wrote
// it and its last hash (8 bytes: written before fencing, token 0; 16: before
// the chain).
std::string encode_head(const stream_head& h) { return be64(h.sequence) + be64(h.token) + h.hash; }
stream_head decode_head(const std::string& v) {
  stream_head h;
  if (v.size() >= 8) h.sequence = read_be64(v.data());
  if (v.size() >= 16) h.token = read_be64(v.data() + 8);
  if (v.size() >= 16 + hash_size) h.hash = v.substr(16, hash_size);
  return h;
}

std::string encode_envelope(const envelope& e) {
  std::string out;
  out.reserve(64 + e.stream.size() + e.type.size() + e.payload.size());
  out.push_back(static_cast<char>(envelope_format));
  put_u64(out, e.sequence);
  put_u64(out, e.global_position);
  put_u64(out, static_cast<std::uint64_t>(e.time));
  put_u64(out, e.fencing_token);
  put_u32(out, e.schema_version);
  put_str(out, e.stream);
  put_str(out, e.type);
  put_str(out, e.payload);
  put_str(out, e.previous_hash);
  put_str(out, e.hash);
  return out;
}

result<envelope> decode_envelope(std::string_view bytes) {
  // Format 1 (before the hash chain) is upcast to an event without hashes.
  if (bytes.empty() || (static_cast<std::uint8_t>(bytes[0]) != envelope_format &&
                        static_cast<std::uint8_t>(bytes[0]) != envelope_format_v1))
    return make_error(errc::internal, "unknown envelope format");
  const bool chained = static_cast<std::uint8_t>(bytes[0]) == envelope_format;
  cursor c{bytes.substr(1)};
  envelope e;
  e.sequence = c.num<std::uint64_t>();
  e.global_position = c.num<std::uint64_t>();
  e.time = static_cast<time_ms>(c.num<std::uint64_t>());
  e.fencing_token = c.num<std::uint64_t>();
  e.schema_version = c.num<std::uint32_t>();
  e.stream = c.str();
  e.type = c.str();
  e.payload = c.str();
  if (chained) {
    e.previous_hash = c.str();
    e.hash = c.str();
  }
  if (!c.ok) return make_error(errc::internal, "truncated envelope");
  if (!c.in.empty()) return make_error(errc::internal, "trailing bytes after the envelope");
  const bool none = e.previous_hash.empty() && e.hash.empty();
  if (chained && !none && (e.previous_hash.size() != hash_size || e.hash.size() != hash_size))
    return make_error(errc::internal, "malformed chain hashes in the envelope");
  e.event_id = event_id_of(e.stream, e.sequence);
  return e;
}

namespace {

class rocksdb_journal final : public journal {
 public:
  rocksdb_journal(std::shared_ptr<store> db, journal_options options) : db_(std::move(db)), options_(options) {
    std::string v;
    if (db_->db()->Get(rocksdb::ReadOptions{}, db_->meta(), position_key, &v).ok() && v.size() == 8)
      committed_ = read_be64(v.data());
    load_digest();
    last_checkpoint_ = stored_last_checkpoint();
    writer_ = std::thread([this] { run(); });
  }

  ~rocksdb_journal() override {
    {
      std::lock_guard lock{mutex_};
      stopping_ = true;
      cv_.notify_one();
    }
    writer_.join();
    write_final_checkpoint();
  }

  void append_async(append_request req, append_callback done) override {
    std::unique_lock lock{mutex_};
    if (stopping_) {
      lock.unlock();
      done(make_error(errc::unavailable, "journal is shutting down"));
      return;
    }
    queue_.push_back(item{std::move(req), std::move(done)});
    cv_.notify_one();
  }

  result<std::vector<envelope>> read_stream(const std::string& stream, std::uint64_t from_sequence,
                                            std::size_t max) override {
    std::vector<envelope> out;
    auto lower = stream_key(stream, from_sequence);
    auto upper = stream_key(stream, UINT64_MAX);
    rocksdb::Slice upper_slice{upper};
    rocksdb::ReadOptions ro;
    ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it{db_->db()->NewIterator(ro, db_->streams())};
    for (it->Seek(lower); it->Valid() && out.size() < max; it->Next()) {
      auto e = decode_envelope(std::string_view{it->value().data(), it->value().size()});
      if (!e) return e.error();
      if (e->global_position > committed_.load()) break;
      out.push_back(std::move(*e));
    }
    if (!it->status().ok()) return make_error(errc::internal, it->status().ToString());
    return out;
  }

  result<std::vector<envelope>> read_all(std::uint64_t from_position, std::size_t max) override {
    std::vector<envelope> out;
    auto last = committed_.load();
    if (from_position > last) return out;
    auto lower = be64(from_position);
    auto upper = be64(last + 1);
    rocksdb::Slice upper_slice{upper};
    rocksdb::ReadOptions ro;
    ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it{db_->db()->NewIterator(ro, db_->events())};
    for (it->Seek(lower); it->Valid() && out.size() < max; it->Next()) {
      auto e = decode_envelope(std::string_view{it->value().data(), it->value().size()});
      if (!e) return e.error();
      out.push_back(std::move(*e));
    }
    if (!it->status().ok()) return make_error(errc::internal, it->status().ToString());
    return out;
  }

  std::uint64_t last_position() const override { return committed_.load(); }

  result<std::optional<std::string>> find_dedupe(const std::string& key) override {
    std::string v;
    auto st = db_->db()->Get(rocksdb::ReadOptions{}, db_->dedupe(), key, &v);
    if (st.IsNotFound()) return std::optional<std::string>{};
    if (!st.ok()) return make_error(errc::internal, st.ToString());
    return std::optional<std::string>{std::move(v)};
  }

  result<std::vector<std::uint64_t>> read_outbox(std::uint64_t from_position, std::size_t max) override {
    std::vector<std::uint64_t> out;
    std::unique_ptr<rocksdb::Iterator> it{db_->db()->NewIterator(rocksdb::ReadOptions{}, db_->outbox())};
    auto last = committed_.load();
    for (it->Seek(be64(from_position)); it->Valid() && out.size() < max; it->Next()) {
      if (it->key().size() != 8) continue;
      auto pos = read_be64(it->key().data());
      if (pos > last) break;
      out.push_back(pos);
    }
    if (!it->status().ok()) return make_error(errc::internal, it->status().ToString());
    return out;
  }

  result<std::optional<dedupe_record>> outbox_dedupe(std::uint64_t position) override {
    std::string value;
    auto st = db_->db()->Get(rocksdb::ReadOptions{}, db_->outbox(), be64(position), &value);
    if (st.IsNotFound() || (st.ok() && value.empty())) return std::optional<dedupe_record>{};
    if (!st.ok()) return make_error(errc::internal, st.ToString());
    auto zero = value.find('\0');
    if (zero == std::string::npos) return make_error(errc::internal, "malformed outbox entry");
    return std::optional<dedupe_record>{dedupe_record{value.substr(0, zero), value.substr(zero + 1)}};
  }

  status ack_outbox(const std::vector<std::uint64_t>& positions) override {
    rocksdb::WriteBatch batch;
    for (auto p : positions) batch.Delete(db_->outbox(), be64(p));
    auto st = db_->db()->Write(db_->write_options(), &batch);
    if (!st.ok()) return make_error(errc::internal, st.ToString());
    return ok();
  }

  void on_commit(std::function<void(std::uint64_t)> fn) override {
    std::lock_guard lock{mutex_};
    subscribers_.push_back(std::move(fn));
  }

 private:
  struct item {
    append_request req;
    append_callback done;
  };

  void run() {
    std::vector<item> group;
    for (;;) {
      {
        std::unique_lock lock{mutex_};
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty() && stopping_) return;
        group.clear();
        while (!queue_.empty() && group.size() < max_group_) {
          group.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      commit_group(group);
    }
  }

  // Checks every append of the group in order against the stored heads (and
  // the heads earlier appends of this group produce), then writes all that
  // pass as one batch.
  void commit_group(std::vector<item>& group) {
    rocksdb::WriteBatch batch;
    std::unordered_map<std::string, stream_head> heads;
    std::unordered_map<std::string, std::string> dedupes;
    std::vector<result<append_result>> results;
    results.reserve(group.size());
    auto position = committed_.load();
    // The running digest and the last checkpoint advance only if the batch is written.
    std::string digest = digest_;
    std::uint64_t checkpointed = last_checkpoint_;
    std::string value;
    for (auto& it : group) {
      auto& req = it.req;
      if (req.dedupe) {
        auto found = dedupes.find(req.dedupe->key);
        std::optional<std::string> existing;
        if (found != dedupes.end()) {
          existing = found->second;
        } else {
          auto st = db_->db()->Get(rocksdb::ReadOptions{}, db_->dedupe(), req.dedupe->key, &value);
          if (st.ok()) existing = value;
          else if (!st.IsNotFound()) {
            results.emplace_back(make_error(errc::internal, st.ToString()));
            continue;
          }
        }
        if (existing) {
          append_result r;
          r.duplicate_of = std::move(existing);
          results.emplace_back(std::move(r));
          continue;
        }
      }
      stream_head stored;
      if (auto h = heads.find(req.stream); h != heads.end()) {
        stored = h->second;
      } else {
        auto st = db_->db()->Get(rocksdb::ReadOptions{}, db_->meta(), head_key(req.stream), &value);
        if (st.ok()) stored = decode_head(value);
        else if (!st.IsNotFound()) {
          results.emplace_back(make_error(errc::internal, st.ToString()));
          continue;
        }
      }
      std::uint64_t head = stored.sequence;
      // Fencing: a stream a newer owner wrote refuses an older writer.
      if (!req.events.empty() && req.fencing_token < stored.token) {
        results.emplace_back(make_error(errc::fenced,
                                        "stream " + req.stream + " was written with fencing token " +
                                            std::to_string(stored.token) + "; this writer holds " +
                                            std::to_string(req.fencing_token),
                                        "fencingToken"));
        continue;
      }
      if (head != req.expected_sequence) {
        results.emplace_back(make_error(errc::conflict, "stream " + req.stream + " is at sequence " +
                                                            std::to_string(head) + ", expected " +
                                                            std::to_string(req.expected_sequence)));
        continue;
      }
      append_result r;
      r.first_position = req.events.empty() ? 0 : position + 1;
      envelope env;
      env.stream = req.stream;
      env.fencing_token = req.fencing_token;
      std::string last_hash = stored.hash;
      for (auto& pe : req.events) {
        env.sequence = ++head;
        env.global_position = ++position;
        env.type = std::move(pe.type);
        env.schema_version = pe.schema_version;
        env.time = pe.time;
        env.payload = std::move(pe.payload);
        env.event_id = event_id_of(env.stream, env.sequence);
        seal_link(env, last_hash);
        last_hash = env.hash;
        digest = digest_step(digest, env);
        if (options_.key && options_.checkpoint_every > 0 && position % options_.checkpoint_every == 0) {
          batch.Put(db_->meta(), checkpoint_meta_key(position), signed_checkpoint(position, digest, env.time));
          checkpointed = position;
        }
        auto bytes = encode_envelope(env);
        auto pos_key = be64(env.global_position);
        batch.Put(db_->events(), pos_key, bytes);
        batch.Put(db_->streams(), stream_key(req.stream, env.sequence), bytes);
        // The batch's dedupe record rides on its first event's outbox entry: "<key>\0<value>".
        std::string carried;
        if (req.dedupe && env.global_position == r.first_position) carried = req.dedupe->key + '\0' + req.dedupe->value;
        if (req.to_outbox) batch.Put(db_->outbox(), pos_key, carried);
      }
      r.last_position = req.events.empty() ? 0 : position;
      r.last_sequence = head;
      r.last_hash = last_hash;
      stream_head now{head, std::max(stored.token, req.events.empty() ? 0 : req.fencing_token), last_hash};
      heads[req.stream] = now;
      batch.Put(db_->meta(), head_key(req.stream), encode_head(now));
      if (req.dedupe) {
        batch.Put(db_->dedupe(), req.dedupe->key, req.dedupe->value);
        dedupes[req.dedupe->key] = req.dedupe->value;
      }
      results.emplace_back(std::move(r));
    }
    auto& m = metrics::registry::global();
    static auto& append_seconds = m.get_histogram(
        "provisiond_journal_append_seconds", "Time to write one group-committed journal batch (fsync included in durable mode)");
    static auto& events_total = m.get_counter("provisiond_journal_events_total", "Events appended to the journal");
    static auto& conflicts_total =
        m.get_counter("provisiond_journal_conflicts_total", "Appends refused for an unexpected stream sequence");
    static auto& fenced_total = m.get_counter(
        "provisiond_fencing_refusals_total", "Writes and provider calls refused to a writer that does not own the stream",
        {{"where", "journal"}});
    for (auto& r : results) {
      if (!r.has_value() && r.error().code == errc::conflict) conflicts_total.inc();
      if (!r.has_value() && r.error().code == errc::fenced) fenced_total.inc();
    }
    if (position != committed_.load()) {
      batch.Put(db_->meta(), position_key, be64(position));
      batch.Put(db_->meta(), digest_meta_key, be64(position) + digest);
      auto started = std::chrono::steady_clock::now();
      auto st = db_->db()->Write(db_->write_options(), &batch);
      append_seconds.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      if (st.ok()) events_total.inc(static_cast<double>(position - committed_.load()));
      if (!st.ok()) {
        for (auto& r : results)
          if (r.has_value() && !r->duplicate_of) r = make_error(errc::unavailable, "journal write failed: " + st.ToString());
        position = committed_.load();
      } else {
        digest_ = std::move(digest);
        last_checkpoint_ = checkpointed;
      }
    } else if (batch.Count() > 0) {
      // Only empty appends or dedupe-only records: still must be durable.
      auto st = db_->db()->Write(db_->write_options(), &batch);
      if (!st.ok())
        for (auto& r : results)
          if (r.has_value() && !r->duplicate_of) r = make_error(errc::unavailable, "journal write failed: " + st.ToString());
    }
    committed_.store(position);
    for (std::size_t i = 0; i < group.size(); ++i) group[i].done(std::move(results[i]));
    std::vector<std::function<void(std::uint64_t)>> subs;
    {
      std::lock_guard lock{mutex_};
      subs = subscribers_;
    }
    for (auto& s : subs) s(position);
  }

  std::string signed_checkpoint(std::uint64_t position, const std::string& digest, time_ms time) const {
    checkpoint c{position, digest, time, {}};
    sign(c, *options_.key);
    return encode_checkpoint(c);
  }

  // The running digest as stored; an older journal (or one whose record
  // lags, which a single batch rules out) is caught up by reading it once.
  void load_digest() {
    std::string v;
    std::uint64_t at = 0;
    digest_ = chain_origin();
    if (db_->db()->Get(rocksdb::ReadOptions{}, db_->meta(), digest_meta_key, &v).ok() && v.size() == 8 + hash_size) {
      at = read_be64(v.data());
      digest_ = v.substr(8);
    }
    if (at == committed_.load()) return;
    if (at > committed_.load()) {
      at = 0;
      digest_ = chain_origin();
    }
    while (at < committed_.load()) {
      auto batch = read_all(at + 1, 10'000);
      if (!batch || batch->empty()) break;
      for (auto& e : *batch) digest_ = digest_step(digest_, e);
      at = batch->back().global_position;
    }
    (void)db_->db()->Put(db_->write_options(), db_->meta(), digest_meta_key, be64(at) + digest_);
  }

  std::uint64_t stored_last_checkpoint() const {
    rocksdb::ReadOptions ro;
    std::unique_ptr<rocksdb::Iterator> it{db_->db()->NewIterator(ro, db_->meta())};
    it->SeekForPrev(checkpoint_meta_key(UINT64_MAX));
    if (!it->Valid() || !it->key().starts_with(checkpoint_prefix)) return 0;
    auto key = it->key();
    if (key.size() != std::strlen(checkpoint_prefix) + 8) return 0;
    return read_be64(key.data() + std::strlen(checkpoint_prefix));
  }

  // Clean shutdown: the tail since the last checkpoint is signed too.
  void write_final_checkpoint() {
    auto position = committed_.load();
    if (!options_.key || position == 0 || position <= last_checkpoint_) return;
    auto last = read_all(position, 1);
    time_ms time = last && !last->empty() ? last->front().time : 0;
    auto st = db_->db()->Put(db_->write_options(), db_->meta(), checkpoint_meta_key(position),
                             signed_checkpoint(position, digest_, time));
    if (st.ok()) last_checkpoint_ = position;
  }

  static constexpr std::size_t max_group_ = 4096;
  std::shared_ptr<store> db_;
  journal_options options_;
  std::string digest_;                 ///< running digest at committed_ (writer thread)
  std::uint64_t last_checkpoint_ = 0;  ///< writer thread
  std::atomic<std::uint64_t> committed_{0};
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<item> queue_;
  bool stopping_ = false;
  std::vector<std::function<void(std::uint64_t)>> subscribers_;
  std::thread writer_;
};

}  // namespace

std::shared_ptr<journal> make_journal(std::shared_ptr<store> db, journal_options options) {
  return std::make_shared<rocksdb_journal>(std::move(db), options);
}

}  // namespace provisiond::events::rocksdb_adapter
