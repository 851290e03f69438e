#pragma once
/// Opens a stopped provisiond's journal and checks its invariants.

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "events/codec.hpp"
#include "events/request_state.hpp"
#include "events/rocksdb/rocksdb_journal.hpp"

namespace provisiond::testing {

struct journal_summary {
  std::map<std::string, events::request_state> requests;  ///< by request id, folded
  std::size_t events = 0;
  std::size_t adopted = 0;  ///< steps settled by looking the resource up
};

/// Reads every event in global order and asserts: positions 1..N, every
/// stream's sequence 1..n without gaps or repeats, no duplicate event ids,
/// every payload decodes.
inline journal_summary check_journal(const std::string& dir) {
  journal_summary out;
  auto store = events::rocksdb_adapter::store::open(dir, durability::fast);
  EXPECT_TRUE(store.has_value());
  if (!store) return out;
  auto journal = events::rocksdb_adapter::make_journal(*store);
  std::set<std::string> ids;
  std::map<std::string, std::uint64_t> last_seq;
  std::uint64_t pos = 0;
  for (;;) {
    auto batch = journal->read_all(pos + 1, 10000);
    EXPECT_TRUE(batch.has_value());
    if (!batch || batch->empty()) break;
    for (auto& e : *batch) {
      EXPECT_EQ(e.global_position, pos + 1) << "gap in global order";
      pos = e.global_position;
      EXPECT_TRUE(ids.insert(e.event_id).second) << "duplicate event id " << e.event_id;
      auto id = events::request_of_stream(e.stream);
      if (id.empty()) id = e.stream;  // admin streams (quotas, rules)
      auto& seq = last_seq[id];
      EXPECT_EQ(e.sequence, seq + 1) << "stream " << e.stream << " jumps from " << seq << " to " << e.sequence;
      seq = e.sequence;
      auto decoded = events::decode(e);
      EXPECT_TRUE(decoded.has_value()) << e.event_id;
      if (!decoded) continue;
      if (auto* c = std::get_if<events::step_completed>(&*decoded); c && c->adopted) ++out.adopted;
      if (id == e.stream) continue;  // not a request
      auto& st = out.requests[id];
      st.id = id;
      events::apply_in_place(st, *decoded, e.time);
      ++out.events;
    }
  }
  // The stream index agrees with the global order.
  for (auto& [id, seq] : last_seq) {
    auto name = out.requests.count(id) ? events::stream_for_request(id) : id;
    auto stream = journal->read_stream(name, 1);
    EXPECT_EQ(stream->size(), seq) << id;
  }
  return out;
}

}  // namespace provisiond::testing
