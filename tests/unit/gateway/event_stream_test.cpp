// The live stream's pure part against an in-memory journal: pieces, the
// cursor, filters, the tenant of an event the read model does not know yet,
// heartbeats on a manual clock, the last word of a slow reader.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "gateway/event_stream.hpp"

using namespace provisiond;
using namespace provisiond::gateway;

namespace {

events::envelope event(std::uint64_t position, const std::string& request, std::uint64_t seq, const std::string& type,
                       const std::string& payload = "{}") {
  events::envelope e;
  e.global_position = position;
  e.stream = events::stream_for_request(request);
  e.sequence = seq;
  e.event_id = request + ":" + std::to_string(seq);
  e.type = type;
  e.payload = payload;
  return e;
}

struct journal_fake {
  std::vector<events::envelope> all;

  stream_source source(bool read_model_knows = true) {
    stream_source s;
    s.read_all = [this](std::uint64_t from, std::size_t max) -> result<std::vector<events::envelope>> {
      std::vector<events::envelope> out;
      for (auto& e : all)
        if (e.global_position >= from && out.size() < max) out.push_back(e);
      return out;
    };
    s.history = [this](const std::string& request) -> result<std::vector<events::envelope>> {
      std::vector<events::envelope> out;
      for (auto& e : all)
        if (e.stream == events::stream_for_request(request)) out.push_back(e);
      return out;
    };
    s.last_position = [this] { return all.empty() ? 0 : all.back().global_position; };
    s.tenant_of = [read_model_knows](const std::string&) { return read_model_knows ? std::string("acme") : ""; };
    return s;
  }
};

// The ids of the messages in a piece.
std::vector<std::string> ids(const std::string& piece) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while ((at = piece.find("id: ", at)) != std::string::npos) {
    auto end = piece.find('\n', at);
    out.push_back(piece.substr(at + 4, end - at - 4));
    at = end;
  }
  return out;
}

}  // namespace

TEST(EventStream, GivenEventsAfterItsCursorWhenAskedThenItSendsThemOnceInOrder) {
  journal_fake j;
  j.all = {event(1, "r1", 1, "request_submitted", R"({"tenantId":"acme"})"), event(2, "r1", 2, "quota_reserved"),
           event(3, "r1", 3, "request_admitted")};
  auto clk = std::make_shared<manual_clock>(0);
  event_stream s{j.source(), {}, 1, {}, clk};
  auto piece = s.next();
  ASSERT_TRUE(piece);
  EXPECT_EQ(ids(*piece), (std::vector<std::string>{"2", "3"}));
  EXPECT_EQ(*s.next(), "");  // nothing new, and no heartbeat yet
  j.all.push_back(event(4, "r1", 4, "cluster_placed"));
  EXPECT_EQ(ids(*s.next()), (std::vector<std::string>{"4"}));
}

TEST(EventStream, GivenATenantTheReadModelDoesNotKnowYetWhenFilteredThenTheRequestsFirstEventSaysIt) {
  journal_fake j;
  j.all = {event(1, "r1", 1, "request_submitted", R"({"tenantId":"acme"})"), event(2, "r2", 1, "request_submitted",
                                                                                  R"({"tenantId":"globex"})"),
           event(3, "r1", 2, "quota_reserved"), event(4, "r2", 2, "quota_reserved")};
  auto clk = std::make_shared<manual_clock>(0);
  stream_filter f;
  f.tenant_id = "acme";
  // Resumed after both submissions: the stream never saw them.
  event_stream s{j.source(false), f, 2, {}, clk};
  EXPECT_EQ(ids(*s.next()), (std::vector<std::string>{"3"}));
}

TEST(EventStream, GivenSilenceWhenTheHeartbeatIsDueThenAComment) {
  journal_fake j;
  auto clk = std::make_shared<manual_clock>(0);
  stream_settings limits;
  limits.heartbeat_ms = 1000;
  event_stream s{j.source(), {}, 0, limits, clk};
  EXPECT_EQ(*s.next(), "");
  clk->advance(1000);
  EXPECT_EQ(*s.next(), ": heartbeat\n\n");
  EXPECT_EQ(*s.next(), "");
}

TEST(EventStream, GivenManyEventsWhenAPieceIsFullThenTheRestComesNextTime) {
  journal_fake j;
  for (std::uint64_t p = 1; p <= 10; ++p) j.all.push_back(event(p, "r1", p, "step_started"));
  auto clk = std::make_shared<manual_clock>(0);
  stream_settings limits;
  limits.max_piece_events = 4;
  event_stream s{j.source(), {}, 0, limits, clk};
  EXPECT_EQ(ids(*s.next()), (std::vector<std::string>{"1", "2", "3", "4"}));
  EXPECT_EQ(ids(*s.next()), (std::vector<std::string>{"5", "6", "7", "8"}));
  EXPECT_EQ(ids(*s.next()), (std::vector<std::string>{"9", "10"}));
}

TEST(EventStream, GivenASlowReaderWhenAskedAgainThenItsLastWordNamesTheLastIdAndThenTheEnd) {
  journal_fake j;
  j.all = {event(1, "r1", 1, "request_submitted", R"({"tenantId":"acme"})"), event(2, "r1", 2, "quota_reserved")};
  auto clk = std::make_shared<manual_clock>(0);
  event_stream s{j.source(), {}, 0, {}, clk};
  ASSERT_EQ(ids(*s.next()).size(), 2u);
  s.reader_is_slow();
  auto last = s.next();
  ASSERT_TRUE(last);
  EXPECT_NE(last->find("event: dropped"), std::string::npos);
  EXPECT_NE(last->find("\"lastEventId\":2"), std::string::npos) << *last;
  EXPECT_FALSE(s.next());
}
