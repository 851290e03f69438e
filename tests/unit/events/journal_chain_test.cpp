// The RocksDB journal writes the chain, the running digest and checkpoints;
// verify_journal reads them back as stored. Includes the upgrade of a
// journal written before hashing (old-format bytes made here).
#include <gtest/gtest.h>

#include <cstring>

#include <rocksdb/write_batch.h>

#include "events/codec.hpp"
#include "events/request_state.hpp"
#include "events/rocksdb/rocksdb_audit.hpp"
#include "events/rocksdb/rocksdb_journal.hpp"
#include "tests/support/temp_dir.hpp"

namespace ev = provisiond::events;
namespace rdb = provisiond::events::rocksdb_adapter;
using provisiond::durability;

namespace {

ev::append_request req(const std::string& stream, std::uint64_t expected, int n) {
  ev::append_request r;
  r.stream = stream;
  r.expected_sequence = expected;
  for (int i = 0; i < n; ++i)
    r.events.push_back(ev::make_pending(ev::rollback_started{"e" + std::to_string(expected + i + 1)}, 1000 + i));
  return r;
}

ev::checkpoint_key key_of(unsigned char fill) {
  ev::checkpoint_key k;
  k.fill(fill);
  return k;
}

std::shared_ptr<rdb::store> open_store(const std::string& dir) {
  auto s = rdb::store::open(dir, durability::fast);
  EXPECT_TRUE(s.has_value());
  return *s;
}

// The envelope as the journal stored it before hashing (format 1:
// little-endian fixed fields, then length-prefixed strings; no hashes).
std::string old_format(const std::string& stream, std::uint64_t seq, std::uint64_t pos, const std::string& type,
                       std::uint32_t version, std::int64_t time, const std::string& payload) {
  std::string out(1, '\x01');
  auto raw = [&](const auto& v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); };
  auto str = [&](const std::string& s) {
    raw(static_cast<std::uint32_t>(s.size()));
    out += s;
  };
  raw(seq);
  raw(pos);
  raw(time);
  raw(std::uint64_t{0});
  raw(version);
  str(stream);
  str(type);
  str(payload);
  return out;
}

}  // namespace

TEST(JournalChain, EachEventNamesThePreviousHashOfItsStreamAcrossAppendsAndRestarts) {
  provisiond::testing::temp_dir dir;
  auto s = open_store(dir / "j");
  {
    auto j = rdb::make_journal(s);
    ASSERT_TRUE(j->append(req("request-a", 0, 2)));
    ASSERT_TRUE(j->append(req("request-b", 0, 1)));
  }
  auto j = rdb::make_journal(s);
  auto r = j->append(req("request-a", 2, 1));
  ASSERT_TRUE(r.has_value());
  auto a = *j->read_stream("request-a", 1);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].previous_hash, ev::chain_origin());
  EXPECT_EQ(a[1].previous_hash, a[0].hash);
  EXPECT_EQ(a[2].previous_hash, a[1].hash);  // the head kept it over the restart
  EXPECT_EQ(r->last_hash, a[2].hash);
  for (auto& e : a) EXPECT_TRUE(ev::link_holds(e)) << e.event_id;
  auto b = *j->read_stream("request-b", 1);
  EXPECT_EQ(b[0].previous_hash, ev::chain_origin());
}

TEST(JournalChain, TheSameStreamsInAnotherGlobalOrderGiveTheSameChains) {
  // What a scale-out replica does: its positions differ, its chains do not.
  provisiond::testing::temp_dir dir;
  auto one = rdb::make_journal(open_store(dir / "one"));
  auto two = rdb::make_journal(open_store(dir / "two"));
  ASSERT_TRUE(one->append(req("request-a", 0, 2)));
  ASSERT_TRUE(one->append(req("request-b", 0, 2)));
  ASSERT_TRUE(two->append(req("request-b", 0, 2)));
  ASSERT_TRUE(two->append(req("request-a", 0, 2)));
  for (const char* stream : {"request-a", "request-b"}) {
    auto x = *one->read_stream(stream, 1);
    auto y = *two->read_stream(stream, 1);
    ASSERT_EQ(x.size(), y.size());
    for (std::size_t i = 0; i < x.size(); ++i) EXPECT_EQ(x[i].hash, y[i].hash) << stream << " " << i;
  }
  EXPECT_NE(one->read_stream("request-b", 1)->front().global_position,
            two->read_stream("request-b", 1)->front().global_position);
}

TEST(JournalChain, CheckpointsEveryNAndAtShutdownVerifyWithTheKey) {
  provisiond::testing::temp_dir dir;
  auto s = open_store(dir / "j");
  {
    auto j = rdb::make_journal(s, rdb::journal_options{2, key_of(5)});
    ASSERT_TRUE(j->append(req("request-a", 0, 3)));
    ASSERT_TRUE(j->append(req("request-b", 0, 2)));
  }  // 5 events: checkpoints at 2 and 4, then 5 at shutdown
  auto report = rdb::verify_journal(*s, key_of(5));
  ASSERT_TRUE(report.has_value());
  EXPECT_FALSE(report->broken) << ev::describe(*report->broken);
  EXPECT_EQ(report->checkpoints, 3u);
  EXPECT_EQ(report->last_checkpoint, 5u);
  EXPECT_EQ(report->streams, 2u);
  EXPECT_EQ(report->hashed, 5u);
  EXPECT_TRUE(report->notes.empty());
  auto wrong = rdb::verify_journal(*s, key_of(6));
  ASSERT_TRUE(wrong.has_value());
  ASSERT_TRUE(wrong->broken);
  EXPECT_EQ(wrong->broken->position, 2u);
  // Without a key nothing is signed, and nothing is claimed.
  provisiond::testing::temp_dir other;
  auto t = open_store(other / "j");
  { ASSERT_TRUE(rdb::make_journal(t)->append(req("request-a", 0, 3))); }
  auto unsigned_report = rdb::verify_journal(*t, std::nullopt);
  ASSERT_TRUE(unsigned_report.has_value());
  EXPECT_FALSE(unsigned_report->broken);
  EXPECT_EQ(unsigned_report->checkpoints, 0u);
}

TEST(JournalChain, AFlippedByteInEitherStoredCopyIsNamed) {
  provisiond::testing::temp_dir dir;
  auto s = open_store(dir / "j");
  {
    auto j = rdb::make_journal(s, rdb::journal_options{1000, key_of(5)});
    ASSERT_TRUE(j->append(req("request-a", 0, 3)));
    ASSERT_TRUE(j->append(req("request-b", 0, 3)));
  }
  auto flip = [&](rocksdb::ColumnFamilyHandle* cf, const std::string& key) {
    std::string v;
    ASSERT_TRUE(s->db()->Get(rocksdb::ReadOptions{}, cf, key, &v).ok());
    auto e = rdb::decode_envelope(v);
    ASSERT_TRUE(e.has_value());
    auto at = v.find(e->payload);  // a byte inside the payload
    ASSERT_NE(at, std::string::npos);
    v[at + e->payload.size() / 2] ^= 0x01;
    ASSERT_TRUE(s->db()->Put(rocksdb::WriteOptions{}, cf, key, v).ok());
  };
  flip(s->streams(), rdb::stream_key("request-b", 2));
  auto r = rdb::verify_journal(*s, key_of(5));
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->broken);
  EXPECT_EQ(r->broken->stream, "request-b");
  EXPECT_EQ(r->broken->sequence, 2u);
  EXPECT_EQ(r->broken->position, 5u);
  flip(s->streams(), rdb::stream_key("request-b", 2));  // back
  ASSERT_FALSE(rdb::verify_journal(*s, key_of(5))->broken);
  flip(s->events(), rdb::be64(2));  // request-a's 2nd event, in the global order
  r = rdb::verify_journal(*s, key_of(5));
  ASSERT_TRUE(r->broken);
  EXPECT_EQ(r->broken->stream, "request-a");
  EXPECT_EQ(r->broken->sequence, 2u);
  EXPECT_EQ(r->broken->position, 2u);
  EXPECT_EQ(r->broken->type, "rollback_started");
}

TEST(JournalChain, AJournalWrittenBeforeHashingOpensReplaysAndVerifiesWithANote) {
  provisiond::testing::temp_dir dir;
  auto s = open_store(dir / "j");
  // Three events of one request and one of the quota stream, as the old writer stored them.
  const std::string stream = "request-old-1";
  ev::request_submitted sub;
  sub.tenant_id = "acme";
  sub.order_id = "order-1";
  sub.type = "vps";
  sub.region = "eu-west-1";
  std::vector<ev::event> old_events = {ev::event{sub}, ev::event{ev::quota_reserved{}}, ev::event{ev::request_admitted{}}};
  rocksdb::WriteBatch batch;
  std::uint64_t pos = 0;
  for (std::size_t i = 0; i < old_events.size(); ++i) {
    auto seq = i + 1;
    auto bytes = old_format(stream, seq, ++pos, ev::type_name(old_events[i]), ev::schema_version(old_events[i]),
                            1700000000000 + static_cast<std::int64_t>(i), ev::encode_payload(old_events[i]));
    batch.Put(s->events(), rdb::be64(pos), bytes);
    batch.Put(s->streams(), rdb::stream_key(stream, seq), bytes);
  }
  ev::quota_set quota;
  quota.tenant_id = "acme";
  auto qbytes = old_format("tenant-quotas", 1, ++pos, "quota_set", 1, 1700000000100, ev::encode_payload(ev::event{quota}));
  batch.Put(s->events(), rdb::be64(pos), qbytes);
  batch.Put(s->streams(), rdb::stream_key("tenant-quotas", 1), qbytes);
  batch.Put(s->meta(), rdb::head_key(stream), rdb::be64(3) + rdb::be64(0));  // a 16-byte head
  batch.Put(s->meta(), rdb::head_key("tenant-quotas"), rdb::be64(1));      // an 8-byte one (before fencing)
  batch.Put(s->meta(), "position", rdb::be64(pos));
  ASSERT_TRUE(s->db()->Write(rocksdb::WriteOptions{}, &batch).ok());

  {
    auto j = rdb::make_journal(s, rdb::journal_options{1000, key_of(3)});
    auto before = j->read_stream(stream, 1);
    ASSERT_TRUE(before.has_value());
    ASSERT_EQ(before->size(), 3u);
    EXPECT_TRUE((*before)[0].hash.empty());
    // The request goes on: new events are chained from its 4th.
    ev::append_request more;
    more.stream = stream;
    more.expected_sequence = 3;
    more.events.push_back(ev::make_pending(ev::cluster_placed{"sim-eu-west-1", "first with room", {}}, 1700000001000));
    ASSERT_TRUE(j->append(std::move(more)));
    auto all = *j->read_stream(stream, 1);
    ASSERT_EQ(all.size(), 4u);
    EXPECT_EQ(all[3].previous_hash, ev::chain_origin());
    EXPECT_TRUE(ev::link_holds(all[3]));
    // Replay: the old and the new events fold into one state.
    ev::request_state st;
    st.id = "old-1";
    for (auto& e : all) {
      auto d = ev::decode(e);
      ASSERT_TRUE(d.has_value()) << e.event_id << ": " << d.error().message;
      ev::apply_in_place(st, *d, e.time);
    }
    EXPECT_EQ(st.version, 4u);
    EXPECT_EQ(st.spec.tenant_id, "acme");
    EXPECT_EQ(st.cluster_id, "sim-eu-west-1");
  }  // shutdown checkpoint over all 5 events, the old ones by their content
  auto r = rdb::verify_journal(*s, key_of(3));
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->broken) << ev::describe(*r->broken);
  EXPECT_EQ(r->checkpoints, 1u);
  EXPECT_EQ(r->last_checkpoint, 5u);
  std::vector<std::string> expected = {
      "request old-1 (stream request-old-1): chain starts at sequence 4; earlier events predate hashing",
      "stream tenant-quotas: no event is hashed yet; all 1 predate hashing"};
  std::sort(r->notes.begin(), r->notes.end());
  EXPECT_EQ(r->notes, expected);
  auto one = rdb::verify_journal(*s, key_of(3), stream);
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->streams, 1u);
  EXPECT_EQ(one->events, 4u);
  EXPECT_EQ(one->notes.size(), 1u);
  // The old events are covered by the checkpoint although they carry no hash.
  std::string v;
  ASSERT_TRUE(s->db()->Get(rocksdb::ReadOptions{}, s->streams(), rdb::stream_key(stream, 2), &v).ok());
  auto tampered = v;
  tampered[tampered.size() - 3] ^= 0x01;
  rocksdb::WriteBatch t;
  t.Put(s->streams(), rdb::stream_key(stream, 2), tampered);
  t.Put(s->events(), rdb::be64(2), tampered);
  ASSERT_TRUE(s->db()->Write(rocksdb::WriteOptions{}, &t).ok());
  auto after = rdb::verify_journal(*s, key_of(3));
  ASSERT_TRUE(after->broken);
  EXPECT_TRUE(after->broken->stream.empty());  // the checkpoint at 5
  EXPECT_EQ(after->broken->position, 5u);
}
