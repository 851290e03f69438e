// Webhook deliveries in one process: a RocksDB journal, the registry, the
// delivery service on a manual clock, and the Node receiver that checks
// every delivery with the reference standardwebhooks library.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/secret_box.hpp"
#include "events/codec.hpp"
#include "events/rocksdb/rocksdb_journal.hpp"
#include "events/rocksdb/rocksdb_secrets.hpp"
#include "projections/rocksdb/rocksdb_view_store.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/webhook_receiver.hpp"
#include "webhooks/deliveries.hpp"
#include "webhooks/registry.hpp"
#include "webhooks/signature.hpp"

using namespace provisiond;
using namespace std::chrono_literals;
using nlohmann::json;
namespace ev = provisiond::events;

namespace {

struct Deliveries : ::testing::Test {
  provisiond::testing::temp_dir dir;
  provisiond::testing::webhook_receiver receiver;
  // Starts at the real time: the library checks webhook-timestamp against its own clock.
  std::shared_ptr<manual_clock> clk = std::make_shared<manual_clock>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  std::shared_ptr<ev::rocksdb_adapter::store> store;
  std::shared_ptr<ev::journal> journal;
  std::shared_ptr<ev::secret_store> secrets;
  std::shared_ptr<webhooks::registry> hooks;
  std::shared_ptr<webhooks::address_guard> guard;
  std::unique_ptr<webhooks::delivery_service> service;
  std::map<std::string, std::uint64_t> sequences;
  webhooks::delivery_options opts;

  void SetUp() override {
    std::string why;
    ASSERT_TRUE(receiver.start(&why)) << why;
    store = *ev::rocksdb_adapter::store::open(dir / "journal", durability::fast);
    journal = ev::rocksdb_adapter::make_journal(store);
    secrets = ev::rocksdb_adapter::make_secret_store(store, *secret_box::from_key_file(dir / "secret.key"));
    hooks = std::make_shared<webhooks::registry>(journal, secrets, clk);
    ASSERT_TRUE(hooks->load());
    use_guard({{"127.0.0.1/32"}, {}});
    opts.timeout_ms = 2'000;
  }
  void TearDown() override {
    if (service) service->stop();
  }

  void use_guard(webhooks::guard_options g) {
    auto made = webhooks::address_guard::make(std::move(g));
    ASSERT_TRUE(made.has_value()) << made.error().message;
    guard = std::make_shared<webhooks::address_guard>(std::move(*made));
  }

  void start() {
    service = std::make_unique<webhooks::delivery_service>(
        journal, projections::rocksdb_adapter::make_view_store(store), hooks, guard, clk, opts);
    ASSERT_TRUE(service->catch_up());
    service->start();
  }

  // Journal types by default: the tests append raw request events.
  webhooks::endpoint_with_secret hook(const std::string& tenant, const std::string& url,
                                      std::vector<std::string> events = {"request_submitted", "request_admitted"}) {
    ev::webhook_endpoint w;
    w.tenant_id = tenant;
    w.url = url;
    w.events = std::move(events);
    auto made = hooks->create(w);
    EXPECT_TRUE(made.has_value()) << made.error().message;
    return *made;
  }

  // Appends one event to a request's stream, as the request actor would.
  std::string append(const std::string& request, const ev::event& e) {
    ev::append_request a;
    a.stream = ev::stream_for_request(request);
    a.expected_sequence = sequences[request];
    a.events.push_back(ev::make_pending(e, clk->now()));
    a.to_outbox = false;
    auto r = journal->append(std::move(a));
    EXPECT_TRUE(r.has_value());
    sequences[request] = r->last_sequence;
    return request + ":" + std::to_string(r->last_sequence);
  }
  std::string submit(const std::string& request, const std::string& tenant) {
    return append(request,
                  ev::request_submitted{tenant, "order-" + request, "vps", "eu-west-1", "simulation", {1, 1, 10}, {}, "", "", {}});
  }

  std::vector<webhooks::delivery> deliveries_of(const std::string& webhook_id) {
    auto page = service->list(webhook_id, "", "", 500);
    EXPECT_TRUE(page.has_value());
    return page ? page->items : std::vector<webhooks::delivery>{};
  }

  // Waits (real time) until `pred` holds.
  template <class P>
  bool eventually(P pred, std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return pred();
  }
};

}  // namespace

TEST(WebhookSignature, MatchesTheStandardWebhooksTestVector) {
  // From the Standard Webhooks specification's reference tests.
  auto sig = webhooks::sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                            R"({"test": 2432232314})");
  ASSERT_TRUE(sig.has_value());
  EXPECT_EQ(*sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  EXPECT_FALSE(webhooks::sign("not-a-secret", "id", 1, "{}").has_value());
  auto s = webhooks::generate_secret();
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->rfind("whsec_", 0), 0u);
  EXPECT_GE(s->size(), 6u + 32u);  // ≥ 24 random bytes, base64
}

TEST_F(Deliveries, EveryDeliveryVerifiesWithTheReferenceLibraryAndForgeriesDoNot) {
  auto h = hook("acme", receiver.url("/ok/acme"));
  hook("other", receiver.url("/ok/other"));
  start();
  std::set<std::string> expected;
  for (int r = 0; r < 3; ++r) {
    expected.insert(submit("r" + std::to_string(r), "acme"));
    expected.insert(append("r" + std::to_string(r), ev::request_admitted{}));
  }
  auto log = receiver.wait_for(6, "/ok/acme");
  ASSERT_EQ(log.size(), 6u) << log.dump();
  std::set<std::string> seen;
  for (auto& d : log) {
    auto body = json::parse(d["body"].get<std::string>());
    seen.insert(body["id"].get<std::string>());
    EXPECT_EQ(body["data"]["tenantId"], "acme");
    EXPECT_EQ(body["type"], body["data"]["eventType"]);
    EXPECT_EQ(d["headers"]["content-type"], "application/json");
  }
  EXPECT_EQ(seen, expected) << "each of acme's events once; none of another tenant's";
  EXPECT_TRUE(receiver.log("/ok/other").empty());
  auto all = receiver.verify_all(h.secret, "/ok/acme");
  EXPECT_EQ(all["verified"], 6) << all.dump();
  // Every outcome is an event in the tenant's deliveries stream.
  std::vector<ev::envelope> settled;
  ASSERT_TRUE(eventually([&] {
    auto s = journal->read_stream(ev::webhook_deliveries_stream("acme"), 1);
    settled = s ? *s : std::vector<ev::envelope>{};
    return settled.size() == 6;
  }));
  for (auto& env : settled) {
    auto e = ev::decode(env);
    ASSERT_TRUE(e.has_value());
    auto& s = std::get<ev::webhook_delivery_settled>(*e);
    EXPECT_EQ(s.status, "succeeded");
    EXPECT_EQ(s.attempts.size(), 1u);
    EXPECT_EQ(s.attempts[0].status_code, 200);
  }

  auto one = log[0];
  std::string id = one["headers"]["webhook-id"], ts = one["headers"]["webhook-timestamp"],
              sig = one["headers"]["webhook-signature"], body = one["body"];
  EXPECT_EQ(receiver.verify(h.secret, id, ts, sig, body)["ok"], true);
  EXPECT_EQ(receiver.verify(h.secret, id, ts, sig, body + " ")["ok"], false) << "a tampered body";
  auto wrong = webhooks::generate_secret();
  EXPECT_EQ(receiver.verify(*wrong, id, ts, sig, body)["ok"], false) << "another secret";
  // The library checks the timestamp against its own clock: one signed
  // correctly 10 minutes ago is refused, the same signed now is accepted.
  auto now_s = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto old_sig = webhooks::sign(h.secret, id, now_s - 600, body);
  auto old = receiver.verify(h.secret, id, std::to_string(now_s - 600), *old_sig, body);
  EXPECT_EQ(old["ok"], false);
  EXPECT_NE(old["error"].get<std::string>().find("too old"), std::string::npos) << old.dump();
  auto fresh_sig = webhooks::sign(h.secret, id, now_s, body);
  EXPECT_EQ(receiver.verify(h.secret, id, std::to_string(now_s), *fresh_sig, body)["ok"], true);
}

TEST_F(Deliveries, FailuresAreRetriedAt5s30s5minOnTheClockThenGivenUp) {
  opts.timeout_ms = 300;
  auto e500 = hook("acme", receiver.url("/status/500/a"));
  auto slow = hook("acme", receiver.url("/slow/3000/a"));  // the attempt times out
  auto dribble = hook("acme", receiver.url("/dribble/500/a"));  // each read within 300 ms, the whole after 500
  auto moved = hook("acme", receiver.url("/redirect/a"));   // 302: not followed
  start();
  auto t0 = clk->now();
  submit("r1", "acme");
  auto attempts = [&](const std::string& webhook_id) {
    auto ds = deliveries_of(webhook_id);
    return ds.empty() ? std::size_t{0} : ds[0].attempts.size();
  };
  auto all_at = [&](std::size_t n) {
    return eventually([&] {
      return attempts(e500.endpoint.id) == n && attempts(slow.endpoint.id) == n && attempts(moved.endpoint.id) == n &&
             attempts(dribble.endpoint.id) == n;
    });
  };
  ASSERT_TRUE(all_at(1));
  clk->advance(4'999);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(attempts(e500.endpoint.id), 1u) << "not before 5 s";
  clk->advance(1);
  ASSERT_TRUE(all_at(2));
  clk->advance(30'000);
  ASSERT_TRUE(all_at(3));
  clk->advance(300'000);
  ASSERT_TRUE(all_at(4));
  clk->advance(3'600'000);
  std::this_thread::sleep_for(300ms);
  for (auto* h : {&e500, &slow, &moved, &dribble}) {
    auto d = deliveries_of(h->endpoint.id).at(0);
    ASSERT_EQ(d.attempts.size(), 4u) << "one attempt and three retries, then no more";
    EXPECT_EQ(d.status, "failed");
    EXPECT_EQ(d.attempts[0].at, t0);
    EXPECT_EQ(d.attempts[1].at - d.attempts[0].at, 5'000);
    EXPECT_EQ(d.attempts[2].at - d.attempts[1].at, 30'000);
    EXPECT_EQ(d.attempts[3].at - d.attempts[2].at, 300'000);
  }
  auto first = [&](const webhooks::endpoint_with_secret& h) { return deliveries_of(h.endpoint.id).at(0).attempts[0]; };
  EXPECT_EQ(first(e500).status_code, 500);
  EXPECT_EQ(first(e500).error, "status 500");
  EXPECT_EQ(first(e500).response_body, "status 500");
  EXPECT_EQ(first(slow).status_code, 0);
  EXPECT_EQ(first(slow).error.rfind("timeout:", 0), 0u) << first(slow).error;
  EXPECT_EQ(first(dribble).error.rfind("timeout:", 0), 0u) << first(dribble).error;
  EXPECT_LT(first(dribble).latency_ms, 450) << "the attempt's 300 ms are for all of it, not per read";
  EXPECT_EQ(first(moved).status_code, 302);
  EXPECT_EQ(first(moved).error.rfind("redirect not followed: 302", 0), 0u) << first(moved).error;
  EXPECT_TRUE(receiver.log("/elsewhere").empty());
  // One delivery id across all its attempts, a timestamp per attempt.
  auto seen = receiver.log("/status/500/a");
  ASSERT_EQ(seen.size(), 4u);
  std::set<std::string> ids, stamps;
  for (auto& s : seen) {
    ids.insert(s["headers"]["webhook-id"]);
    stamps.insert(s["headers"]["webhook-timestamp"]);
  }
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(stamps.size(), 4u);
}

TEST_F(Deliveries, FiveFailedDeliveriesInARowDeactivateTheEndpointUntilAPutReEnablesIt) {
  opts.retry_delays_ms = {1'000};
  auto h = hook("acme", receiver.url("/status/503/x"));
  start();
  for (int r = 0; r < 5; ++r) submit("r" + std::to_string(r), "acme");
  ASSERT_TRUE(eventually([&] {
    clk->advance(1'000);
    return !hooks->get(h.endpoint.id)->enabled;
  })) << [&] {
    std::string out;
    for (auto& d : deliveries_of(h.endpoint.id)) out += d.id + " " + d.status + " " + std::to_string(d.attempts.size()) + "\n";
    return out;
  }();
  auto ep = *hooks->get(h.endpoint.id);
  EXPECT_NE(ep.deactivated_at, 0);
  EXPECT_NE(ep.deactivated_reason.find("5 deliveries in a row failed; last: status 503"), std::string::npos)
      << ep.deactivated_reason;
  auto stream = journal->read_stream(ev::webhooks_stream, 1);
  ASSERT_TRUE(stream.has_value());
  EXPECT_EQ(stream->back().type, "webhook_deactivated");
  for (auto& d : deliveries_of(h.endpoint.id)) EXPECT_EQ(d.status, "failed");

  // Switched off: nothing new is queued or sent.
  submit("r-off", "acme");
  std::this_thread::sleep_for(300ms);
  auto before = receiver.log().size();
  clk->advance(10'000);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(receiver.log().size(), before);
  EXPECT_EQ(deliveries_of(h.endpoint.id).size(), 5u);

  // Re-enabled (and pointed at a healthy path): delivering again, the count starts over.
  auto changes = ep;
  changes.url = receiver.url("/ok/x");
  changes.enabled = true;
  ASSERT_TRUE(hooks->update(changes).has_value());
  EXPECT_EQ(hooks->get(h.endpoint.id)->deactivated_at, 0);
  auto id = submit("r-on", "acme");
  auto ok = receiver.wait_for(1, "/ok/x");
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(json::parse(ok[0]["body"].get<std::string>())["id"], id);
}

TEST_F(Deliveries, ARequestsLaterEventWaitsUntilTheEarlierOneIsGivenUp) {
  opts.retry_delays_ms = {5'000, 30'000, 300'000};
  auto h = hook("acme", receiver.url("/status/500/order"));
  start();
  auto first = submit("r1", "acme");
  auto second = append("r1", ev::request_admitted{});
  ASSERT_EQ(receiver.wait_for(1, "/status/500/order").size(), 1u);
  for (time_ms step : {5'000, 30'000, 300'000}) {
    clk->advance(step);
    std::this_thread::sleep_for(200ms);
  }
  auto log = receiver.wait_for(5, "/status/500/order");
  ASSERT_EQ(log.size(), 5u);
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(json::parse(log[i]["body"].get<std::string>())["id"], first) << "attempt " << i;
  EXPECT_EQ(json::parse(log[4]["body"].get<std::string>())["id"], second) << "only after the first was given up";
}

TEST_F(Deliveries, HostileAddressesAreRefusedAtDeliveryTimeToo) {
  // The registry takes any URL (the API checks at registration); the
  // dispatcher checks again before every attempt, here with no allow-list.
  use_guard({{}, {{"internal.example.com", {"10.1.2.3"}}, {"rebound.example.com", {"93.184.216.34", "127.0.0.1"}}}});
  const std::vector<std::string> hostile = {
      "http://127.0.0.1/", "http://2130706433/", "http://0177.0.0.1/", "http://0x7f000001/", "http://0x7f.1/",
      "http://127.1/", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/", "http://0.0.0.0/",
      "http://[::]/", "http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/", "http://10.0.0.1/",
      "http://172.16.0.1/", "http://192.168.1.1/", "http://100.64.0.1/", "http://[fc00::1]/", "http://[fd12:3456::1]/",
      "http://224.0.0.1/", "http://[ff02::1]/", "http://255.255.255.255/", "http://localhost/", "http://LOCALHOST./",
      "http://internal.example.com/", "http://rebound.example.com/", "http://[64:ff9b::a00:1]/", "http://[2002:a00:1::]/",
      "http://012.0.0.1/", "http://0xa9fea9fe/", "http://[::ffff:169.254.169.254]/", "http://192.0.0.8/"};
  std::vector<std::string> ids;
  for (auto& url : hostile) ids.push_back(hook("acme", url).endpoint.id);
  start();
  submit("r1", "acme");
  for (std::size_t i = 0; i < ids.size(); ++i) {
    SCOPED_TRACE(hostile[i]);
    ASSERT_TRUE(eventually([&] {
      auto ds = deliveries_of(ids[i]);
      return !ds.empty() && !ds[0].attempts.empty();
    }));
    auto a = deliveries_of(ids[i])[0].attempts[0];
    EXPECT_EQ(a.error.rfind("blocked_address: resolves to ", 0), 0u) << a.error;
    EXPECT_EQ(a.status_code, 0);
  }
  EXPECT_GE(hostile.size(), 30u);
}

TEST_F(Deliveries, ASlowEndpointDoesNotDelayAnotherTenant) {
  opts.timeout_ms = 10'000;
  hook("slowpoke", receiver.url("/slow/10000/s"));
  hook("brisk", receiver.url("/ok/b"));
  start();
  for (int r = 0; r < 6; ++r) submit("s" + std::to_string(r), "slowpoke");
  std::this_thread::sleep_for(200ms);  // the slow endpoint's attempts are in flight
  ASSERT_GE(receiver.log("/slow/10000/s").size(), 1u);
  auto sent = std::chrono::steady_clock::now();
  submit("b1", "brisk");
  ASSERT_EQ(receiver.wait_for(1, "/ok/b", 5s).size(), 1u);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - sent);
  EXPECT_LT(took.count(), 1000) << "another tenant's delivery waited behind the slow endpoint";
}

TEST_F(Deliveries, DuringARotationBothSecretsSignAndAfterItOnlyTheNewOne) {
  auto h = hook("acme", receiver.url("/ok/rot"));
  start();
  submit("r1", "acme");
  ASSERT_EQ(receiver.wait_for(1, "/ok/rot").size(), 1u);
  auto rotated = hooks->rotate(h.endpoint.id, 60'000);
  ASSERT_TRUE(rotated.has_value());
  ASSERT_NE(rotated->secret, h.secret);
  submit("r2", "acme");
  auto log = receiver.wait_for(2, "/ok/rot");
  ASSERT_EQ(log.size(), 2u);
  auto during = log[1];
  std::string sigs = during["headers"]["webhook-signature"];
  EXPECT_NE(sigs.find(' '), std::string::npos) << "two signatures: " << sigs;
  auto check = [&](const json& d, const std::string& secret) {
    return receiver.verify(secret, d["headers"]["webhook-id"], d["headers"]["webhook-timestamp"],
                           d["headers"]["webhook-signature"], d["body"])["ok"] == true;
  };
  EXPECT_TRUE(check(during, h.secret)) << "the old secret still verifies during the window";
  EXPECT_TRUE(check(during, rotated->secret));
  clk->advance(60'001);
  submit("r3", "acme");
  log = receiver.wait_for(3, "/ok/rot");
  ASSERT_EQ(log.size(), 3u);
  auto after = log[2];
  EXPECT_EQ(after["headers"]["webhook-signature"].get<std::string>().find(' '), std::string::npos);
  EXPECT_TRUE(check(after, rotated->secret));
  EXPECT_FALSE(check(after, h.secret)) << "the old secret no longer verifies after the window";
}

TEST_F(Deliveries, ARestartOrReplayNeverMakesASecondDeliveryForAnEvent) {
  auto h = hook("acme", receiver.url("/status/500/replay"));
  opts.retry_delays_ms = {60'000};
  start();
  submit("r1", "acme");
  ASSERT_TRUE(eventually([&] { return deliveries_of(h.endpoint.id).size() == 1; }));
  auto id = deliveries_of(h.endpoint.id)[0].id;
  service->stop();
  service.reset();
  // The projection's rows are kept, its checkpoint is not: it walks the journal again.
  {
    auto views = projections::rocksdb_adapter::make_view_store(store);
    projections::view_write none;
    ASSERT_TRUE(views->commit(none, "webhooks", 0));
  }
  start();
  append("r1", ev::request_admitted{});
  ASSERT_TRUE(eventually([&] { return deliveries_of(h.endpoint.id).size() == 2; }));
  std::this_thread::sleep_for(200ms);
  auto ds = deliveries_of(h.endpoint.id);
  ASSERT_EQ(ds.size(), 2u) << "the replayed event kept its one delivery";
  EXPECT_EQ(ds[1].id, id) << "oldest last: the first event's delivery, same id";

  // Redelivery: the same id again, a fresh round of attempts.
  clk->advance(120'000);
  ASSERT_TRUE(eventually([&] { return deliveries_of(h.endpoint.id)[1].status == "failed"; }));
  auto again = service->redeliver(h.endpoint.id, id);
  ASSERT_TRUE(again.has_value()) << again.error().message;
  ASSERT_TRUE(eventually([&] { return deliveries_of(h.endpoint.id)[1].attempts.size() == 3; }));
  EXPECT_EQ(deliveries_of(h.endpoint.id)[1].status, "pending");
  EXPECT_FALSE(service->redeliver("wh_other", id).has_value()) << "only through its own endpoint";
}

TEST_F(Deliveries, AnOutcomeAnotherInstanceSettledIsNotSentAgain) {
  opts.retry_delays_ms = {60'000};
  auto h = hook("acme", receiver.url("/status/500/elsewhere"));
  start();
  auto event = submit("r1", "acme");
  ASSERT_TRUE(eventually([&] {
    auto ds = deliveries_of(h.endpoint.id);
    return ds.size() == 1 && ds[0].attempts.size() == 1;
  }));
  auto d = deliveries_of(h.endpoint.id)[0];
  // The previous owner had delivered it (its settlement reaches this journal
  // through the changelog, as the replica appends it).
  webhooks::attempt a;
  a.at = clk->now();
  a.status_code = 204;
  ev::append_request req;
  req.stream = ev::webhook_deliveries_stream("acme");
  req.events.push_back(ev::make_pending(
      ev::webhook_delivery_settled{d.id, h.endpoint.id, event, "succeeded", {d.attempts[0], a}}, clk->now()));
  req.to_outbox = false;
  ASSERT_TRUE(journal->append(std::move(req)).has_value());
  ASSERT_TRUE(eventually([&] { return deliveries_of(h.endpoint.id)[0].status == "succeeded"; }));
  EXPECT_EQ(deliveries_of(h.endpoint.id)[0].attempts.size(), 2u) << "the record has the other instance's attempts";
  clk->advance(120'000);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(receiver.log("/status/500/elsewhere").size(), 1u) << "not sent again";
}

TEST_F(Deliveries, AnEventAndItsSettlementInOneBatchAreNeverSent) {
  // Projected at start in one batch, as a replica's restore brings the
  // previous owner's request event and its settlement together.
  auto h = hook("acme", receiver.url("/ok/batch"));
  auto event = submit("r1", "acme");
  auto id = webhooks::delivery_id_for(h.endpoint.id, event, "request_submitted");
  webhooks::attempt a;
  a.at = clk->now();
  a.status_code = 200;
  ev::append_request req;
  req.stream = ev::webhook_deliveries_stream("acme");
  req.events.push_back(
      ev::make_pending(ev::webhook_delivery_settled{id, h.endpoint.id, event, "succeeded", {a}}, clk->now()));
  req.to_outbox = false;
  ASSERT_TRUE(journal->append(std::move(req)).has_value());
  start();
  std::this_thread::sleep_for(300ms);
  auto ds = deliveries_of(h.endpoint.id);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].id, id);
  EXPECT_EQ(ds[0].status, "succeeded") << "settled in the batch that made it";
  EXPECT_EQ(ds[0].attempts.size(), 1u);
  EXPECT_TRUE(receiver.log("/ok/batch").empty()) << "and never sent here";
}

TEST_F(Deliveries, LifecycleEventsArriveAsTheirKafkaCloudEventsAndStarMeansAllOfThem) {
  auto all = hook("acme", receiver.url("/ok/star"), {"*"});
  auto done = hook("acme", receiver.url("/ok/done"), {"provisioning.completed"});
  start();
  submit("r1", "acme");  // on no lifecycle topic
  auto started = append("r1", ev::step_started{ev::step_kind::allocate, 1, "k1"});
  auto activated = append("r1", ev::step_completed{ev::step_kind::activate, 1, {{"ip", "203.0.113.9"}}, false});
  auto completed = append("r1", ev::request_completed{{{"ssh", "ssh://root@203.0.113.9"}}});
  auto log = receiver.wait_for(4, "/ok/star");
  ASSERT_EQ(log.size(), 4u) << log.dump();
  std::vector<std::pair<std::string, std::string>> got;  // (id, type) in arrival order
  std::set<std::string> ids;
  for (auto& d : log) {
    auto ce = json::parse(d["body"].get<std::string>());
    got.emplace_back(ce["id"], ce["type"]);
    ids.insert(d["headers"]["webhook-id"]);
    EXPECT_EQ(ce["specversion"], "1.0");
    EXPECT_EQ(ce["subject"], "r1");
    EXPECT_EQ(ce["data"]["tenantId"], "acme");
    EXPECT_EQ(ce["data"]["requestId"], "r1");
  }
  std::vector<std::pair<std::string, std::string>> expected = {{started, "provisioning.started"},
                                                               {activated, "provisioning.step-completed"},
                                                               {activated, "service.activated"},
                                                               {completed, "provisioning.completed"}};
  EXPECT_EQ(got, expected) << "in the request's order; one journal event can be two lifecycle events";
  EXPECT_EQ(ids.size(), 4u) << "each (event, type) its own delivery";
  auto only = receiver.wait_for(1, "/ok/done");
  ASSERT_EQ(only.size(), 1u);
  EXPECT_EQ(json::parse(only[0]["body"].get<std::string>())["type"], "provisioning.completed");
  EXPECT_EQ(receiver.verify_all(all.secret, "/ok/star")["verified"], 4);
  EXPECT_EQ(receiver.verify_all(done.secret, "/ok/done")["verified"], 1);
}
