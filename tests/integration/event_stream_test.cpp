// GET /v1/events/stream against the real binary: order, filters, resume
// with Last-Event-ID without gap or repeat, heartbeats, and a reader that
// falls behind being dropped while the engine goes on.
#include <set>

#include "tests/integration/fixture.hpp"
#include "tests/support/api_keys.hpp"
#include "tests/support/sse_client.hpp"

using namespace provisiond::testing;
using nlohmann::json;

namespace {

struct EventStream : server_fixture {
  void SetUp() override {
    write_config({{"http", {{"streamHeartbeatMs", 300}, {"streamSlowReaderMs", 1000}, {"bodyTimeoutMs", 20000}}}});
    start_server();
  }

  std::string submit(const std::string& tenant, const std::string& order) {
    auto r = post("/v1/requests", vps_body(tenant, order));
    EXPECT_EQ(r.status, 202) << r.body;
    return body(r)["id"].get<std::string>();
  }

  // Events until one of `request` has type `last` (or the stream stops).
  static std::vector<json> read_until(sse_client& c, const std::string& request, const std::string& last) {
    std::vector<json> out;
    while (auto e = c.next()) {
      auto j = json::parse(e->data, nullptr, false);
      EXPECT_FALSE(j.is_discarded()) << e->data;
      EXPECT_EQ(e->id, std::to_string(j["position"].get<std::uint64_t>()));
      EXPECT_EQ(e->event, j["type"]);
      out.push_back(j);
      if (j["requestId"] == request && j["type"] == last) break;
    }
    return out;
  }

  std::uint64_t last_position() {
    auto ev = body(get("/v1/requests/" + last_request_ + "/events"));
    return ev.back()["position"].get<std::uint64_t>();
  }

  std::string last_request_;
};

TEST_F(EventStream, CarriesEveryEventOfARequestInJournalOrder) {
  sse_client c;
  ASSERT_EQ(c.open(proc.port(), "/v1/events/stream"), 200);
  EXPECT_NE(c.head().find("text/event-stream"), std::string::npos) << c.head();
  auto id = submit("acme", "o-1");
  auto got = read_until(c, id, "request_completed");
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back()["type"], "request_completed");

  auto stored = body(get("/v1/requests/" + id + "/events"));
  std::vector<std::string> want, seen;
  for (auto& e : stored) want.push_back(e["eventId"]);
  std::uint64_t prev = 0;
  for (auto& e : got) {
    EXPECT_GT(e["position"].get<std::uint64_t>(), prev);
    prev = e["position"];
    if (e["requestId"] == id) {
      seen.push_back(e["eventId"]);
      EXPECT_EQ(e["tenantId"], "acme");
    }
  }
  EXPECT_EQ(seen, want);
  EXPECT_EQ(got.front()["data"]["tenantId"], "acme");  // request_submitted's payload, as stored
}

TEST_F(EventStream, ResumesWithLastEventIdWithoutGapOrRepeat) {
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(submit("acme", "o-" + std::to_string(i)));
  for (auto& id : ids) ASSERT_EQ(wait_state(id, {"Completed"}), "Completed");
  last_request_ = ids.back();
  auto head = last_position();

  // The whole journal in one go, from the start.
  std::vector<std::uint64_t> whole;
  {
    sse_client c;
    ASSERT_EQ(c.open(proc.port(), "/v1/events/stream?lastEventId=0"), 200);
    while (whole.empty() || whole.back() < head) {
      auto e = c.next();
      ASSERT_TRUE(e) << "stream stopped after " << whole.size() << " events";
      whole.push_back(std::stoull(e->id));
    }
  }
  for (std::size_t i = 0; i < whole.size(); ++i) ASSERT_EQ(whole[i], i + 1) << "positions 1, 2, ... without holes";

  // The same in pieces: disconnect after a few events, resume with the
  // header EventSource sends; more requests arrive while disconnected.
  std::vector<std::uint64_t> pieces;
  std::string last = "0";
  std::uint64_t until = head;
  for (int round = 0; pieces.empty() || pieces.back() < until; ++round) {
    ASSERT_LT(round, 200);
    sse_client c;
    ASSERT_EQ(c.open(proc.port(), "/v1/events/stream", {{"Last-Event-ID", last}}), 200);
    for (int n = 0; n < 7; ++n) {
      auto e = c.next();
      if (!e) break;
      pieces.push_back(std::stoull(e->id));
      last = e->id;
    }
    if (round == 2) {
      last_request_ = submit("acme", "late");
      ASSERT_EQ(wait_state(last_request_, {"Completed"}), "Completed");
      until = last_position();
    }
  }
  std::set<std::uint64_t> distinct(pieces.begin(), pieces.end());
  EXPECT_EQ(distinct.size(), pieces.size()) << "an event came twice";
  for (std::size_t i = 0; i < pieces.size(); ++i) ASSERT_EQ(pieces[i], i + 1) << "a gap at " << i;
}

// The first piece names where the stream starts, so a reader that drops
// before any event came resumes from there and misses nothing.
TEST_F(EventStream, StartsWithItsPositionSoAnEarlyReconnectLosesNothing) {
  auto first = submit("acme", "o-first");
  ASSERT_EQ(wait_state(first, {"Completed"}), "Completed");
  last_request_ = first;
  auto head = last_position();
  std::string start;
  {
    sse_client c;
    ASSERT_EQ(c.open(proc.port(), "/v1/events/stream"), 200);
    EXPECT_FALSE(c.next(std::chrono::milliseconds(200)));
    start = c.start_id();
  }
  EXPECT_EQ(start, std::to_string(head));
  auto missed = submit("acme", "o-while-away");
  sse_client again;
  ASSERT_EQ(again.open(proc.port(), "/v1/events/stream", {{"Last-Event-ID", start}}), 200);
  auto got = read_until(again, missed, "request_submitted");
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.front()["position"], head + 1);
  EXPECT_EQ(got.back()["requestId"], missed);
}

TEST_F(EventStream, FiltersByRequestTenantAndType) {
  auto a = submit("acme", "o-a");
  auto b = submit("globex", "o-b");
  ASSERT_EQ(wait_state(a, {"Completed"}), "Completed");
  ASSERT_EQ(wait_state(b, {"Completed"}), "Completed");

  sse_client by_tenant;
  ASSERT_EQ(by_tenant.open(proc.port(), "/v1/events/stream?lastEventId=0&tenantId=globex"), 200);
  auto got = read_until(by_tenant, b, "request_completed");
  ASSERT_FALSE(got.empty());
  for (auto& e : got) EXPECT_EQ(e["tenantId"], "globex") << e.dump();
  EXPECT_EQ(got.back()["type"], "request_completed");

  // A tenant's caller sees its own events whatever its query asks for.
  sse_client scoped;
  ASSERT_EQ(scoped.open(proc.port(), "/v1/events/stream?lastEventId=0&tenantId=globex",
                       {{"Authorization", issue_api_key(proc.port(), "tenant", "acme", true)}}),
            200);
  got = read_until(scoped, a, "request_completed");
  ASSERT_FALSE(got.empty());
  for (auto& e : got) EXPECT_EQ(e["tenantId"], "acme") << e.dump();
  EXPECT_EQ(got.back()["requestId"], a);

  sse_client by_request;
  ASSERT_EQ(by_request.open(proc.port(), "/v1/events/stream?lastEventId=0&requestId=" + a +
                                             "&type=step_completed,request_completed"),
            200);
  got = read_until(by_request, a, "request_completed");
  ASSERT_EQ(got.size(), 5u);  // four steps, then the request
  for (int i = 0; i < 4; ++i) EXPECT_EQ(got[i]["type"], "step_completed");
  for (auto& e : got) EXPECT_EQ(e["requestId"], a);

  // Later events of a filtered request still arrive live.
  ASSERT_EQ(post("/v1/requests/" + a + "/suspend", "").status, 200);
  sse_client live;
  ASSERT_EQ(live.open(proc.port(), "/v1/events/stream?lastEventId=0&requestId=" + a + "&type=service_suspended"), 200);
  auto suspended = live.next(std::chrono::seconds(20));
  ASSERT_TRUE(suspended);
  EXPECT_EQ(suspended->event, "service_suspended");
}

TEST_F(EventStream, RefusesBadQueriesNamingTheField) {
  struct bad_case {
    std::string target;
    std::map<std::string, std::string> headers;
    std::string field;
  };
  std::vector<bad_case> cases = {
      {"/v1/events/stream?type=request_submitted,nope", {}, "type"},
      {"/v1/events/stream?tenantId=a%20b", {}, "tenantId"},
      {"/v1/events/stream?requestId=", {}, "requestId"},
      {"/v1/events/stream?lastEventId=-1", {}, "lastEventId"},
      {"/v1/events/stream?lastEventId=99999999999999999999999", {}, "lastEventId"},
      {"/v1/events/stream", {{"Last-Event-ID", "x"}}, "Last-Event-ID"},
      {"/v1/events/stream?since=3", {}, "since"},
  };
  for (auto& bc : cases) {
    sse_client c;
    bc.headers["Connection"] = "close";
    EXPECT_EQ(c.open(proc.port(), bc.target, bc.headers), 400) << bc.target;
    auto rest = c.rest();
    auto j = json::parse(rest.substr(rest.find('{')), nullptr, false);
    EXPECT_EQ(j["error"]["field"], bc.field) << bc.target << " " << rest;
  }
}

TEST_F(EventStream, SendsHeartbeatsWhileNothingHappens) {
  sse_client c;
  ASSERT_EQ(c.open(proc.port(), "/v1/events/stream"), 200);
  EXPECT_FALSE(c.next(std::chrono::milliseconds(1500)));  // nothing to send but comments
  EXPECT_GE(c.heartbeats(), 2);
  EXPECT_FALSE(c.closed());
}

// A reader with a tiny receive buffer that stops reading: its piece stays
// unwritten, so it is given `event: dropped` (read once it reads again) and
// closed, and the engine completes every request meanwhile.
TEST_F(EventStream, AReaderThatFallsBehindIsDroppedAndTheEngineGoesOn) {
  sse_client stalled;
  ASSERT_EQ(stalled.open(proc.port(), "/v1/events/stream", {}, 2048), 200);
  std::vector<std::string> ids;
  json big = json::parse(vps_body("acme", "x"));
  for (int k = 0; k < 4; ++k) big["metadata"]["note" + std::to_string(k)] = std::string(1000, 'n');
  for (int i = 0; i < 120; ++i) {
    big["orderId"] = "bulk-" + std::to_string(i);
    auto r = post("/v1/requests", big.dump());
    ASSERT_EQ(r.status, 202) << r.body;
    ids.push_back(body(r)["id"]);
  }
  for (auto& id : ids) ASSERT_EQ(wait_state(id, {"Completed"}, std::chrono::seconds(60)), "Completed") << id;
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // past streamSlowReaderMs

  std::optional<sse_event> e, last_event;
  int events = 0;
  while ((e = stalled.next(std::chrono::seconds(5)))) {
    last_event = e;
    if (e->event == "dropped") break;
    ++events;
  }
  ASSERT_TRUE(last_event);
  ASSERT_EQ(last_event->event, "dropped") << "after " << events << " events";
  auto word = json::parse(last_event->data);
  EXPECT_GT(word["lastEventId"].get<std::uint64_t>(), 0u);
  EXPECT_FALSE(stalled.next(std::chrono::seconds(5)));
  EXPECT_TRUE(stalled.closed());
  auto metrics = get("/metrics").body;
  EXPECT_NE(metrics.find("provisiond_event_streams_dropped_total 1"), std::string::npos);

  // Resuming from its last word gets the rest.
  sse_client again;
  ASSERT_EQ(again.open(proc.port(), "/v1/events/stream", {{"Last-Event-ID", word["lastEventId"].dump()}}), 200);
  auto next = again.next();
  ASSERT_TRUE(next);
  EXPECT_EQ(std::stoull(next->id), word["lastEventId"].get<std::uint64_t>() + 1);
}

}  // namespace
