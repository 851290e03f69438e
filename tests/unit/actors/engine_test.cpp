#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "app/config.hpp"
#include "actors/engine.hpp"
#include "events/codec.hpp"
#include "events/rocksdb/rocksdb_journal.hpp"
#include "providers/simulation/simulation_provider.hpp"
#include "tests/support/temp_dir.hpp"

namespace ev = provisiond::events;
namespace sim = provisiond::providers::simulation;
using namespace provisiond;
using namespace std::chrono_literals;

namespace {

struct EngineTest : ::testing::Test {
  provisiond::testing::temp_dir dir;
  std::shared_ptr<manual_clock> clk = std::make_shared<manual_clock>();
  std::shared_ptr<ev::rocksdb_adapter::store> store;
  std::shared_ptr<ev::journal> journal;
  std::shared_ptr<sim::simulation_provider> provider;
  std::unique_ptr<actors::engine> engine;
  std::function<void(actors::engine_options&)> tweak;  ///< applied last, before the engine starts

  void start(simulation_config cfg = {}, std::shared_ptr<providers::provider> other = nullptr) {
    if (!store) {
      store = *ev::rocksdb_adapter::store::open(dir / "journal", durability::fast);
      journal = ev::rocksdb_adapter::make_journal(store);
    }
    auto reg = std::make_shared<providers::provider_registry>();
    if (other) {
      reg->add(other);
    } else {
      provider = *sim::simulation_provider::open(dir / "ledger", cfg, clk);
      reg->add(provider);
    }
    actors::engine_options o;
    o.journal = journal;
    o.time = clk;
    o.timers = clk;
    o.providers = reg;
    o.clusters = [] { return default_config().clusters; };
    o.provider_threads = 4;
    o.scheduler_threads = 2;
    if (tweak) tweak(o);
    engine = std::make_unique<actors::engine>(std::move(o));
  }

  void stop(std::chrono::milliseconds grace = 1000ms) {
    engine->shutdown(grace);
    engine.reset();
    provider.reset();
  }

  void TearDown() override {
    if (engine) stop();
  }

  std::string submit(const std::string& key = "", const std::string& order = "o-1") {
    actors::submit_command c;
    c.spec = ev::request_submitted{"acme", order, "vps", "eu-west-1", "simulation", {2, 4, 40}, {}, key, "", {}};
    auto r = engine->submit(c);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r ? r->request_id.str() : "";
  }

  std::vector<std::string> types(const std::string& id) {
    std::vector<std::string> out;
    auto stream = journal->read_stream(ev::stream_for_request(id), 1);
    for (auto& e : *stream) out.push_back(e.type);
    return out;
  }

  // Polls (real time) until the stream's last event is `type`.
  bool wait_last(const std::string& id, const std::string& type, std::chrono::milliseconds timeout = 5000ms) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto t = types(id);
      if (!t.empty() && t.back() == type) return true;
      std::this_thread::sleep_for(2ms);
    }
    return false;
  }
};

}  // namespace

TEST_F(EngineTest, RunsTheFourStepsToCompletion) {
  start();
  auto id = submit();
  ASSERT_TRUE(wait_last(id, "request_completed"));
  EXPECT_EQ(types(id), (std::vector<std::string>{"request_submitted", "quota_reserved", "request_admitted",
                                                 "cluster_placed", "step_started",
                                                 "resource_allocated", "step_completed", "step_started",
                                                 "resource_allocated", "step_completed", "step_started",
                                                 "step_completed", "step_started", "step_completed",
                                                 "request_completed"}));
  EXPECT_EQ(provider->ledger()->size(), 2u);
}

TEST_F(EngineTest, IdempotencyKeyReturnsTheSameRequestAndRejectsADifferentBody) {
  start();
  auto a = submit("key-1");
  auto b = submit("key-1");
  EXPECT_EQ(a, b);
  actors::submit_command c;
  c.spec = ev::request_submitted{"acme", "other-order", "vps", "eu-west-1", "simulation", {2, 4, 40}, {}, "key-1", "", {}};
  auto r = engine->submit(c);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::conflict);
  EXPECT_EQ(r.error().field, "Idempotency-Key");
}

TEST_F(EngineTest, RetriesFollowTheInjectedClockThenRollBack) {
  simulation_config cfg;
  cfg.steps[1].retryable = 1.0;  // configure always fails transiently
  start(cfg);
  auto id = submit();
  std::vector<time_ms> delays;
  auto count = [&](const char* type) {
    auto t = types(id);
    return std::count(t.begin(), t.end(), type);
  };
  for (int i = 1; i <= 3; ++i) {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (count("step_failed") < i && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(2ms);
    ASSERT_EQ(count("step_failed"), i);
    ev::step_failed failed;
    auto stream = journal->read_stream(ev::stream_for_request(id), 1);
    for (auto& e : *stream)
      if (e.type == "step_failed") failed = std::get<ev::step_failed>(*ev::decode(e));
    delays.push_back(failed.retry_at - clk->now());
    // A request waiting out a backoff leaves memory until it is due.
    for (int w = 0; w < 500 && engine->live_actors() > 0; ++w) std::this_thread::sleep_for(2ms);
    EXPECT_EQ(engine->live_actors(), 0u) << "passivated during the backoff";
    // Nothing happens until the clock reaches the retry time.
    clk->advance(failed.retry_at - clk->now() - 1);
    std::this_thread::sleep_for(30ms);
    EXPECT_EQ(count("step_started"), 2 + (i - 1)) << "attempt " << i + 1 << " started early";
    clk->advance(1);
  }
  ASSERT_TRUE(wait_last(id, "quota_released")) << ::testing::PrintToString(types(id));
  EXPECT_EQ(delays, (std::vector<time_ms>{5000, 10000, 20000}));
  auto t = types(id);
  auto n = std::count(t.begin(), t.end(), "step_failed");
  EXPECT_EQ(n, 4);
  EXPECT_TRUE(provider->ledger()->empty()) << "the server of step 1 must be released";
}

TEST_F(EngineTest, PermanentFailureRollsBackEverythingInReverse) {
  simulation_config cfg;
  cfg.steps[2].permanent = 1.0;  // activate fails for good
  start(cfg);
  auto id = submit();
  ASSERT_TRUE(wait_last(id, "quota_released"));
  std::vector<std::string> compensated;
  auto stream = journal->read_stream(ev::stream_for_request(id), 1);
  for (auto& e : *stream)
    if (e.type == "step_compensated") compensated.push_back(ev::to_string(std::get<ev::step_compensated>(*ev::decode(e)).step));
  EXPECT_EQ(compensated, (std::vector<std::string>{"activate", "configure", "allocate"}));
  EXPECT_TRUE(provider->ledger()->empty());
}

TEST_F(EngineTest, NoMatchingClusterFailsWithAReason) {
  start();
  actors::submit_command c;
  c.spec = ev::request_submitted{"acme", "o", "vps", "mars-1", "simulation", {1, 1, 1}, {}, "", "", {}};
  auto r = engine->submit(c);
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(wait_last(r->request_id.str(), "quota_released"));
  auto stream = journal->read_stream(ev::stream_for_request(r->request_id.str()), 1);
  auto e = std::get<ev::request_failed>(*ev::decode((*stream)[stream->size() - 2]));
  EXPECT_EQ(e.code, "no_cluster");
  EXPECT_NE(e.reason.find("mars-1"), std::string::npos);
}

TEST_F(EngineTest, ARestartResumesAndSettlesInterruptedIntents) {
  simulation_config cfg;
  cfg.min_delay_ms = cfg.max_delay_ms = 40;
  start(cfg);
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) ids.push_back(submit("", "o-" + std::to_string(i)));
  std::this_thread::sleep_for(60ms);
  stop(0ms);  // abrupt: queued provider calls are dropped, intents stay open
  int unfinished = 0;
  for (auto& id : ids) unfinished += types(id).back() != "request_completed";
  EXPECT_GT(unfinished, 0) << "the test must interrupt something";
  start(cfg);
  engine->resume(std::vector<request_id>(ids.begin(), ids.end()));
  for (auto& id : ids) ASSERT_TRUE(wait_last(id, "request_completed", 10s)) << id;
  auto ledger = provider->ledger();
  EXPECT_EQ(ledger->size(), 2 * ids.size()) << "one server and one floating IP each, nothing twice";
  EXPECT_EQ(engine->live_actors(), 0u) << "finished actors are passivated";
}

namespace {

// A provider whose configure call hangs until the test lets it go, then
// answers that it created a floating IP after all.
class hanging_provider final : public providers::provider {
 public:
  std::string kind() const override { return "simulation"; }
  result<providers::step_outcome> execute(const providers::step_call& call) override {
    providers::step_outcome out;
    if (call.step == ev::step_kind::allocate)
      out.resources.push_back({"srv-1", "server", call.step, {}});
    if (call.step == ev::step_kind::configure) {
      std::unique_lock lock{mutex_};
      hanging_ = true;
      cv_.notify_all();
      cv_.wait(lock, [&] { return let_go_; });
      out.resources.push_back({"fip-late", "floating_ip", call.step, {}});
    }
    return out;
  }
  result<std::optional<providers::step_outcome>> lookup(const providers::step_call&) override {
    return std::optional<providers::step_outcome>{};
  }
  result<std::vector<std::string>> release(const providers::release_call& call) override {
    std::lock_guard lock{mutex_};
    std::vector<std::string> ids;
    for (auto& r : call.known) ids.push_back(r.id);
    releases_.push_back(std::string(ev::to_string(call.step)) + ":" + std::to_string(ids.size()));
    return ids;
  }
  status set_power(const request_id&, const cluster_id&, bool) override { return ok(); }
  status check(const cluster_config&) override { return ok(); }

  bool wait_hanging() {
    std::unique_lock lock{mutex_};
    return cv_.wait_for(lock, 5s, [&] { return hanging_; });
  }
  void let_go() {
    std::lock_guard lock{mutex_};
    let_go_ = true;
    cv_.notify_all();
  }
  std::vector<std::string> releases() {
    std::lock_guard lock{mutex_};
    return releases_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool hanging_ = false;
  bool let_go_ = false;
  std::vector<std::string> releases_;
};

}  // namespace

TEST_F(EngineTest, AHungProviderCallIsGivenUpAfter30MinutesAndALateAnswerIsReleased) {
  auto hang = std::make_shared<hanging_provider>();
  start({}, hang);
  auto id = submit();
  ASSERT_TRUE(hang->wait_hanging());
  clk->advance(29 * 60'000);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(types(id).back(), "step_started") << "not stuck before the limit";

  clk->advance(2 * 60'000);  // 31 minutes of fake time, in milliseconds
  ASSERT_TRUE(wait_last(id, "quota_released"));
  auto stream = *journal->read_stream(ev::stream_for_request(id), 1);
  std::optional<ev::step_failed> failed;
  std::optional<ev::request_failed> why;
  for (auto& env : stream) {
    auto e = *ev::decode(env);
    if (auto* f = std::get_if<ev::step_failed>(&e)) failed = *f;
    if (auto* f = std::get_if<ev::request_failed>(&e)) why = *f;
  }
  ASSERT_TRUE(failed && why);
  EXPECT_EQ(failed->step, ev::step_kind::configure);
  EXPECT_EQ(failed->code, "stuck");
  EXPECT_NE(failed->message.find("configure hung for 31m0s"), std::string::npos) << failed->message;
  EXPECT_EQ(why->code, "stuck");
  EXPECT_EQ(hang->releases(), (std::vector<std::string>{"configure:0", "allocate:1"}));

  // The hung call answers at last, having created a floating IP: the
  // request goes back to RollingBack and releases it.
  hang->let_go();
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline && hang->releases().size() < 3) std::this_thread::sleep_for(2ms);
  ASSERT_TRUE(wait_last(id, "rolled_back"));
  auto t = types(id);
  EXPECT_NE(std::find(t.begin(), t.end(), "late_result_received"), t.end());
  EXPECT_EQ(hang->releases(), (std::vector<std::string>{"configure:0", "allocate:1", "configure:1"}));
}

namespace {

// A journal whose dedupe lookups throw, as a broken dependency would.
struct throwing_dedupe_journal final : ev::journal {
  std::shared_ptr<ev::journal> inner;
  explicit throwing_dedupe_journal(std::shared_ptr<ev::journal> j) : inner(std::move(j)) {}
  void append_async(ev::append_request r, append_callback done) override { inner->append_async(std::move(r), std::move(done)); }
  result<std::vector<ev::envelope>> read_stream(const std::string& s, std::uint64_t from, std::size_t max) override {
    return inner->read_stream(s, from, max);
  }
  result<std::vector<ev::envelope>> read_all(std::uint64_t from, std::size_t max) override { return inner->read_all(from, max); }
  std::uint64_t last_position() const override { return inner->last_position(); }
  result<std::optional<std::string>> find_dedupe(const std::string& key) override {
    if (key.rfind("cmd/boom", 0) == 0) throw std::runtime_error("dedupe store exploded");
    return inner->find_dedupe(key);
  }
  result<std::vector<std::uint64_t>> read_outbox(std::uint64_t from, std::size_t max) override {
    return inner->read_outbox(from, max);
  }
  status ack_outbox(const std::vector<std::uint64_t>& p) override { return inner->ack_outbox(p); }
  result<std::optional<ev::dedupe_record>> outbox_dedupe(std::uint64_t p) override { return inner->outbox_dedupe(p); }
  void on_commit(std::function<void(std::uint64_t)> fn) override { inner->on_commit(std::move(fn)); }
};

}  // namespace

TEST_F(EngineTest, AHandlerThatThrowsAnswersItsCallerAtOnceAndTheRequestLivesOn) {
  tweak = [this](actors::engine_options& o) { o.journal = std::make_shared<throwing_dedupe_journal>(journal); };
  start();
  auto id = submit();
  ASSERT_TRUE(wait_last(id, "request_completed"));
  auto r = engine->lifecycle(request_id{id}, ev::lifecycle_action::suspend, "cmd/boom-1");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::unavailable);
  EXPECT_EQ(r.error().message.find("timeout"), std::string::npos) << "answered, not timed out: " << r.error().message;
  // The actor stopped; the next message gets a fresh one from the stream.
  auto ok = engine->lifecycle(request_id{id}, ev::lifecycle_action::suspend, "cmd/fine-1");
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_TRUE(wait_last(id, "service_suspended"));
}

TEST_F(EngineTest, LifecycleNamingAnotherTenantIsRefusedAndRecordsNothing) {
  start();
  auto id = submit();
  ASSERT_TRUE(wait_last(id, "request_completed"));
  auto before = types(id).size();
  auto r = engine->lifecycle(request_id{id}, ev::lifecycle_action::deprovision, "cmd/x-1", tenant_id{"mallory"});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::invalid_argument);
  EXPECT_EQ(r.error().field, "tenantId");
  EXPECT_EQ(types(id).size(), before);
  auto own = engine->lifecycle(request_id{id}, ev::lifecycle_action::suspend, "cmd/x-2", tenant_id{"acme"});
  ASSERT_TRUE(own.has_value()) << own.error().message;
}

TEST_F(EngineTest, IdleTenantSupervisorsLeaveMemoryAndComeBackWithTheirReservations) {
  std::vector<std::string> ids;
  tweak = [&](actors::engine_options& o) {
    o.supervisor_idle_ms = 1000;
    o.tenant_requests = [&](const tenant_id&) {
      std::vector<ev::request_state> out;
      for (auto& id : ids) {
        ev::request_state s;
        s.id = id;
        auto stream = journal->read_stream(ev::stream_for_request(id), 1);
        if (!stream) ADD_FAILURE() << stream.error().message;
        for (auto& env : stream ? *stream : std::vector<ev::envelope>{}) {
          auto e = ev::decode(env);
          if (!e) ADD_FAILURE() << env.type << ": " << e.error().message;
          else ev::apply_in_place(s, *e, env.time);
        }
        out.push_back(s);
      }
      return out;
    };
  };
  start();
  ids.push_back(submit("", "o-1"));
  ASSERT_TRUE(wait_last(ids[0], "request_completed"));
  auto held = engine->usage(tenant_id{"acme"});
  ASSERT_TRUE(held.has_value());
  EXPECT_EQ(held->used.cpu, 2);
  EXPECT_EQ(engine->live_supervisors(), 1u);
  for (int i = 0; i < 200 && engine->live_supervisors() > 0; ++i) {
    clk->advance(100);
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(engine->live_supervisors(), 0u) << "an idle supervisor is passivated";
  auto again = engine->usage(tenant_id{"acme"});
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(again->used.cpu, 2) << "its reservations are rebuilt from the read side";
  EXPECT_EQ(engine->live_supervisors(), 1u);
}
