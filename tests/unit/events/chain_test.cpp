// The hash chain, the running digest and checkpoints (events/chain.hpp):
// pure functions, no journal.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>

#include "events/chain.hpp"
#include "tests/support/temp_dir.hpp"

namespace ev = provisiond::events;
using provisiond::errc;

namespace {

ev::envelope sample(std::uint64_t seq = 1, std::string payload = "{\"reason\":\"r\"}") {
  ev::envelope e;
  e.stream = "request-req-1";
  e.sequence = seq;
  e.global_position = 40 + seq;
  e.type = "rollback_started";
  e.schema_version = 1;
  e.time = 1700000000123;
  e.fencing_token = 7;
  e.payload = std::move(payload);
  return e;
}

std::string u32(std::uint32_t v) { return std::string{char(v >> 24), char(v >> 16), char(v >> 8), char(v)}; }
std::string u64(std::uint64_t v) { return u32(static_cast<std::uint32_t>(v >> 32)) + u32(static_cast<std::uint32_t>(v)); }
std::string str(const std::string& s) { return u32(static_cast<std::uint32_t>(s.size())) + s; }

ev::checkpoint_key key_of(unsigned char fill) {
  ev::checkpoint_key k;
  k.fill(fill);
  return k;
}

}  // namespace

TEST(EventChain, CanonicalBytesAreTheDocumentedLayout) {
  auto e = sample(3);
  std::string expected = str("provisiond.event.v1") + str("request-req-1") + u64(3) + str("rollback_started") + u32(1) +
                         u64(1700000000123) + str("req-1:3") + str("{\"reason\":\"r\"}");
  EXPECT_EQ(ev::canonical_bytes(e), expected);
  // The event id is derived when the envelope has none, and used as given otherwise.
  e.event_id = "req-1:3";
  EXPECT_EQ(ev::canonical_bytes(e), expected);
}

TEST(EventChain, TheFormatsTestVectorIsStable) {
  // Pinned, computed independently of this code (Python's hashlib over the
  // layout in events/chain.hpp): a change here changes every stored chain.
  auto e = sample(1);
  EXPECT_EQ(ev::to_hex(ev::link_hash(ev::chain_origin(), e)),
            "82bc52be488ad7ac701c4d10b28cb1cb0002fc413f5d25c98a1128baecbce882");
}

TEST(EventChain, EveryHashedFieldChangesTheHashButPositionAndTokenDoNot) {
  const auto base = ev::link_hash(ev::chain_origin(), sample());
  auto changed = [&](auto mutate) {
    auto e = sample();
    mutate(e);
    return ev::link_hash(ev::chain_origin(), e) != base;
  };
  EXPECT_TRUE(changed([](ev::envelope& e) { e.stream = "request-req-2"; }));
  EXPECT_TRUE(changed([](ev::envelope& e) { e.sequence = 2; }));
  EXPECT_TRUE(changed([](ev::envelope& e) { e.type = "rolled_back"; }));
  EXPECT_TRUE(changed([](ev::envelope& e) { e.schema_version = 2; }));
  EXPECT_TRUE(changed([](ev::envelope& e) { e.time += 1; }));
  EXPECT_TRUE(changed([](ev::envelope& e) { e.payload[3] ^= 1; }));
  // Each instance numbers positions itself; the chain is the same on all.
  EXPECT_FALSE(changed([](ev::envelope& e) { e.global_position = 9999; }));
  EXPECT_FALSE(changed([](ev::envelope& e) { e.fencing_token = 1; }));
  // Length prefixes: moving a byte from one field to the next is a change.
  auto a = sample();
  a.type = "ab";
  a.payload = "c";
  auto b = sample();
  b.type = "a";
  b.payload = "bc";
  EXPECT_NE(ev::link_hash(ev::chain_origin(), a), ev::link_hash(ev::chain_origin(), b));
}

TEST(EventChain, LinksFollowEachOtherAndAChangedEventNoLongerHolds) {
  auto first = sample(1);
  ev::seal_link(first, "");
  EXPECT_EQ(first.previous_hash, ev::chain_origin());
  EXPECT_EQ(first.hash.size(), ev::hash_size);
  auto second = sample(2);
  ev::seal_link(second, first.hash);
  EXPECT_EQ(second.previous_hash, first.hash);
  EXPECT_TRUE(ev::link_holds(first));
  EXPECT_TRUE(ev::link_holds(second));
  second.payload[5] ^= 0x20;
  EXPECT_FALSE(ev::link_holds(second));
  auto unhashed = sample(3);
  EXPECT_FALSE(ev::link_holds(unhashed));
}

TEST(EventChain, TheDigestCoversOrderPositionAndToken) {
  auto a = sample(1);
  auto b = sample(2);
  ev::seal_link(a, "");
  ev::seal_link(b, a.hash);
  auto d_ab = ev::digest_step(ev::digest_step(ev::chain_origin(), a), b);
  auto d_ba = ev::digest_step(ev::digest_step(ev::chain_origin(), b), a);
  EXPECT_NE(d_ab, d_ba);
  auto moved = b;
  moved.global_position += 1;
  EXPECT_NE(ev::digest_step(ev::digest_step(ev::chain_origin(), a), moved), d_ab);
  auto token = b;
  token.fencing_token += 1;
  EXPECT_NE(ev::digest_step(ev::digest_step(ev::chain_origin(), a), token), d_ab);
  // An event that predates hashing still counts, by its content.
  auto old = sample(1);
  auto old_changed = sample(1, "{\"reason\":\"s\"}");
  EXPECT_NE(ev::digest_step(ev::chain_origin(), old), ev::digest_step(ev::chain_origin(), old_changed));
}

TEST(Checkpoint, SignsAndVerifiesOnlyWithItsKey) {
  ev::checkpoint c{1000, std::string(32, 'd'), 1700000000000, {}};
  ev::sign(c, key_of(1));
  EXPECT_TRUE(ev::signature_holds(c, key_of(1)));
  EXPECT_FALSE(ev::signature_holds(c, key_of(2)));
  for (auto mutate : {+[](ev::checkpoint& x) { x.position += 1; }, +[](ev::checkpoint& x) { x.digest[0] ^= 1; },
                      +[](ev::checkpoint& x) { x.time += 1; }, +[](ev::checkpoint& x) { x.mac[31] ^= 1; }}) {
    auto forged = c;
    mutate(forged);
    EXPECT_FALSE(ev::signature_holds(forged, key_of(1)));
  }
}

TEST(Checkpoint, RoundTripsItsStoredFormAndRefusesOtherBytes) {
  ev::checkpoint c{42, std::string(32, 'x'), 5, {}};
  ev::sign(c, key_of(9));
  auto bytes = ev::encode_checkpoint(c);
  auto back = ev::decode_checkpoint(bytes);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->position, 42u);
  EXPECT_EQ(back->time, 5);
  EXPECT_EQ(back->digest, c.digest);
  EXPECT_TRUE(ev::signature_holds(*back, key_of(9)));
  EXPECT_FALSE(ev::decode_checkpoint(bytes.substr(1)).has_value());
  EXPECT_FALSE(ev::decode_checkpoint(bytes + "z").has_value());
}

TEST(Checkpoint, TheKeyFileIsCreatedOnce0600AndReadBack) {
  provisiond::testing::temp_dir dir;
  auto path = dir / "audit.key";
  EXPECT_EQ(ev::load_checkpoint_key(path, false, "audit.checkpointKeyFile").error().code, errc::not_found);
  auto created = ev::load_checkpoint_key(path, true, "audit.checkpointKeyFile");
  ASSERT_TRUE(created.has_value());
  struct stat st{};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  EXPECT_EQ(st.st_size, 32);
  auto again = ev::load_checkpoint_key(path, true, "audit.checkpointKeyFile");
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *created);
  std::ofstream{dir / "short.key"} << "too short";
  auto bad = ev::load_checkpoint_key(dir / "short.key", true, "audit.checkpointKeyFile");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().field, "audit.checkpointKeyFile");
}
