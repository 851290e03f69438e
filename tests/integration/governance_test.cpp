// Tenant governance against the real binary: quotas, approval gates,
// per-tenant fairness and request dependencies.
#include <atomic>
#include <mutex>

#include "tests/integration/fixture.hpp"
#include "tests/integration/journal_check.hpp"

using namespace provisiond::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

struct Governance : server_fixture {
  http_reply put(const std::string& target, const json& b) { return http_call(proc.port(), "PUT", target, b.dump()); }

  std::string submit(const std::string& tenant, int cpu, int mem, int disk, const std::string& region = "eu-west-1",
                     const std::vector<std::string>& depends_on = {}) {
    json b{{"tenantId", tenant},   {"orderId", "o-" + std::to_string(++orders)},
           {"type", "vps"},        {"region", region},
           {"resources", {{"cpu", cpu}, {"memoryGb", mem}, {"storageGb", disk}}}};
    if (!depends_on.empty()) b["dependsOn"] = depends_on;
    auto r = post("/v1/requests", b.dump());
    EXPECT_EQ(r.status, 202) << r.body;
    return r.status == 202 ? body(r)["id"].get<std::string>() : "";
  }

  json request(const std::string& id) { return body(get("/v1/requests/" + id)); }
  json usage(const std::string& tenant) { return body(get("/v1/tenants/" + tenant + "/usage")); }

  json seed_rule() {
    return {{"name", "High-Resource VPS Approval"},
            {"priority", 10},
            {"conditions",
             {{"minCpu", 16}, {"minMemoryGb", 32}, {"minStorageGb", 500}, {"types", {"vps"}}, {"regions", {"eu-west-1"}}}}};
  }

  std::atomic<int> orders{0};
};

}  // namespace

TEST_F(Governance, QuotaExceededNamesEveryViolatedDimension) {
  start_server();
  EXPECT_EQ(body(get("/v1/tenants/acme/quota"))["configured"], false) << "no entry: unlimited";
  auto q = put("/v1/tenants/acme/quota", {{"maxInstances", 1}, {"maxCpu", 4}, {"maxMemoryGb", 8}});
  ASSERT_EQ(q.status, 200) << q.body;
  EXPECT_EQ(body(q)["maxStorageGb"], nullptr) << "an absent field is unlimited";
  EXPECT_EQ(body(get("/v1/tenants/acme/quota"))["maxCpu"], 4);

  auto too_big = submit("acme", 8, 16, 5000);
  ASSERT_EQ(wait_state(too_big, {"Failed"}), "Failed");
  auto f = request(too_big)["failure"];
  EXPECT_EQ(f["code"], "quota_exceeded");
  ASSERT_EQ(f["violations"].size(), 2u);
  EXPECT_EQ(f["violations"][0], (json{{"dimension", "cpu"}, {"requested", 8}, {"used", 0}, {"limit", 4}}));
  EXPECT_EQ(f["violations"][1], (json{{"dimension", "memoryGb"}, {"requested", 16}, {"used", 0}, {"limit", 8}}));
  EXPECT_NE(f["reason"].get<std::string>().find("cpu 8 requested, 0 used, limit 4"), std::string::npos);

  auto fits = submit("acme", 2, 4, 10);
  ASSERT_EQ(wait_state(fits, {"Completed"}), "Completed");
  auto u = usage("acme");
  EXPECT_EQ(u["usage"], (json{{"instances", 1}, {"cpu", 2}, {"memoryGb", 4}, {"storageGb", 10}}));
  auto second = submit("acme", 1, 1, 1);
  ASSERT_EQ(wait_state(second, {"Failed"}), "Failed");
  EXPECT_EQ(request(second)["failure"]["violations"][0]["dimension"], "instances");

  EXPECT_EQ(body(put("/v1/tenants/acme/quota", {{"maxCpu", -1}}))["error"]["field"], "maxCpu");
  EXPECT_EQ(body(put("/v1/tenants/acme/quota", {{"maxGpus", 1}}))["error"]["field"], "maxGpus");
}

TEST_F(Governance, HundredConcurrentCreatesOneBelowTheLimitAdmitExactlyOne) {
  start_server();
  ASSERT_EQ(put("/v1/tenants/race/quota", {{"maxInstances", 5}}).status, 200);
  for (int i = 0; i < 4; ++i) ASSERT_EQ(wait_state(submit("race", 1, 1, 1), {"Completed"}), "Completed");
  std::vector<std::string> ids(100);
  std::vector<std::thread> threads;
  for (int i = 0; i < 100; ++i) threads.emplace_back([&, i] { ids[i] = submit("race", 1, 1, 1); });
  for (auto& t : threads) t.join();
  int admitted = 0, refused = 0;
  for (auto& id : ids) {
    auto s = wait_state(id, {"Completed", "Failed"});
    if (s == "Completed") ++admitted;
    else if (request(id)["failure"]["code"] == "quota_exceeded") ++refused;
  }
  EXPECT_EQ(admitted, 1);
  EXPECT_EQ(refused, 99);
  EXPECT_EQ(usage("race")["usage"]["instances"], 5);
}

TEST_F(Governance, QuotaComesBackAfterRollback) {
  write_config({{"simulation", {{"steps", {{"activate", {{"permanent", 1.0}}}}}}}});
  start_server();
  ASSERT_EQ(put("/v1/tenants/acme/quota", {{"maxInstances", 1}, {"maxCpu", 4}}).status, 200);
  auto before = usage("acme")["usage"];
  auto id = submit("acme", 4, 8, 40);
  ASSERT_EQ(wait_state(id, {"RolledBack"}), "RolledBack");
  for (int i = 0; i < 100 && usage("acme")["usage"] != before; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(usage("acme")["usage"], before);
  // The freed quota admits the next request (it rolls back too: activate always fails here).
  auto next = submit("acme", 4, 8, 40);
  ASSERT_EQ(wait_state(next, {"RolledBack", "Failed"}), "RolledBack");
  EXPECT_NE(request(next).value("failure", json::object()).value("code", ""), "quota_exceeded");
  auto evs = body(get("/v1/requests/" + id + "/events"));
  EXPECT_EQ(evs.back()["type"], "quota_released");
  EXPECT_EQ(evs[evs.size() - 2]["type"], "rolled_back");
}

TEST_F(Governance, SeedApprovalRuleGatesThenApproveResumesAndRejectFails) {
  start_server();
  auto created = post("/v1/approval-rules", seed_rule().dump());
  ASSERT_EQ(created.status, 201) << created.body;
  auto rule_id = body(created)["id"].get<std::string>();
  auto big = submit("acme", 32, 64, 1000);
  ASSERT_EQ(wait_state(big, {"PendingApproval"}), "PendingApproval");
  auto a = request(big)["approval"];
  EXPECT_EQ(a["ruleId"], rule_id);
  EXPECT_EQ(a["ruleName"], "High-Resource VPS Approval");
  EXPECT_EQ(a["state"], "pending");
  EXPECT_EQ(a["matched"].size(), 5u);
  auto small = submit("acme", 2, 4, 40);
  EXPECT_EQ(wait_state(small, {"Completed"}), "Completed") << "small requests are not gated";
  auto west = submit("acme", 32, 64, 1000, "us-east-1");
  EXPECT_EQ(wait_state(west, {"Completed"}), "Completed") << "the rule is for eu-west-1 only";

  auto pending = body(get("/v1/approvals?state=pending"))["items"];
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0]["id"], big);
  auto ok = post("/v1/requests/" + big + "/approve", R"({"comment":"capacity checked"})");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(wait_state(big, {"Completed"}), "Completed") << "provisioning resumes by itself";
  EXPECT_EQ(request(big)["approval"]["comment"], "capacity checked");
  auto again = post("/v1/requests/" + big + "/approve", "{}");
  EXPECT_EQ(again.status, 409);
  EXPECT_NE(body(again)["error"]["message"].get<std::string>().find("Completed"), std::string::npos);

  auto doomed = submit("acme", 32, 64, 1000);
  ASSERT_EQ(wait_state(doomed, {"PendingApproval"}), "PendingApproval");
  auto before = usage("acme")["usage"]["cpu"].get<int>();
  EXPECT_EQ(post("/v1/requests/" + doomed + "/reject", "{}").status, 400) << "a rejection needs a reason";
  ASSERT_EQ(post("/v1/requests/" + doomed + "/reject", R"({"reason":"no budget"})").status, 200);
  ASSERT_EQ(wait_state(doomed, {"Failed"}), "Failed");
  EXPECT_EQ(request(doomed)["failure"]["reason"], "no budget");
  EXPECT_EQ(usage("acme")["usage"]["cpu"].get<int>(), before - 32) << "a rejected request gives its quota back";
  EXPECT_TRUE(body(get("/v1/approvals?state=pending"))["items"].empty());
  EXPECT_EQ(post("/v1/requests/req-none/approve", "{}").status, 404);
}

TEST_F(Governance, TenantRuleBeatsGlobalRuleOfTheSamePriority) {
  start_server();
  ASSERT_EQ(post("/v1/approval-rules", json{{"name", "global"}, {"priority", 5}}.dump()).status, 201);
  ASSERT_EQ(post("/v1/approval-rules", json{{"name", "acme only"}, {"priority", 5}, {"tenantId", "acme"}}.dump()).status, 201);
  auto mine = submit("acme", 1, 1, 1);
  auto theirs = submit("bravo", 1, 1, 1);
  ASSERT_EQ(wait_state(mine, {"PendingApproval"}), "PendingApproval");
  ASSERT_EQ(wait_state(theirs, {"PendingApproval"}), "PendingApproval");
  EXPECT_EQ(request(mine)["approval"]["ruleName"], "acme only");
  EXPECT_EQ(request(theirs)["approval"]["ruleName"], "global");
  ASSERT_EQ(post("/v1/approval-rules", json{{"name", "urgent global"}, {"priority", 9}}.dump()).status, 201);
  auto third = submit("acme", 1, 1, 1);
  ASSERT_EQ(wait_state(third, {"PendingApproval"}), "PendingApproval");
  EXPECT_EQ(request(third)["approval"]["ruleName"], "urgent global") << "a higher priority wins over the tenant rule";
}

TEST_F(Governance, ConcurrentApproveAndRejectMakeExactlyOneDecision) {
  start_server();
  ASSERT_EQ(post("/v1/approval-rules", json{{"name", "all"}}.dump()).status, 201);
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) ids.push_back(submit("acme", 1, 1, 1));
  for (auto& id : ids) ASSERT_EQ(wait_state(id, {"PendingApproval"}), "PendingApproval");
  for (auto& id : ids) {
    int approve_status = 0, reject_status = 0;
    std::thread a([&] { approve_status = post("/v1/requests/" + id + "/approve", "{}").status; });
    std::thread r([&] { reject_status = post("/v1/requests/" + id + "/reject", R"({"reason":"race"})").status; });
    a.join();
    r.join();
    EXPECT_TRUE((approve_status == 200 && reject_status == 409) || (approve_status == 409 && reject_status == 200))
        << approve_status << " " << reject_status;
    auto evs = body(get("/v1/requests/" + id + "/events"));
    int decisions = 0;
    for (auto& e : evs) decisions += e["type"] == "request_approved" || e["type"] == "request_rejected";
    EXPECT_EQ(decisions, 1);
  }
}

TEST_F(Governance, ApprovalRulesCrud) {
  start_server();
  auto c = post("/v1/approval-rules", seed_rule().dump());
  ASSERT_EQ(c.status, 201);
  auto id = body(c)["id"].get<std::string>();
  EXPECT_EQ(c.headers["location"], "/v1/approval-rules/" + id);
  EXPECT_EQ(body(get("/v1/approval-rules"))["items"].size(), 1u);
  auto changed = seed_rule();
  changed["enabled"] = false;
  changed["tenantId"] = "acme";
  auto u = put("/v1/approval-rules/" + id, changed);
  ASSERT_EQ(u.status, 200) << u.body;
  EXPECT_EQ(body(get("/v1/approval-rules/" + id))["enabled"], false);
  EXPECT_EQ(body(get("/v1/approval-rules/" + id))["tenantId"], "acme");
  EXPECT_EQ(http_call(proc.port(), "DELETE", "/v1/approval-rules/" + id).status, 204);
  EXPECT_EQ(get("/v1/approval-rules/" + id).status, 404);
  EXPECT_EQ(http_call(proc.port(), "DELETE", "/v1/approval-rules/" + id).status, 404);
  EXPECT_EQ(body(post("/v1/approval-rules", R"({"priority":1})"))["error"]["field"], "name");
  EXPECT_EQ(body(post("/v1/approval-rules", R"({"name":"x","conditions":{"minCpu":"big"}})"))["error"]["field"],
            "conditions.minCpu");
  EXPECT_EQ(body(post("/v1/approval-rules", R"({"name":"x","conditions":{"gpu":1}})"))["error"]["field"],
            "conditions.gpu");
  // Rules and quotas are in the journal: they survive a restart.
  ASSERT_EQ(post("/v1/approval-rules", seed_rule().dump()).status, 201);
  ASSERT_EQ(put("/v1/tenants/acme/quota", {{"maxInstances", 3}}).status, 200);
  EXPECT_EQ(proc.terminate(), 0);
  start_server();
  EXPECT_EQ(body(get("/v1/approval-rules"))["items"].size(), 1u);
  EXPECT_EQ(body(get("/v1/tenants/acme/quota"))["maxInstances"], 3);
}

TEST_F(Governance, AtMostFiveInFlightPerTenantAndOthersAreNotStarved) {
  write_config({{"simulation", {{"minDelayMs", 15}, {"maxDelayMs", 25}}}});
  start_server();
  std::vector<std::string> a_ids(200);
  std::vector<std::thread> threads;
  std::atomic<int> next{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = next++; i < 200; i = next++) a_ids[i] = submit("tenant-a", 1, 1, 1);
    });
  for (auto& t : threads) t.join();
  std::vector<std::string> b_ids;
  for (int i = 0; i < 5; ++i) b_ids.push_back(submit("tenant-b", 1, 1, 1));
  for (auto& id : b_ids) ASSERT_EQ(wait_state(id, {"Completed"}, 60s), "Completed");
  auto a_usage = usage("tenant-a");
  EXPECT_GT(a_usage["waiting"].get<int>(), 100) << "B finished while A still had more than 100 queued";
  EXPECT_LE(a_usage["inFlight"].get<int>(), 5);
  auto queued = body(get("/v1/requests?tenantId=tenant-a&state=Queued&limit=500"))["items"].size();
  EXPECT_GT(queued, 100u);
  std::printf("fairness: when B's 5 completed, A had %zu queued and %d in flight\n", queued,
              a_usage["inFlight"].get<int>());
  for (auto& id : a_ids) ASSERT_EQ(wait_state(id, {"Completed"}, 120s), "Completed") << id;
  EXPECT_EQ(proc.terminate(), 0);

  // From the journal: A never had more than 5 requests holding a slot, and
  // slots were granted in submission order.
  auto store = *provisiond::events::rocksdb_adapter::store::open(dir / "data/journal", provisiond::durability::fast);
  auto journal = provisiond::events::rocksdb_adapter::make_journal(store);
  auto all = journal->read_all(1, 10'000'000);
  std::map<std::string, provisiond::events::request_state> states;
  std::map<std::string, std::uint64_t> submitted_at;
  std::vector<std::uint64_t> admission_order;
  int in_flight = 0, max_in_flight = 0;
  for (auto& e : *all) {
    auto id = provisiond::events::request_of_stream(e.stream);
    auto& st = states[id];
    st.id = id;
    bool before = provisiond::events::holds_slot(st);
    provisiond::events::apply_in_place(st, *provisiond::events::decode(e), e.time);
    if (st.spec.tenant_id != "tenant-a") continue;
    if (e.type == "request_submitted") submitted_at[id] = e.global_position;
    if (e.type == "request_admitted") admission_order.push_back(submitted_at[id]);
    bool after = provisiond::events::holds_slot(st);
    in_flight += static_cast<int>(after) - static_cast<int>(before);
    max_in_flight = std::max(max_in_flight, in_flight);
  }
  EXPECT_EQ(max_in_flight, 5);
  ASSERT_EQ(admission_order.size(), 200u);
  // First in, first out: four clients submit at once, so only requests that
  // arrived together may swap places.
  auto sorted = admission_order;
  std::sort(sorted.begin(), sorted.end());
  std::size_t max_shift = 0;
  for (std::size_t i = 0; i < admission_order.size(); ++i) {
    auto rank = static_cast<std::size_t>(std::lower_bound(sorted.begin(), sorted.end(), admission_order[i]) - sorted.begin());
    max_shift = std::max(max_shift, rank > i ? rank - i : i - rank);
  }
  EXPECT_LE(max_shift, 4u) << "admitted out of submission order by up to " << max_shift << " places";
  std::printf("fairness: max %d in flight for A; admission order differs from submission order by at most %zu places\n",
              max_in_flight, max_shift);
}

TEST_F(Governance, DependencyChainRunsInOrderAndAFailedPrerequisiteFailsItsDependents) {
  write_config({{"simulation", {{"minDelayMs", 5}, {"maxDelayMs", 10}}}});
  start_server();
  auto a = submit("acme", 1, 1, 1);
  auto b = submit("acme", 1, 1, 1, "eu-west-1", {a});
  auto c = submit("acme", 1, 1, 1, "eu-west-1", {b});
  auto d = submit("acme", 1, 1, 1, "eu-west-1", {a, c});
  for (auto& id : {a, b, c, d}) ASSERT_EQ(wait_state(id, {"Completed"}, 30s), "Completed");
  auto position = [&](const std::string& id, const std::string& type) -> std::uint64_t {
    for (auto& e : body(get("/v1/requests/" + id + "/events")))
      if (e["type"] == type) return e["position"];
    return 0;
  };
  EXPECT_LT(position(a, "request_completed"), position(b, "request_admitted"));
  EXPECT_LT(position(b, "request_completed"), position(c, "request_admitted"));
  EXPECT_LT(position(c, "request_completed"), position(d, "request_admitted"));
  EXPECT_EQ(request(d)["dependsOn"], (json{a, c}));

  // A prerequisite that ends Failed fails its dependents, transitively.
  ASSERT_EQ(post("/v1/approval-rules", json{{"name", "gate big"}, {"conditions", {{"minCpu", 8}}}}.dump()).status, 201);
  auto gated = submit("acme", 8, 8, 8);
  auto child = submit("acme", 1, 1, 1, "eu-west-1", {gated});
  auto grandchild = submit("acme", 1, 1, 1, "eu-west-1", {child});
  ASSERT_EQ(wait_state(gated, {"PendingApproval"}), "PendingApproval");
  EXPECT_EQ(request(child)["state"], "Queued") << "waits while its prerequisite waits";
  ASSERT_EQ(post("/v1/requests/" + gated + "/reject", R"({"reason":"no"})").status, 200);
  ASSERT_EQ(wait_state(child, {"Failed"}), "Failed");
  EXPECT_EQ(request(child)["failure"]["reason"], "dependency " + gated + " failed");
  ASSERT_EQ(wait_state(grandchild, {"Failed"}), "Failed");
  EXPECT_EQ(request(grandchild)["failure"]["reason"], "dependency " + child + " failed");
  EXPECT_EQ(usage("acme")["usage"]["instances"], 4) << "failed dependents gave their quota back";

  auto unknown = post("/v1/requests", json{{"tenantId", "acme"}, {"orderId", "x"}, {"type", "vps"}, {"region", "eu-west-1"},
                                            {"resources", {{"cpu", 1}, {"memoryGb", 1}, {"storageGb", 1}}},
                                            {"dependsOn", {"req-nope"}}}
                                           .dump());
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(body(unknown)["error"]["field"], "dependsOn");
  auto foreign = post("/v1/requests", json{{"tenantId", "bravo"}, {"orderId", "x"}, {"type", "vps"}, {"region", "eu-west-1"},
                                            {"resources", {{"cpu", 1}, {"memoryGb", 1}, {"storageGb", 1}}},
                                            {"dependsOn", {a}}}
                                           .dump());
  EXPECT_EQ(foreign.status, 400);
  EXPECT_NE(body(foreign)["error"]["message"].get<std::string>().find("another tenant"), std::string::npos);
}

TEST_F(Governance, ACycleIsRejectedAtSubmissionNamingItsIds) {
  start_server();
  auto with = [](const std::string& id, const std::vector<std::string>& deps) {
    return json{{"id", id},          {"tenantId", "acme"}, {"orderId", "o-" + id}, {"type", "vps"},
                {"region", "eu-west-1"}, {"resources", {{"cpu", 1}, {"memoryGb", 1}, {"storageGb", 1}}},
                {"dependsOn", deps}}
        .dump();
  };
  auto self = post("/v1/requests", with("loop-1", {"loop-1"}));
  EXPECT_EQ(self.status, 409);
  EXPECT_EQ(body(self)["error"]["field"], "dependsOn");
  EXPECT_EQ(body(self)["error"]["message"], "dependency cycle: loop-1");
  EXPECT_EQ(get("/v1/requests/loop-1").status, 404) << "nothing was created";

  // A client-chosen id is used as given, and only once.
  auto chosen = post("/v1/requests", with("chosen-1", {}));
  ASSERT_EQ(chosen.status, 202) << chosen.body;
  EXPECT_EQ(body(chosen)["id"], "chosen-1");
  auto again = post("/v1/requests", with("chosen-1", {}));
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(body(again)["error"]["field"], "id");
  EXPECT_EQ(body(post("/v1/requests", with("bad id!", {})))["error"]["field"], "id");
}

TEST_F(Governance, KillNineMidAdmissionThenRestartKeepsQuotaSlotsAndOrder) {
  write_config({{"simulation", {{"minDelayMs", 10}, {"maxDelayMs", 20}}}});
  start_server();
  ASSERT_EQ(put("/v1/tenants/acme/quota", {{"maxInstances", 100}, {"maxCpu", 400}}).status, 200);
  ASSERT_EQ(post("/v1/approval-rules", json{{"name", "big"}, {"conditions", {{"minCpu", 8}}}}.dump()).status, 201);
  std::vector<std::string> small, gated;
  for (int i = 0; i < 60; ++i) small.push_back(submit("acme", 1, 1, 1));
  for (int i = 0; i < 3; ++i) gated.push_back(submit("acme", 8, 8, 8));
  auto first = submit("acme", 1, 1, 1);
  auto second = submit("acme", 1, 1, 1, "eu-west-1", {first});
  auto third = submit("acme", 1, 1, 1, "eu-west-1", {second});
  std::this_thread::sleep_for(300ms);
  proc.crash();
  start_server();
  for (auto& id : gated) {
    ASSERT_EQ(wait_state(id, {"PendingApproval"}), "PendingApproval") << "the gate survives the crash";
    ASSERT_EQ(post("/v1/requests/" + id + "/approve", "{}").status, 200);
  }
  std::vector<std::string> all = small;
  all.insert(all.end(), gated.begin(), gated.end());
  for (auto& id : {first, second, third}) all.push_back(id);
  for (auto& id : all) ASSERT_EQ(wait_state(id, {"Completed"}, 120s), "Completed") << id;
  auto u = usage("acme");
  EXPECT_EQ(u["usage"]["instances"], 66);
  EXPECT_EQ(u["usage"]["cpu"], 63 + 3 * 8);
  EXPECT_EQ(u["inFlight"], 0);
  EXPECT_EQ(proc.terminate(), 0);

  auto summary = check_journal(dir / "data/journal");
  EXPECT_EQ(summary.requests.size(), 66u);
  auto store = *provisiond::events::rocksdb_adapter::store::open(dir / "data/journal", provisiond::durability::fast);
  auto journal = provisiond::events::rocksdb_adapter::make_journal(store);
  auto events = journal->read_all(1, 10'000'000);
  std::map<std::string, provisiond::events::request_state> states;
  std::map<std::string, std::uint64_t> completed_at, admitted_at;
  int in_flight = 0, max_in_flight = 0, reservations = 0;
  for (auto& e : *events) {
    auto id = provisiond::events::request_of_stream(e.stream);
    if (id.empty()) continue;
    auto& st = states[id];
    st.id = id;
    bool before = provisiond::events::holds_slot(st);
    provisiond::events::apply_in_place(st, *provisiond::events::decode(e), e.time);
    in_flight += static_cast<int>(provisiond::events::holds_slot(st)) - static_cast<int>(before);
    max_in_flight = std::max(max_in_flight, in_flight);
    reservations += e.type == "quota_reserved";
    if (e.type == "request_completed") completed_at[id] = e.global_position;
    if (e.type == "request_admitted") admitted_at[id] = e.global_position;
  }
  EXPECT_LE(max_in_flight, 5) << "the slot limit held across the crash";
  EXPECT_EQ(reservations, 66) << "no request reserved twice";
  EXPECT_LT(completed_at[first], admitted_at[second]);
  EXPECT_LT(completed_at[second], admitted_at[third]);
}
