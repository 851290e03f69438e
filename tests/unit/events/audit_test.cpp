// The audit checks (events/audit.hpp) fed records by hand: given these
// stored events, the first broken link is this one.
#include <gtest/gtest.h>

#include "events/audit.hpp"

namespace ev = provisiond::events;
using provisiond::result;

namespace {

const std::string stream = "request-req-7";

// A chain of `n` events; the first `unhashed` predate hashing.
std::vector<ev::envelope> chain(int n, int unhashed = 0) {
  std::vector<ev::envelope> out;
  std::string prev;
  for (int i = 1; i <= n; ++i) {
    ev::envelope e;
    e.stream = stream;
    e.sequence = static_cast<std::uint64_t>(i);
    e.global_position = static_cast<std::uint64_t>(i);
    e.type = i == 1 ? "request_submitted" : "step_started";
    e.time = 1000 + i;
    e.payload = "{\"n\":" + std::to_string(i) + "}";
    e.event_id = ev::event_id_of(e.stream, e.sequence);
    if (i > unhashed) {
      ev::seal_link(e, prev);
      prev = e.hash;
    }
    out.push_back(e);
  }
  return out;
}

std::optional<ev::broken_link> run_chain(const std::vector<ev::envelope>& evs, ev::chain_check* out = nullptr) {
  ev::chain_check c{stream};
  for (auto& e : evs)
    if (auto b = c.next(e.sequence, result<ev::envelope>{e})) return b;
  auto b = c.finish(std::pair{evs.back().sequence, evs.back().hash});
  if (out) *out = c;
  return b;
}

ev::checkpoint_key key_of(unsigned char fill) {
  ev::checkpoint_key k;
  k.fill(fill);
  return k;
}

// Checkpoints signed with `key` after the given positions.
std::map<std::uint64_t, ev::checkpoint> signed_at(const std::vector<ev::envelope>& evs, std::vector<std::uint64_t> at,
                                                  const ev::checkpoint_key& key) {
  std::map<std::uint64_t, ev::checkpoint> out;
  std::string d = ev::chain_origin();
  for (auto& e : evs) {
    d = ev::digest_step(d, e);
    if (std::find(at.begin(), at.end(), e.global_position) != at.end()) {
      ev::checkpoint c{e.global_position, d, e.time, {}};
      ev::sign(c, key);
      out[e.global_position] = c;
    }
  }
  return out;
}

std::optional<ev::broken_link> run_digest(const std::vector<ev::envelope>& evs, std::map<std::uint64_t, ev::checkpoint> cps,
                                          std::optional<ev::checkpoint_key> key, std::uint64_t* verified = nullptr) {
  ev::digest_check d{std::move(cps), key};
  std::uint64_t pos = 0;
  for (auto& e : evs) {
    pos = e.global_position;
    if (auto b = d.next(pos, result<ev::envelope>{e}, true)) return b;
  }
  if (verified) *verified = d.checkpoints_verified();
  return d.finish(pos);
}

}  // namespace

TEST(ChainCheck, AnUntouchedChainHoldsWithoutANote) {
  ev::chain_check c{stream};
  auto evs = chain(5);
  EXPECT_FALSE(run_chain(evs, &c));
  EXPECT_EQ(c.events(), 5u);
  EXPECT_EQ(c.hashed(), 5u);
  EXPECT_FALSE(c.note());
}

TEST(ChainCheck, EventsBeforeHashingAreNotedNotFailed) {
  ev::chain_check c{stream};
  EXPECT_FALSE(run_chain(chain(5, 3), &c));
  ASSERT_TRUE(c.note());
  EXPECT_EQ(*c.note(), "request req-7 (stream request-req-7): chain starts at sequence 4; earlier events predate hashing");
}

TEST(ChainCheck, AChangedPayloadIsNamed) {
  auto evs = chain(5);
  evs[2].payload[2] ^= 1;
  auto b = run_chain(evs);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->sequence, 3u);
  EXPECT_EQ(b->type, "step_started");
  EXPECT_EQ(ev::describe(*b),
            "request req-7 (stream request-req-7), sequence 3, global position 3, event type step_started: "
            "its stored hash does not match its content (the event was changed)");
}

TEST(ChainCheck, AMissingEventIsNamedByTheOneAfterIt) {
  auto evs = chain(5);
  evs.erase(evs.begin() + 2);
  auto b = run_chain(evs);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->sequence, 4u);
  EXPECT_NE(b->reason.find("sequence 3 missing"), std::string::npos) << b->reason;
}

TEST(ChainCheck, SwappedEventsAreNamed) {
  auto evs = chain(5);
  std::swap(evs[1], evs[2]);  // stored under each other's keys
  ev::chain_check c{stream};
  auto b = c.next(1, result<ev::envelope>{evs[0]});
  EXPECT_FALSE(b);
  b = c.next(2, result<ev::envelope>{evs[1]});
  ASSERT_TRUE(b);
  EXPECT_EQ(b->sequence, 3u);
  EXPECT_NE(b->reason.find("moved or reordered"), std::string::npos);
}

TEST(ChainCheck, ARehashedEventBreaksTheNextLink) {
  auto evs = chain(5);
  evs[1].payload = "{\"n\":99}";
  ev::seal_link(evs[1], evs[0].hash);  // consistent in itself, but event 3 still names the old hash
  auto b = run_chain(evs);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->sequence, 3u);
  EXPECT_NE(b->reason.find("not the hash of sequence 2"), std::string::npos) << b->reason;
}

TEST(ChainCheck, AHashRemovedAfterTheChainStartedIsNamed) {
  auto evs = chain(4);
  evs[2].hash.clear();
  evs[2].previous_hash.clear();
  auto b = run_chain(evs);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->sequence, 3u);
}

TEST(ChainCheck, TheHeadCatchesARemovedLastEvent) {
  auto evs = chain(4);
  ev::chain_check c{stream};
  for (int i = 0; i < 3; ++i) ASSERT_FALSE(c.next(evs[i].sequence, result<ev::envelope>{evs[i]}));
  auto b = c.finish(std::pair{std::uint64_t{4}, evs[3].hash});
  ASSERT_TRUE(b);
  EXPECT_NE(b->reason.find("head says sequence 4"), std::string::npos);
}

TEST(ChainCheck, UndecodableBytesAreNamedByTheirKey) {
  ev::chain_check c{stream};
  auto b = c.next(1, result<ev::envelope>{provisiond::make_error(provisiond::errc::internal, "truncated envelope")});
  ASSERT_TRUE(b);
  EXPECT_EQ(b->stream, stream);
  EXPECT_EQ(b->sequence, 1u);
}

TEST(DigestCheck, SignedCheckpointsVerify) {
  auto evs = chain(6);
  std::uint64_t verified = 0;
  EXPECT_FALSE(run_digest(evs, signed_at(evs, {3, 6}, key_of(1)), key_of(1), &verified));
  EXPECT_EQ(verified, 2u);
}

TEST(DigestCheck, ACheckpointSignedWithAnotherKeyIsForged) {
  auto evs = chain(6);
  auto b = run_digest(evs, signed_at(evs, {3}, key_of(2)), key_of(1));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->position, 3u);
  EXPECT_NE(ev::describe(*b).find("checkpoint at global position 3: its signature does not verify"), std::string::npos);
}

TEST(DigestCheck, ARewrittenHistoryFailsTheCheckpoint) {
  // Every hash recomputed after a change: the chain holds, the signed digest does not.
  auto evs = chain(6);
  auto cps = signed_at(evs, {6}, key_of(1));
  evs[1].payload = "{\"n\":42}";
  std::string prev;
  for (auto& e : evs) {
    ev::seal_link(e, prev);
    prev = e.hash;
  }
  EXPECT_FALSE(run_chain(evs));
  auto b = run_digest(evs, cps, key_of(1));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->position, 6u);
  EXPECT_NE(b->reason.find("does not digest to the signed value"), std::string::npos);
}

TEST(DigestCheck, HolesCopiesAndCheckpointsPastTheEndAreNamed) {
  auto evs = chain(4);
  {
    ev::digest_check d{{}, std::nullopt};
    ASSERT_FALSE(d.next(1, result<ev::envelope>{evs[0]}, true));
    auto b = d.next(3, result<ev::envelope>{evs[2]}, true);
    ASSERT_TRUE(b);
    EXPECT_NE(b->reason.find("global position 2 missing"), std::string::npos);
  }
  {
    ev::digest_check d{{}, std::nullopt};
    auto b = d.next(1, result<ev::envelope>{evs[0]}, false);
    ASSERT_TRUE(b);
    EXPECT_NE(b->reason.find("differ"), std::string::npos);
  }
  {
    auto all = chain(6);
    auto b = run_digest(evs, signed_at(all, {6}, key_of(1)), key_of(1));
    ASSERT_TRUE(b);
    EXPECT_EQ(b->position, 6u);
    EXPECT_NE(b->reason.find("beyond the last stored event"), std::string::npos);
  }
}

TEST(DigestCheck, CheckpointsWithoutTheKeyCannotPass) {
  auto evs = chain(3);
  auto b = run_digest(evs, signed_at(evs, {3}, key_of(1)), std::nullopt);
  ASSERT_TRUE(b);
  EXPECT_NE(b->reason.find("no checkpoint key"), std::string::npos);
}
