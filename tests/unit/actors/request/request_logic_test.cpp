#include <gtest/gtest.h>

#include "actors/request/request_logic.hpp"

namespace ev = provisiond::events;
using namespace provisiond::actors;
using provisiond::errc;
using provisiond::providers::permanent_error;
using provisiond::providers::retryable_error;
using provisiond::providers::step_outcome;

namespace {

constexpr provisiond::time_ms t0 = 1'700'000'000'000;

ev::request_submitted spec() {
  return ev::request_submitted{"acme", "o-1", "vps", "eu-west-1", "simulation", {2, 4, 40}, {}, "", "h", {}};
}

// Given these events...
request_state given(const std::vector<ev::event>& events) {
  request_state s;
  s.id = "req-1";
  for (auto& e : events) apply_in_place(s, e, t0);
  return s;
}

decide_context ctx(provisiond::time_ms now = t0) { return decide_context{now, provisiond::retry_policy{}}; }

// ...when this command, then these events.
std::vector<ev::event> when(const request_state& s, const command& c, provisiond::time_ms now = t0) {
  auto out = decide(s, c, ctx(now));
  EXPECT_TRUE(out.has_value()) << (out ? "" : out.error().message);
  return out ? *out : std::vector<ev::event>{};
}

std::vector<std::string> types(const std::vector<ev::event>& evs) {
  std::vector<std::string> out;
  for (auto& e : evs) out.push_back(ev::type_name(e));
  return out;
}

step_outcome server() {
  return step_outcome{{ev::resource_ref{"srv-1", "server", ev::step_kind::allocate, {}}}, {{"serverId", "srv-1"}}};
}

const ev::quota_amount demand{1, 2, 4, 40};

// Submitted, reserved and admitted by the tenant supervisor.
std::vector<ev::event> admitted() { return {spec(), ev::quota_reserved{demand}, ev::request_admitted{}}; }

std::vector<ev::event> placed_and_started() {
  auto h = admitted();
  h.push_back(ev::cluster_placed{"sim-eu", "default", {2, 4, 40, 1}});
  h.push_back(ev::step_started{ev::step_kind::allocate, 1, "req-1/allocate/1"});
  return h;
}

// Runs every release the request asks for (each succeeding); returns the step order.
std::vector<ev::step_kind> release_all(std::vector<ev::event>& h) {
  std::vector<ev::step_kind> order;
  for (;;) {
    auto s = given(h);
    auto a = next_action(s, t0);
    if (a.kind != action::release) return order;
    order.push_back(a.step);
    auto evs = when(s, record_release{a.step, std::vector<std::string>{}});
    h.insert(h.end(), evs.begin(), evs.end());
  }
}

admission_decision decision(admission_decision::kind_t kind) {
  admission_decision d;
  d.kind = kind;
  d.amount = demand;
  return d;
}

}  // namespace

TEST(RequestDecide, SubmitRecordsTheRequestAsQueued) {
  auto evs = when(given({}), submit_request{spec()});
  ASSERT_EQ(types(evs), (std::vector<std::string>{"request_submitted"}));
  auto s = given(evs);
  EXPECT_EQ(s.state, lifecycle::queued);
  EXPECT_EQ(next_action(s, t0).kind, action::admit) << "the tenant supervisor decides first";
}

TEST(RequestDecide, AdmissionReservesThenTakesASlotThenPlaces) {
  auto s = given({spec()});
  auto evs = when(s, record_admission{decision(admission_decision::reserve)});
  ASSERT_EQ(types(evs), (std::vector<std::string>{"quota_reserved"}));
  s = given({spec(), evs[0]});
  EXPECT_TRUE(s.quota_held);
  EXPECT_EQ(next_action(s, t0).kind, action::admit) << "then a working slot";
  auto slot = when(s, record_admission{decision(admission_decision::admit)});
  ASSERT_EQ(types(slot), (std::vector<std::string>{"request_admitted"}));
  s = given({spec(), evs[0], slot[0]});
  EXPECT_EQ(next_action(s, t0).kind, action::place);
}

TEST(RequestDecide, OverQuotaFailsWithEveryViolation) {
  auto d = decision(admission_decision::exceed);
  d.violations = {{"cpu", 2, 15, 16}, {"instances", 1, 5, 5}};
  auto evs = when(given({spec()}), record_admission{d});
  ASSERT_EQ(types(evs), (std::vector<std::string>{"quota_exceeded", "request_failed"}));
  auto f = std::get<ev::request_failed>(evs[1]);
  EXPECT_EQ(f.code, "quota_exceeded");
  EXPECT_EQ(f.reason, "quota exceeded: cpu 2 requested, 15 used, limit 16; instances 1 requested, 5 used, limit 5");
  auto s = given({spec(), evs[0], evs[1]});
  EXPECT_EQ(s.state, lifecycle::failed);
  EXPECT_FALSE(s.quota_held);
  EXPECT_EQ(s.violations.size(), 2u);
}

TEST(RequestDecide, ApprovalGateWaitsThenApproveResumesAndRejectFailsAndReleases) {
  auto d = decision(admission_decision::reserve);
  d.approval = ev::approval_requested{"rule-1", "High-Resource VPS Approval", 10, {"minCpu 16 <= cpu 32"}};
  auto evs = when(given({spec()}), record_admission{d});
  ASSERT_EQ(types(evs), (std::vector<std::string>{"quota_reserved", "approval_requested"}));
  std::vector<ev::event> h = {spec(), evs[0], evs[1]};
  auto s = given(h);
  EXPECT_EQ(s.state, lifecycle::pending_approval);
  EXPECT_EQ(next_action(s, t0).kind, action::none);
  EXPECT_EQ(decide(s, record_admission{decision(admission_decision::admit)}, ctx()).error().code, errc::conflict);

  auto ok = when(s, approve_request{"fine"});
  ASSERT_EQ(types(ok), (std::vector<std::string>{"request_approved"}));
  auto approved = given({spec(), evs[0], evs[1], ok[0]});
  EXPECT_EQ(approved.state, lifecycle::queued);
  EXPECT_EQ(next_action(approved, t0).kind, action::admit);
  EXPECT_EQ(decide(approved, reject_request{"late"}, ctx()).error().code, errc::conflict) << "decided already";

  auto no = when(s, reject_request{"too big"});
  ASSERT_EQ(types(no), (std::vector<std::string>{"request_rejected", "request_failed", "quota_released"}));
  EXPECT_EQ(std::get<ev::request_failed>(no[1]).reason, "too big");
  auto rejected = given({spec(), evs[0], evs[1], no[0], no[1], no[2]});
  EXPECT_EQ(rejected.state, lifecycle::failed);
  EXPECT_FALSE(rejected.quota_held);
}

TEST(RequestDecide, FailedDependencyFailsTheDependentAndReleasesItsQuota) {
  auto d = decision(admission_decision::dependency_failed);
  d.dependency = "req-0";
  auto evs = when(given({spec(), ev::quota_reserved{demand}}), record_admission{d});
  ASSERT_EQ(types(evs), (std::vector<std::string>{"request_failed", "quota_released"}));
  EXPECT_EQ(std::get<ev::request_failed>(evs[0]).reason, "dependency req-0 failed");
}

TEST(RequestDecide, RejectsASecondSubmit) {
  auto out = decide(given({spec()}), submit_request{spec()}, ctx());
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().code, errc::conflict);
}

TEST(RequestDecide, NoClusterFailsWithoutRollbackAndReleasesQuota) {
  auto evs = when(given(admitted()), place_request{std::nullopt, "no cluster of type simulation in mars-1", {}});
  ASSERT_EQ(types(evs), (std::vector<std::string>{"request_failed", "quota_released"}));
  auto h = admitted();
  h.insert(h.end(), evs.begin(), evs.end());
  auto s = given(h);
  EXPECT_EQ(s.state, lifecycle::failed);
  EXPECT_EQ(s.failure_code, "no_cluster");
  EXPECT_FALSE(s.quota_held);
  EXPECT_EQ(next_action(s, t0).kind, action::none);
}

TEST(RequestDecide, StartStepPersistsAnIntentWithIdempotencyKey) {
  auto h = admitted();
  h.push_back(ev::cluster_placed{"sim-eu", "default", {2, 4, 40, 1}});
  auto s = given(h);
  EXPECT_EQ(next_action(s, t0).kind, action::start_step);
  auto evs = when(s, start_step{});
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(std::get<ev::step_started>(evs[0]), (ev::step_started{ev::step_kind::allocate, 1, "req-1/allocate/1"}));
  h.push_back(evs[0]);
  auto after = given(h);
  EXPECT_EQ(after.state, lifecycle::allocating);
  EXPECT_EQ(after.steps[0].status, step_status::running);
  EXPECT_EQ(next_action(after, t0).kind, action::call_step);
}

TEST(RequestDecide, RejectsStartWhileAStepIsRunning) {
  auto out = decide(given(placed_and_started()), start_step{}, ctx());
  EXPECT_EQ(out.error().code, errc::conflict);
}

TEST(RequestDecide, SuccessRecordsResourcesAndCompletesTheStep) {
  auto evs = when(given(placed_and_started()), record_step_result{ev::step_kind::allocate, 1, server(), false});
  EXPECT_EQ(types(evs), (std::vector<std::string>{"resource_allocated", "step_completed"}));
  auto all = placed_and_started();
  all.insert(all.end(), evs.begin(), evs.end());
  auto s = given(all);
  EXPECT_EQ(s.resources.size(), 1u);
  EXPECT_EQ(s.steps[0].status, step_status::completed);
  auto next = next_action(s, t0);
  EXPECT_EQ(next.kind, action::start_step);
  EXPECT_EQ(next.step, ev::step_kind::configure);
}

TEST(RequestDecide, RejectsAResultForAnotherAttempt) {
  auto out = decide(given(placed_and_started()), record_step_result{ev::step_kind::allocate, 2, server(), false}, ctx());
  EXPECT_EQ(out.error().code, errc::conflict);
  out = decide(given(placed_and_started()), record_step_result{ev::step_kind::configure, 1, server(), false}, ctx());
  EXPECT_EQ(out.error().code, errc::conflict);
}

TEST(RequestDecide, VerifySuccessCompletesTheRequestWithAllEndpoints) {
  auto h = admitted();
  h.push_back(ev::cluster_placed{"sim-eu", "d", {2, 4, 40, 1}});
  for (int i = 0; i < 4; ++i) {
    auto k = static_cast<ev::step_kind>(i);
    h.push_back(ev::step_started{k, 1, idempotency_key("req-1", k, 1)});
    if (i < 3) h.push_back(ev::step_completed{k, 1, {{"out" + std::to_string(i), "v"}}, false});
  }
  auto evs = when(given(h), record_step_result{ev::step_kind::verify, 1, step_outcome{{}, {{"health", "ok"}}}, false});
  ASSERT_EQ(types(evs), (std::vector<std::string>{"step_completed", "request_completed"}));
  auto endpoints = std::get<ev::request_completed>(evs[1]).endpoints;
  EXPECT_EQ(endpoints.size(), 4u);
  h.insert(h.end(), evs.begin(), evs.end());
  EXPECT_EQ(given(h).state, lifecycle::completed);
  EXPECT_TRUE(is_terminal(given(h).state));
}

TEST(RequestDecide, RetryableFailureSchedulesBackoff5s10s20sThenGivesUp) {
  auto h = placed_and_started();
  std::vector<provisiond::time_ms> waits;
  provisiond::time_ms now = t0;
  for (int attempt = 1;; ++attempt) {
    auto evs = when(given(h), record_step_result{ev::step_kind::allocate, attempt, retryable_error("timeout", "slow"), false}, now);
    h.insert(h.end(), evs.begin(), evs.end());
    auto s = given(h);
    if (s.state == lifecycle::rolling_back) {
      EXPECT_EQ(types(evs), (std::vector<std::string>{"step_failed", "request_failed", "rollback_started"}));
      EXPECT_EQ(s.failure_code, "retries_exhausted");
      EXPECT_EQ(attempt, 4) << "max 3 retries means 4 attempts";
      break;
    }
    ASSERT_EQ(types(evs), (std::vector<std::string>{"step_failed"}));
    auto retry_at = std::get<ev::step_failed>(evs[0]).retry_at;
    waits.push_back(retry_at - now);
    // Before the due time the actor waits; at it, a new attempt starts.
    auto a = next_action(s, now + 1);
    EXPECT_EQ(a.kind, action::wait);
    EXPECT_EQ(a.at, retry_at);
    now = retry_at;
    ASSERT_EQ(next_action(s, now).kind, action::start_step);
    auto start = when(s, start_step{}, now);
    EXPECT_EQ(std::get<ev::step_started>(start[0]).attempt, attempt + 1);
    h.insert(h.end(), start.begin(), start.end());
  }
  EXPECT_EQ(waits, (std::vector<provisiond::time_ms>{5000, 10000, 20000}));
}

TEST(RetryPolicy, DoublesFromBaseAndCapsAtFiveMinutes) {
  provisiond::retry_policy p;
  std::vector<provisiond::time_ms> got;
  for (int i = 1; i <= 8; ++i) got.push_back(p.delay_for(i));
  EXPECT_EQ(got, (std::vector<provisiond::time_ms>{5000, 10000, 20000, 40000, 80000, 160000, 300000, 300000}));
}

TEST(RequestDecide, PermanentFailureFailsAndStartsRollbackAtOnce) {
  auto evs = when(given(placed_and_started()),
                  record_step_result{ev::step_kind::allocate, 1, permanent_error("quota", "over quota"), false});
  EXPECT_EQ(types(evs), (std::vector<std::string>{"step_failed", "request_failed", "rollback_started"}));
  EXPECT_EQ(std::get<ev::request_failed>(evs[1]).code, "step_failed");
  auto h = placed_and_started();
  h.insert(h.end(), evs.begin(), evs.end());
  auto s = given(h);
  EXPECT_EQ(s.state, lifecycle::rolling_back);
  // The failed step may have created something before failing: it is released too.
  auto a = next_action(s, t0);
  EXPECT_EQ(a.kind, action::release);
  EXPECT_EQ(a.step, ev::step_kind::allocate);
}

TEST(RequestDecide, RollbackReleasesInReverseOrderThenRollsBack) {
  std::vector<ev::event> h = placed_and_started();
  auto ok1 = when(given(h), record_step_result{ev::step_kind::allocate, 1, server(), false});
  h.insert(h.end(), ok1.begin(), ok1.end());
  h.push_back(ev::step_started{ev::step_kind::configure, 1, "req-1/configure/1"});
  auto fip = step_outcome{{ev::resource_ref{"fip-1", "floating_ip", ev::step_kind::configure, {}}}, {}};
  auto ok2 = when(given(h), record_step_result{ev::step_kind::configure, 1, fip, false});
  h.insert(h.end(), ok2.begin(), ok2.end());
  h.push_back(ev::step_started{ev::step_kind::activate, 1, "req-1/activate/1"});
  auto bad = when(given(h), record_step_result{ev::step_kind::activate, 1, permanent_error("error", "ERROR state"), false});
  h.insert(h.end(), bad.begin(), bad.end());

  auto order = release_all(h);
  EXPECT_EQ(order, (std::vector<ev::step_kind>{ev::step_kind::activate, ev::step_kind::configure, ev::step_kind::allocate}));
  auto s = given(h);
  EXPECT_EQ(s.state, lifecycle::rolled_back);
  EXPECT_TRUE(s.resources.empty());
  EXPECT_EQ(ev::type_name(h[h.size() - 3]), std::string("capacity_released"));
  EXPECT_EQ(std::get<ev::capacity_released>(h[h.size() - 3]), (ev::capacity_released{"sim-eu", {2, 4, 40, 1}}));
  EXPECT_EQ(ev::type_name(h[h.size() - 2]), std::string("rolled_back"));
  EXPECT_EQ(ev::type_name(h.back()), std::string("quota_released")) << "quota comes back on RolledBack";
  EXPECT_FALSE(s.quota_held);
  EXPECT_FALSE(s.capacity_held);
}

TEST(RequestDecide, FailedCompensationIsRetriedWithBackoffNeverDropped) {
  auto h = placed_and_started();
  auto bad = when(given(h), record_step_result{ev::step_kind::allocate, 1, permanent_error("x", "bad"), false});
  h.insert(h.end(), bad.begin(), bad.end());
  provisiond::time_ms now = t0;
  for (int i = 1; i <= 6; ++i) {
    auto evs = when(given(h), record_release{ev::step_kind::allocate, retryable_error("busy", "in use")}, now);
    ASSERT_EQ(types(evs), (std::vector<std::string>{"compensation_failed"}));
    auto f = std::get<ev::compensation_failed>(evs[0]);
    EXPECT_EQ(f.attempt, i);
    h.insert(h.end(), evs.begin(), evs.end());
    auto s = given(h);
    EXPECT_EQ(s.state, lifecycle::rolling_back);
    EXPECT_EQ(next_action(s, now).kind, action::wait);
    now = f.retry_at;
    EXPECT_EQ(next_action(s, now).kind, action::release);
  }
  auto done = when(given(h), record_release{ev::step_kind::allocate, std::vector<std::string>{"srv-1"}}, now);
  EXPECT_EQ(types(done), (std::vector<std::string>{"step_compensated", "capacity_released", "rolled_back", "quota_released"}));
}

TEST(RequestApply, ReplayRebuildsTheSameStateAsLiveFolding) {
  auto h = placed_and_started();
  auto evs = when(given(h), record_step_result{ev::step_kind::allocate, 1, server(), false});
  h.insert(h.end(), evs.begin(), evs.end());
  request_state live;
  live.id = "req-1";
  for (auto& e : h) live = apply(live, e, t0);
  auto replayed = given(h);
  EXPECT_EQ(replayed.version, live.version);
  EXPECT_EQ(replayed.state, live.state);
  EXPECT_EQ(replayed.resources, live.resources);
  EXPECT_EQ(replayed.outputs, live.outputs);
}

namespace {

std::vector<ev::event> completed_history() {
  auto h = admitted();
  h.push_back(ev::cluster_placed{"sim-eu", "d", {2, 4, 40, 1}});
  for (int i = 0; i < 4; ++i) {
    auto k = static_cast<ev::step_kind>(i);
    h.push_back(ev::step_started{k, 1, idempotency_key("req-1", k, 1)});
    if (i == 0) h.push_back(ev::resource_allocated{{"srv-1", "server", k, {}}});
    h.push_back(ev::step_completed{k, 1, {}, false});
  }
  h.push_back(ev::request_completed{{}});
  return h;
}

}  // namespace

TEST(RequestLifecycle, SuspendThenReactivateGoThroughTheProvider) {
  auto h = completed_history();
  auto evs = when(given(h), lifecycle_command{ev::lifecycle_action::suspend});
  ASSERT_EQ(types(evs), (std::vector<std::string>{"action_requested"}));
  h.insert(h.end(), evs.begin(), evs.end());
  auto s = given(h);
  EXPECT_EQ(s.state, lifecycle::completed) << "suspended only once the provider stopped it";
  EXPECT_EQ(next_action(s, t0).kind, action::power);
  EXPECT_EQ(decide(s, lifecycle_command{ev::lifecycle_action::suspend}, ctx()).error().code, errc::conflict) << "one action at a time";
  auto done = when(s, record_action_result{ev::lifecycle_action::suspend, provisiond::ok()});
  ASSERT_EQ(types(done), (std::vector<std::string>{"service_suspended"}));
  h.insert(h.end(), done.begin(), done.end());
  s = given(h);
  EXPECT_EQ(s.state, lifecycle::suspended);
  EXPECT_EQ(decide(s, lifecycle_command{ev::lifecycle_action::suspend}, ctx()).error().code, errc::conflict);
  auto back = when(s, lifecycle_command{ev::lifecycle_action::reactivate});
  h.insert(h.end(), back.begin(), back.end());
  auto failed = when(given(h), record_action_result{ev::lifecycle_action::reactivate, retryable_error("busy", "try later")});
  ASSERT_EQ(types(failed), (std::vector<std::string>{"action_failed"}));
  EXPECT_EQ(std::get<ev::action_failed>(failed[0]).retry_at, t0 + 5000);
  h.insert(h.end(), failed.begin(), failed.end());
  EXPECT_EQ(next_action(given(h), t0).kind, action::wait);
  EXPECT_EQ(next_action(given(h), t0 + 5000).kind, action::power);
  auto ok = when(given(h), record_action_result{ev::lifecycle_action::reactivate, provisiond::ok()});
  h.insert(h.end(), ok.begin(), ok.end());
  EXPECT_EQ(given(h).state, lifecycle::completed);
}

TEST(RequestLifecycle, DeprovisionReleasesEverythingAndFreesQuota) {
  auto h = completed_history();
  auto evs = when(given(h), lifecycle_command{ev::lifecycle_action::deprovision});
  h.insert(h.end(), evs.begin(), evs.end());
  auto order = release_all(h);
  EXPECT_EQ(order, (std::vector<ev::step_kind>{ev::step_kind::verify, ev::step_kind::activate, ev::step_kind::configure,
                                               ev::step_kind::allocate}));
  auto s = given(h);
  EXPECT_EQ(s.state, lifecycle::rolled_back);
  EXPECT_TRUE(s.deprovisioned);
  EXPECT_FALSE(s.quota_held);
  EXPECT_FALSE(s.capacity_held);
  EXPECT_EQ(ev::type_name(h[h.size() - 3]), std::string("capacity_released"));
  EXPECT_EQ(ev::type_name(h[h.size() - 2]), std::string("deprovisioned"));
  EXPECT_EQ(decide(s, lifecycle_command{ev::lifecycle_action::retry}, ctx()).error().code, errc::conflict) << "a deprovisioned request stays gone";
}

TEST(RequestLifecycle, RetryRunsAFailedRequestAgainWithFreshAttempts) {
  auto h = placed_and_started();
  for (int attempt = 1; attempt <= 4; ++attempt) {
    auto evs = when(given(h), record_step_result{ev::step_kind::allocate, attempt, retryable_error("t", "slow"), false});
    h.insert(h.end(), evs.begin(), evs.end());
    if (given(h).state == lifecycle::rolling_back) break;
    auto start = when(given(h), start_step{});
    h.insert(h.end(), start.begin(), start.end());
  }
  auto rel = when(given(h), record_release{ev::step_kind::allocate, std::vector<std::string>{}});
  h.insert(h.end(), rel.begin(), rel.end());
  ASSERT_EQ(given(h).state, lifecycle::rolled_back);
  EXPECT_EQ(decide(given(completed_history()), lifecycle_command{ev::lifecycle_action::retry}, ctx()).error().code, errc::conflict);
  auto retry = when(given(h), lifecycle_command{ev::lifecycle_action::retry});
  ASSERT_EQ(types(retry), (std::vector<std::string>{"retry_requested"}));
  h.insert(h.end(), retry.begin(), retry.end());
  auto s = given(h);
  EXPECT_EQ(s.state, lifecycle::queued);
  EXPECT_EQ(next_action(s, t0).kind, action::admit) << "admission (and quota) anew";
  // After admission the step starts at attempt 5 with a new key, and has 3 retries again.
  h.push_back(ev::quota_reserved{demand});
  h.push_back(ev::request_admitted{});
  h.push_back(ev::cluster_placed{"sim-eu", "d", {2, 4, 40, 1}});
  auto start = when(given(h), start_step{});
  EXPECT_EQ(std::get<ev::step_started>(start[0]).attempt, 5);
  h.insert(h.end(), start.begin(), start.end());
  auto fail = when(given(h), record_step_result{ev::step_kind::allocate, 5, retryable_error("t", "slow"), false});
  EXPECT_EQ(types(fail), (std::vector<std::string>{"step_failed"})) << "a retry of the step, not exhaustion";
}

TEST(RequestManual, ActivateWaitsForAnOperatorThenCompleteGoesOnToVerify) {
  auto h = placed_and_started();
  for (auto step : {ev::step_kind::allocate, ev::step_kind::configure}) {
    if (step != ev::step_kind::allocate) h.push_back(ev::step_started{step, 1, "k"});
    auto done = when(given(h), record_step_result{step, 1, step_outcome{}, false});
    h.insert(h.end(), done.begin(), done.end());
  }
  h.push_back(ev::step_started{ev::step_kind::activate, 1, "req-1/activate/1"});
  step_outcome waiting;
  waiting.awaiting_input = true;
  waiting.outputs["message"] = "rack it";
  auto evs = when(given(h), record_step_result{ev::step_kind::activate, 1, waiting, false});
  ASSERT_EQ(types(evs), (std::vector<std::string>{"manual_input_requested"}));
  h.insert(h.end(), evs.begin(), evs.end());
  auto s = given(h);
  EXPECT_EQ(s.state, lifecycle::activating);
  EXPECT_EQ(s.steps[2].status, ev::step_status::awaiting_manual_input);
  EXPECT_EQ(next_action(s, t0 + 3'600'000).kind, action::none) << "waits for a person, however long";
  ASSERT_TRUE(awaiting_input(s));

  EXPECT_EQ(decide(s, complete_manual{"", "root", {}, "password", ""}, ctx()).error().field, "host");
  auto done = when(s, complete_manual{"10.0.0.5", "root", {{"ssh", "ssh://10.0.0.5"}}, "password", ""});
  ASSERT_EQ(types(done), (std::vector<std::string>{"manual_input_provided", "step_completed"}));
  auto provided = std::get<ev::manual_input_provided>(done[0]);
  EXPECT_EQ(provided.credential, "password");
  h.insert(h.end(), done.begin(), done.end());
  s = given(h);
  EXPECT_EQ(s.outputs.at("host"), "10.0.0.5");
  EXPECT_EQ(next_action(s, t0).kind, action::start_step);
  EXPECT_EQ(next_action(s, t0).step, ev::step_kind::verify);
  EXPECT_EQ(decide(s, complete_manual{"10.0.0.5", "root", {}, "password", ""}, ctx()).error().code, errc::conflict);
}

TEST(RequestStuck, AStuckCallFailsTheStepAndALateAnswerReopensTheRollback) {
  auto h = placed_and_started();
  auto stuck = when(given(h), record_step_result{ev::step_kind::allocate, 1, permanent_error("stuck", "allocate hung"), false});
  ASSERT_EQ(types(stuck), (std::vector<std::string>{"step_failed", "request_failed", "rollback_started"}));
  EXPECT_EQ(std::get<ev::request_failed>(stuck[1]).code, "stuck");
  h.insert(h.end(), stuck.begin(), stuck.end());
  release_all(h);
  ASSERT_EQ(given(h).state, lifecycle::rolled_back);
  // The hung call answers after the rollback: its server is released too.
  auto late = when(given(h), record_late_result{ev::step_kind::allocate, 1, server()});
  ASSERT_EQ(types(late), (std::vector<std::string>{"late_result_received"}));
  h.insert(h.end(), late.begin(), late.end());
  auto s = given(h);
  EXPECT_EQ(s.state, lifecycle::rolling_back);
  auto order = release_all(h);
  EXPECT_EQ(order, (std::vector<ev::step_kind>{ev::step_kind::allocate}));
  s = given(h);
  EXPECT_EQ(s.state, lifecycle::rolled_back);
  EXPECT_TRUE(s.resources.empty());
  // A late failure, or a late answer for what is already known, changes nothing.
  EXPECT_TRUE(when(s, record_late_result{ev::step_kind::allocate, 1, permanent_error("x", "y")}).empty());
}

TEST(RequestDecide, AStepThatSentNothingNeedsNoReleaseSoTheRollbackEndsAtOnce) {
  auto h = placed_and_started();
  auto evs = when(given(h), record_step_result{ev::step_kind::allocate, 1,
                                               permanent_error("unauthenticated", "Keystone rejected the credentials"), false});
  EXPECT_EQ(types(evs), (std::vector<std::string>{"step_failed", "request_failed", "rollback_started", "capacity_released",
                                                  "rolled_back", "quota_released"}));
  h.insert(h.end(), evs.begin(), evs.end());
  auto s = given(h);
  EXPECT_EQ(s.state, lifecycle::rolled_back);
  EXPECT_EQ(next_action(s, t0).kind, action::none);

  // But a step whose earlier attempt did reach the provider is still released.
  auto h2 = placed_and_started();
  auto timeout = when(given(h2), record_step_result{ev::step_kind::allocate, 1, retryable_error("timeout", "t"), false});
  h2.insert(h2.end(), timeout.begin(), timeout.end());
  h2.push_back(ev::step_started{ev::step_kind::allocate, 2, "req-1/allocate/2"});
  auto refused = when(given(h2), record_step_result{ev::step_kind::allocate, 2,
                                                    permanent_error("unauthenticated", "revoked"), false});
  h2.insert(h2.end(), refused.begin(), refused.end());
  EXPECT_EQ(given(h2).state, lifecycle::rolling_back);
  EXPECT_EQ(next_action(given(h2), t0).kind, action::release);
}
