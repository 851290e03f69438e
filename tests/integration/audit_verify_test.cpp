// The tamper-evident journal end to end: the real binary writes chains and
// checkpoints, the API shows the hashes, and `provisiond audit verify`
// names exactly what the test changed in RocksDB (opened here, with
// provisiond stopped).
#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include <rocksdb/write_batch.h>

#include "events/chain.hpp"
#include "events/rocksdb/rocksdb_journal.hpp"
#include "tests/integration/fixture.hpp"

using namespace provisiond::testing;
namespace ev = provisiond::events;
namespace rdb = provisiond::events::rocksdb_adapter;

namespace {

struct verify_run {
  int code = -1;
  std::string out;
};

struct AuditVerify : server_fixture {
  std::vector<std::string> ids;

  std::string journal_dir() { return dir / "data/journal"; }

  // Runs `provisiond audit verify --data-dir <data> extra...`.
  verify_run verify(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"audit", "verify", "--data-dir", dir / "data"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto log = dir / ("verify-" + std::to_string(++runs_) + ".out");
    pid_t pid = spawn_provisiond(args, log, false);
    int status = 0;
    ::waitpid(pid, &status, 0);
    std::ifstream in{log};
    std::stringstream ss;
    ss << in.rdbuf();
    return verify_run{WIFEXITED(status) ? WEXITSTATUS(status) : -1, ss.str()};
  }

  // Three completed requests (checkpoints every 10 events), then a clean stop.
  void run_requests(int n = 3) {
    write_config({{"audit", {{"checkpointEvery", 10}}}});
    start_server();
    for (int i = 0; i < n; ++i) {
      auto r = post("/v1/requests", vps_body("acme", "order-" + std::to_string(i)));
      ASSERT_EQ(r.status, 202) << r.body;
      ids.push_back(body(r)["id"]);
    }
    for (auto& id : ids) ASSERT_EQ(wait_state(id, {"Completed"}), "Completed") << id;
    ASSERT_EQ(proc.terminate(), 0);
  }

  std::shared_ptr<rdb::store> open_journal() {
    auto s = rdb::store::open(journal_dir(), provisiond::durability::durable);
    EXPECT_TRUE(s.has_value()) << s.error().message;
    return s ? *s : nullptr;
  }

  static ev::envelope stored(rdb::store& s, rocksdb::ColumnFamilyHandle* cf, const std::string& key) {
    std::string v;
    EXPECT_TRUE(s.db()->Get(rocksdb::ReadOptions{}, cf, key, &v).ok()) << "no stored event";
    auto e = rdb::decode_envelope(v);
    EXPECT_TRUE(e.has_value());
    return e ? *e : ev::envelope{};
  }

  // Flips one bit of one byte in the middle of the payload of the value at `key`.
  static void flip_payload_byte(rdb::store& s, rocksdb::ColumnFamilyHandle* cf, const std::string& key) {
    std::string v;
    ASSERT_TRUE(s.db()->Get(rocksdb::ReadOptions{}, cf, key, &v).ok());
    auto e = rdb::decode_envelope(v);
    ASSERT_TRUE(e.has_value());
    auto at = v.find(e->payload);
    ASSERT_NE(at, std::string::npos);
    v[at + e->payload.size() / 2] ^= 0x01;
    ASSERT_TRUE(s.db()->Put(rocksdb::WriteOptions{}, cf, key, v).ok());
  }

  static std::string expected_name(const std::string& id, const ev::envelope& e) {
    return "BROKEN: request " + id + " (stream request-" + id + "), sequence " + std::to_string(e.sequence) +
           ", global position " + std::to_string(e.global_position) + ", event type " + e.type + ":";
  }

 private:
  int runs_ = 0;
};

// Format 1 (before the chain): little-endian fixed fields, length-prefixed
// strings, no hashes.
std::string old_format(const ev::envelope& e) {
  std::string out(1, '\x01');
  auto raw = [&](const auto& v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); };
  auto str = [&](const std::string& s) {
    raw(static_cast<std::uint32_t>(s.size()));
    out += s;
  };
  raw(e.sequence);
  raw(e.global_position);
  raw(static_cast<std::int64_t>(e.time));
  raw(e.fencing_token);
  raw(e.schema_version);
  str(e.stream);
  str(e.type);
  str(e.payload);
  return out;
}

}  // namespace

TEST_F(AuditVerify, AnUntouchedJournalVerifiesAndTheApiShowsEachLink) {
  write_config({{"audit", {{"checkpointEvery", 10}}}});
  start_server();
  auto r = post("/v1/requests", vps_body("acme", "order-1"));
  ASSERT_EQ(r.status, 202);
  std::string id = body(r)["id"];
  ASSERT_EQ(wait_state(id, {"Completed"}), "Completed");
  auto evs = body(get("/v1/requests/" + id + "/events"));
  ASSERT_TRUE(evs.is_array());
  ASSERT_GE(evs.size(), 10u);
  EXPECT_EQ(evs[0]["previousHash"], std::string(64, '0'));
  for (std::size_t i = 0; i < evs.size(); ++i) {
    ASSERT_TRUE(evs[i]["hash"].is_string()) << evs[i].dump();
    EXPECT_EQ(evs[i]["hash"].get<std::string>().size(), 64u);
    if (i) {
      EXPECT_EQ(evs[i]["previousHash"], evs[i - 1]["hash"]) << "seq " << evs[i]["seq"];
    }
  }
  ASSERT_EQ(proc.terminate(), 0);

  struct stat st{};
  ASSERT_EQ(::stat((dir / "data/audit.key").c_str(), &st), 0) << "the checkpoint key is created on first start";
  EXPECT_EQ(st.st_mode & 0777, 0600);
  EXPECT_EQ(st.st_size, 32);

  auto v = verify();
  EXPECT_EQ(v.code, 0) << v.out;
  EXPECT_NE(v.out.find("OK: every chain and checkpoint holds"), std::string::npos) << v.out;
  EXPECT_EQ(v.out.find("predate hashing"), std::string::npos) << v.out;
  // Every 10 events and one at the clean stop.
  EXPECT_NE(v.out.find("checkpoints: "), std::string::npos);
  auto one = verify({"--request", id});
  EXPECT_EQ(one.code, 0) << one.out;
  EXPECT_NE(one.out.find("1 stream, " + std::to_string(evs.size()) + " events"), std::string::npos) << one.out;
  auto none = verify({"--request", "req-none"});
  EXPECT_EQ(none.code, 2) << none.out;
}

TEST_F(AuditVerify, OneFlippedByteOfOneStoredEventIsNamed) {
  run_requests();
  const std::string id = ids[1];
  ev::envelope target;
  {
    auto s = open_journal();
    ASSERT_TRUE(s);
    target = stored(*s, s->streams(), rdb::stream_key("request-" + id, 5));
    flip_payload_byte(*s, s->streams(), rdb::stream_key("request-" + id, 5));
  }
  auto v = verify();
  EXPECT_EQ(v.code, 1) << v.out;
  EXPECT_NE(v.out.find(expected_name(id, target) + " its stored hash does not match its content"), std::string::npos)
      << v.out;
  EXPECT_EQ(verify({"--request", ids[0]}).code, 0) << "another request's chain still holds";

  {  // the same byte back: clean again (the flip was the cause)
    auto s = open_journal();
    flip_payload_byte(*s, s->streams(), rdb::stream_key("request-" + id, 5));
  }
  EXPECT_EQ(verify().code, 0);

  // The other stored copy (the global order) of another event.
  ev::envelope other;
  {
    auto s = open_journal();
    other = stored(*s, s->streams(), rdb::stream_key("request-" + ids[2], 3));
    flip_payload_byte(*s, s->events(), rdb::be64(other.global_position));
  }
  v = verify();
  EXPECT_EQ(v.code, 1) << v.out;
  EXPECT_NE(v.out.find(expected_name(ids[2], other)), std::string::npos) << v.out;
}

TEST_F(AuditVerify, ADeletedOrReorderedEventIsNamed) {
  run_requests();
  const std::string id = ids[0];
  const std::string stream = "request-" + id;
  std::string third, fourth;
  ev::envelope after_gap;
  {
    auto s = open_journal();
    ASSERT_TRUE(s->db()->Get(rocksdb::ReadOptions{}, s->streams(), rdb::stream_key(stream, 3), &third).ok());
    ASSERT_TRUE(s->db()->Get(rocksdb::ReadOptions{}, s->streams(), rdb::stream_key(stream, 4), &fourth).ok());
    after_gap = *rdb::decode_envelope(fourth);
    auto pos = rdb::decode_envelope(third)->global_position;
    rocksdb::WriteBatch b;
    b.Delete(s->streams(), rdb::stream_key(stream, 3));
    b.Delete(s->events(), rdb::be64(pos));
    ASSERT_TRUE(s->db()->Write(rocksdb::WriteOptions{}, &b).ok());
  }
  auto v = verify();
  EXPECT_EQ(v.code, 1) << v.out;
  EXPECT_NE(v.out.find(expected_name(id, after_gap) + " sequence 3 missing before it (removed)"), std::string::npos)
      << v.out;

  {  // back in place, then events 3 and 4 swapped in the stream index
    auto s = open_journal();
    rocksdb::WriteBatch b;
    b.Put(s->streams(), rdb::stream_key(stream, 3), fourth);
    b.Put(s->streams(), rdb::stream_key(stream, 4), third);
    b.Put(s->events(), rdb::be64(rdb::decode_envelope(third)->global_position), third);
    ASSERT_TRUE(s->db()->Write(rocksdb::WriteOptions{}, &b).ok());
  }
  v = verify();
  EXPECT_EQ(v.code, 1) << v.out;
  EXPECT_NE(v.out.find(expected_name(id, after_gap) + " stored as sequence 3"), std::string::npos) << v.out;
}

TEST_F(AuditVerify, AForgedCheckpointIsDetected) {
  run_requests();
  std::uint64_t at = 0;
  {
    auto s = open_journal();
    std::unique_ptr<rocksdb::Iterator> it{s->db()->NewIterator(rocksdb::ReadOptions{}, s->meta())};
    it->Seek(rdb::checkpoint_prefix);
    ASSERT_TRUE(it->Valid() && it->key().starts_with(rdb::checkpoint_prefix)) << "no checkpoint written";
    auto c = ev::decode_checkpoint(std::string_view{it->value().data(), it->value().size()});
    ASSERT_TRUE(c.has_value());
    at = c->position;
    ev::checkpoint_key other;
    other.fill(0x5a);
    ev::sign(*c, other);  // the same statement under a key that is not the instance's
    ASSERT_TRUE(s->db()->Put(rocksdb::WriteOptions{}, s->meta(), rdb::checkpoint_meta_key(at), ev::encode_checkpoint(*c)).ok());
  }
  auto v = verify();
  EXPECT_EQ(v.code, 1) << v.out;
  EXPECT_NE(v.out.find("BROKEN: checkpoint at global position " + std::to_string(at) +
                       ": its signature does not verify"),
            std::string::npos)
      << v.out;
}

TEST_F(AuditVerify, AJournalFromBeforeHashingOpensReplaysAndSaysWhereTheChainStarts) {
  run_requests(1);
  const std::string id = ids[0];
  std::uint64_t old_events = 0;
  {  // Rewritten as the previous version stored it: format 1, 16-byte heads, no digest, no checkpoints.
    auto s = open_journal();
    rocksdb::WriteBatch b;
    std::unique_ptr<rocksdb::Iterator> it{s->db()->NewIterator(rocksdb::ReadOptions{}, s->events())};
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      auto e = *rdb::decode_envelope(std::string_view{it->value().data(), it->value().size()});
      auto bytes = old_format(e);
      b.Put(s->events(), it->key(), bytes);
      b.Put(s->streams(), rdb::stream_key(e.stream, e.sequence), bytes);
      if (e.stream == "request-" + id) old_events = e.sequence;
    }
    std::unique_ptr<rocksdb::Iterator> m{s->db()->NewIterator(rocksdb::ReadOptions{}, s->meta())};
    for (m->SeekToFirst(); m->Valid(); m->Next()) {
      auto k = m->key().ToString();
      if (k.rfind("head/", 0) == 0) b.Put(s->meta(), k, m->value().ToString().substr(0, 16));
      if (k.rfind(rdb::checkpoint_prefix, 0) == 0 || k == rdb::digest_meta_key) b.Delete(s->meta(), k);
    }
    ASSERT_TRUE(s->db()->Write(rocksdb::WriteOptions{}, &b).ok());
  }
  ASSERT_GT(old_events, 3u);
  start_server();
  auto evs = body(get("/v1/requests/" + id + "/events"));
  ASSERT_EQ(evs.size(), old_events);
  EXPECT_TRUE(evs[0]["hash"].is_null());
  EXPECT_TRUE(evs[0]["previousHash"].is_null());
  EXPECT_EQ(body(get("/v1/requests/" + id))["state"], "Completed") << "the old events replay";
  // The request goes on: its next events are the chain's first.
  ASSERT_EQ(post("/v1/requests/" + id + "/suspend", "").status, 200);
  ASSERT_EQ(wait_state(id, {"Suspended"}), "Suspended");
  evs = body(get("/v1/requests/" + id + "/events"));
  ASSERT_GT(evs.size(), old_events);
  EXPECT_EQ(evs[old_events]["previousHash"], std::string(64, '0'));
  ASSERT_EQ(proc.terminate(), 0);

  auto v = verify();
  EXPECT_EQ(v.code, 0) << v.out;
  EXPECT_NE(v.out.find("request " + id + " (stream request-" + id + "): chain starts at sequence " +
                       std::to_string(old_events + 1) + "; earlier events predate hashing"),
            std::string::npos)
      << v.out;
  // The shutdown checkpoint covers the old events too, by their content.
  {
    auto s = open_journal();
    flip_payload_byte(*s, s->streams(), rdb::stream_key("request-" + id, 2));
    flip_payload_byte(*s, s->events(), rdb::be64(stored(*s, s->streams(), rdb::stream_key("request-" + id, 2)).global_position));
  }
  v = verify();
  EXPECT_EQ(v.code, 1) << v.out;
  EXPECT_NE(v.out.find("BROKEN: checkpoint at global position"), std::string::npos) << v.out;
}
