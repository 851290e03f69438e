// Scale-out under change: rolling restarts, the shared capacity book,
// admin state and secrets across instances, webhooks sent by the owner.
// Label `scaleout` (fixture: fixture.hpp).
#include "tests/scaleout/fixture.hpp"

using namespace provisiond::testing;
using namespace std::chrono_literals;
using nlohmann::json;

TEST_F(ScaleOut, ARollingRestartOfEveryInstanceUnderLoadLosesNothingAndCreatesNothingTwice) {
  start_sim({{"minDelayMs", 10}, {"maxDelayMs", 40}, {"steps", {{"allocate", {{"responseLost", 0.05}}}}}});
  for (std::size_t k = 0; k < 3; ++k) start_instance(k);
  live = 3;
  std::vector<std::string> ids;
  std::atomic<bool> loading{true};
  std::atomic<int> sent{0};
  std::mutex ids_mutex;
  std::thread load([&] {
    for (int i = 0; loading || i < 400; ++i) {
      auto id = submit_http(i % 3, "tenant-" + std::to_string(i % 30), "o-" + std::to_string(i));
      std::lock_guard lock{ids_mutex};
      if (!id.empty()) ids.push_back(id);
      ++sent;
    }
  });
  for (std::size_t k = 0; k < 3; ++k) {
    while (sent.load() < 60 * static_cast<int>(k + 1)) std::this_thread::sleep_for(50ms);
    EXPECT_EQ(instances[k]->terminate(), 0) << "instance " << k << " stops cleanly";
    start_instance(k);
  }
  loading = false;
  load.join();
  ASSERT_EQ(ids.size(), static_cast<std::size_t>(sent.load())) << "every write was answered 202 in the end";
  ASSERT_TRUE(all_terminal(0, ids, 300s));
  wait_no_lag({0, 1, 2});
  check_invariants(0, ids);
}

TEST_F(ScaleOut, ClusterCapacityIsSharedSoTwoInstancesNeverPlacePastItsTotalEvenAfterRedisLosesIt) {
  // One cluster with room for 6 VMs, known to both instances.
  extra_config = {{"clusters",
                   {{{"id", "tiny"}, {"type", "simulation"}, {"region", "test-1"}, {"default", true},
                     {"capacity", {{"cpu", 1000}, {"memoryGb", 1000}, {"storageGb", 100000}, {"vmSlots", 6}}},
                     {"health", "online"}, {"provisioningEnabled", true}, {"connection", json::object()}}}}};
  start_sim(json::object());
  start_instance(0);
  start_instance(1);
  auto run = [&](int from, int to) {
    std::vector<std::string> ids;
    for (int i = from; i < to; ++i) {
      auto id = submit_http(i % 2, "tenant-" + std::to_string(i % 10), "cap-" + std::to_string(i), "test-1");
      EXPECT_FALSE(id.empty());
      ids.push_back(id);
    }
    EXPECT_TRUE(all_terminal(0, ids, 120s));
    return ids;
  };
  auto completed_of = [&](const std::vector<std::string>& ids) {
    std::vector<std::string> out;
    for (auto& [id, st] : states(0, ids))
      if (st == "Completed") out.push_back(id);
    return out;
  };
  auto first = run(0, 20);
  auto completed = completed_of(first);
  EXPECT_EQ(completed.size(), 6u) << "the 20 requests came through both instances; the cluster holds 6";
  for (auto& [id, st] : states(0, first)) {
    if (st == "Completed") continue;
    EXPECT_EQ(st, "Failed") << id;
    auto evs = parse(http_call(port(0), "GET", "/v1/requests/" + id + "/events"));
    EXPECT_NE(evs.dump().find("vmSlots needs 1, 0 free"), std::string::npos) << id << ": " << evs.dump();
  }
  wait_no_lag({0, 1});
  for (std::size_t k : {0u, 1u}) {
    auto c = parse(http_call(port(k), "GET", "/v1/clusters/tiny"));
    EXPECT_EQ(c["used"]["vmSlots"], 6) << "instance " << k << ": " << c.dump();
  }

  // Redis loses everything; two services are deprovisioned meanwhile. The
  // counters are rebuilt from the journal at the next placement: 4 still held.
  redis->stop();
  ASSERT_TRUE(redis->start());
  ASSERT_GE(completed.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    http_reply r;
    for (int attempt = 0; attempt < 100; ++attempt) {
      r = http_call(port(attempt % 2), "POST", "/v1/requests/" + completed[i] + "/deprovision", "{}",
                    {{"Content-Type", "application/json"}});
      if (r.status == 202 || r.status == 200) break;
      std::this_thread::sleep_for(100ms);  // 503 while the leases are taken again
    }
    EXPECT_TRUE(r.status == 202 || r.status == 200) << r.status << " " << r.body;
  }
  auto deprovisioned = [&] {
    auto s = states(0, {completed[0], completed[1]});
    return s[completed[0]] == "RolledBack" && s[completed[1]] == "RolledBack";  // deprovisioned
  };
  for (int i = 0; i < 600 && !deprovisioned(); ++i) std::this_thread::sleep_for(100ms);
  ASSERT_TRUE(deprovisioned());
  wait_no_lag({0, 1});
  auto second = run(20, 30);
  EXPECT_EQ(completed_of(second).size(), 2u) << "6 slots, 4 held: exactly 2 more fit";
  wait_no_lag({0, 1});
  for (std::size_t k : {0u, 1u}) {
    auto c = parse(http_call(port(k), "GET", "/v1/clusters/tiny"));
    EXPECT_EQ(c["used"]["vmSlots"], 6) << "instance " << k << ": " << c.dump();
  }
  std::vector<std::string> all = first;
  all.insert(all.end(), second.begin(), second.end());
  check_invariants(0, all);
}

TEST_F(ScaleOut, ClustersRulesQuotasAndSecretsWrittenOnOneInstanceServeTheOthersAndNoPlaintextIsOnKafka) {
  start_sim(json::object());
  start_instance(0);
  start_instance(1);
  // Admin writes retry while the admin partition's lease is still being taken.
  // (and 503 "busy forwarding", like any client told Retry-After).
  auto call = [&](std::size_t k, const std::string& method, const std::string& path, const std::string& body,
                  std::map<std::string, std::string> headers) {
    http_reply r;
    for (int attempt = 0; attempt < 300; ++attempt) {
      r = http_call(port(k), method, path, body, headers);
      if (r.status != 503) break;
      std::this_thread::sleep_for(100ms);
    }
    return r;
  };
  auto write = [&](std::size_t k, const std::string& method, const std::string& path, const json& body) {
    return call(k, method, path, body.dump(), {{"Content-Type", "application/json"}});
  };
  const std::string token = "cluster-token-Zq81xW", password = "delivered-pw-8Hn2Lk";
  auto created = write(1, "POST", "/v1/clusters",
                       {{"id", "api-sim"}, {"type", "simulation"}, {"region", "api-1"}, {"default", true},
                        {"capacity", {{"cpu", 100}, {"memoryGb", 100}, {"storageGb", 1000}, {"vmSlots", 10}}},
                        {"connection", {{"apiToken", token}}}});
  ASSERT_EQ(created.status, 201) << created.body;
  ASSERT_EQ(write(0, "POST", "/v1/clusters",
                  {{"id", "api-manual"}, {"type", "manual"}, {"region", "api-1"},
                   {"capacity", {{"cpu", 100}, {"memoryGb", 100}, {"storageGb", 1000}, {"vmSlots", 10}}}})
                .status,
            201);
  auto again = write(0, "POST", "/v1/clusters",
                     {{"id", "api-sim"}, {"type", "simulation"}, {"region", "api-1"},
                      {"capacity", {{"cpu", 1}, {"memoryGb", 1}, {"storageGb", 1}, {"vmSlots", 1}}}});
  EXPECT_EQ(again.status, 409) << "the same answer as on one instance: " << again.body;
  ASSERT_EQ(write(0, "PUT", "/v1/tenants/t-quota/quota", {{"maxCpu", 2}}).status, 200);
  ASSERT_EQ(write(1, "POST", "/v1/approval-rules", {{"name", "gate t-ruled"}, {"priority", 5}, {"tenantId", "t-ruled"}})
                .status,
            201);
  wait_no_lag({0, 1});
  for (std::size_t k : {0u, 1u}) {
    auto c = http_call(port(k), "GET", "/v1/clusters/api-sim");
    EXPECT_EQ(c.status, 200) << "instance " << k;
    EXPECT_EQ(c.body.find(token), std::string::npos);
    EXPECT_EQ(parse(http_call(port(k), "GET", "/v1/tenants/t-quota/quota"))["maxCpu"], 2) << "instance " << k;
    EXPECT_EQ(parse(http_call(port(k), "GET", "/v1/approval-rules"))["items"].size(), 1u) << "instance " << k;
  }

  // Requests of tenants owned by either instance see the same admin state.
  std::vector<std::string> placed, over_quota, gated;
  for (int i = 0; i < 6; ++i)
    placed.push_back(submit_http(i % 2, "t-api-" + std::to_string(i), "api-" + std::to_string(i), "api-1"));
  json big{{"tenantId", "t-quota"}, {"orderId", "q-1"}, {"type", "vps"}, {"region", "api-1"},
           {"resources", {{"cpu", 4}, {"memoryGb", 2}, {"storageGb", 20}}}};
  auto q = write(1, "POST", "/v1/requests", big);
  ASSERT_EQ(q.status, 202) << q.body;
  over_quota.push_back(parse(q)["id"]);
  gated.push_back(submit_http(0, "t-ruled", "ruled-1", "api-1"));
  ASSERT_TRUE(all_terminal(0, placed, 60s));
  wait_no_lag({0, 1});
  for (auto& [id, st] : states(1, placed)) EXPECT_EQ(st, "Completed") << id;
  ASSERT_TRUE(all_terminal(0, over_quota, 60s));
  EXPECT_EQ(parse(http_call(port(0), "GET", "/v1/requests/" + over_quota[0]))["failure"]["code"], "quota_exceeded");
  std::string gated_state;
  for (int i = 0; i < 100 && gated_state != "PendingApproval"; ++i, std::this_thread::sleep_for(100ms))
    gated_state = states(1, gated)[gated[0]];
  EXPECT_EQ(gated_state, "PendingApproval");

  // A manual delivery completed through one instance; the tenant fetches the
  // credential from the other, once.
  auto manual = submit_http(0, "t-manual", "manual-1", "api-1");
  json spec{{"tenantId", "t-manual"}, {"orderId", "manual-2"}, {"type", "vps"}, {"region", "api-1"},
            {"provider", "manual"}, {"resources", {{"cpu", 1}, {"memoryGb", 1}, {"storageGb", 10}}}};
  auto m = write(1, "POST", "/v1/requests", spec);
  ASSERT_EQ(m.status, 202) << m.body;
  std::string mid = parse(m)["id"];
  json r;
  for (int i = 0; i < 300; ++i, std::this_thread::sleep_for(50ms)) {
    r = parse(http_call(port(0), "GET", "/v1/requests/" + mid));
    if (r.contains("steps") && r["steps"][2]["status"] == "AwaitingManualInput") break;
  }
  ASSERT_EQ(r["steps"][2]["status"], "AwaitingManualInput") << r.dump();
  auto done = write(0, "POST", "/v1/requests/" + mid + "/complete",
                    {{"host", "10.9.8.7"}, {"username", "root"}, {"password", password}});
  ASSERT_EQ(done.status, 200) << done.body;
  ASSERT_TRUE(all_terminal(1, {mid, manual}, 60s));
  auto cred = call(1, "GET", "/v1/requests/" + mid + "/credentials", "", {{"X-Tenant-Id", "t-manual"}});
  ASSERT_EQ(cred.status, 200) << cred.body;
  EXPECT_EQ(parse(cred)["password"], password);
  EXPECT_EQ(call(0, "GET", "/v1/requests/" + mid + "/credentials", "", {{"X-Tenant-Id", "t-manual"}}).status, 404)
      << "delivered once, whichever instance is asked";

  // Sealed on provisioning.secrets; neither secret is in any record in the clear.
  auto sealed = read_topic(kafka.bootstrap(), "provisioning.secrets");
  EXPECT_GE(sealed.size(), 2u) << "the cluster token and the credential (and the credential's tombstone)";
  for (const auto* topic : {"provisioning.secrets", "provisioning.journal", "provisioning.commands"})
    for (auto& rec : read_topic(kafka.bootstrap(), topic)) {
      EXPECT_EQ(rec.value.find(token), std::string::npos) << topic;
      EXPECT_EQ(rec.value.find(password), std::string::npos) << topic;
    }
}

TEST_F(ScaleOut, WebhooksAreSentByTheTenantsOwnerOncePerEventAndAFailoverSendsOnlyWhatWasNotSettled) {
  webhook_receiver receiver;
  std::string why;
  ASSERT_TRUE(receiver.start(&why)) << why;
  extra_config = {{"webhooks", {{"allow", {"127.0.0.1/32"}}, {"retryDelaysMs", {200, 400, 800}}}}};
  start_sim({{"minDelayMs", 20}, {"maxDelayMs", 60}});
  start_instance(0);
  start_instance(1);
  wait_owned({0, 1});
  // Endpoint writes are admin state: sent to either instance, written by the admin owner.
  std::map<std::string, std::string> secret;  // tenant → its endpoint's secret
  for (int t = 0; t < 8; ++t) {
    std::string tenant = "hooked-" + std::to_string(t);
    json types = completed_request_types;  // every event of the stream, under its journal type
    json body{{"url", receiver.url("/ok/" + tenant)}, {"events", types}};
    http_reply r;
    for (int attempt = 0; attempt < 50 && r.status != 201; ++attempt) {
      r = http_call(port(t % 2), "POST", "/v1/tenants/" + tenant + "/webhooks", body.dump());
      if (r.status != 201) std::this_thread::sleep_for(100ms);
    }
    ASSERT_EQ(r.status, 201) << r.body;
    secret[tenant] = parse(r)["secret"];
  }
  wait_no_lag({0, 1});
  for (std::size_t k = 0; k < 2; ++k)
    for (auto& [tenant, unused] : secret)
      EXPECT_EQ(parse(http_call(port(k), "GET", "/v1/tenants/" + tenant + "/webhooks"))["items"].size(), 1u)
          << "instance " << k << " knows " << tenant << "'s endpoint";

  // What the receiver got per event: the delivery ids and how many times.
  auto received = [&] {
    std::map<std::string, std::pair<std::set<std::string>, int>> out;
    for (auto& [key, seen] : receiver.by_event()) out[key.first] = seen;
    return out;
  };
  auto events_of = [&](const std::vector<std::string>& ids) {
    std::set<std::string> out;
    for (auto& id : ids)
      for (auto& e : parse(http_call(port(0), "GET", "/v1/requests/" + id + "/events")))
        if (std::count(completed_request_types.begin(), completed_request_types.end(), e["type"].get<std::string>()))
          out.insert(e["eventId"]);  // the types subscribed to (a resumed request may add others)
    return out;
  };
  auto wait_delivered = [&](const std::set<std::string>& expected) {
    for (int i = 0; i < 600; ++i) {
      auto got = received();
      if (std::all_of(expected.begin(), expected.end(), [&](auto& e) { return got.count(e); })) return;
      std::this_thread::sleep_for(100ms);
    }
    ADD_FAILURE() << "not every event was delivered in 60 s";
  };

  std::vector<std::string> first;
  for (int i = 0; i < 32; ++i) first.push_back(submit_http(i % 2, "hooked-" + std::to_string(i % 8), "w1-" + std::to_string(i)));
  ASSERT_TRUE(all_terminal(0, first, 120s));
  wait_no_lag({0, 1});
  auto expected = events_of(first);
  wait_delivered(expected);
  auto got = received();
  for (auto& e : expected) {
    EXPECT_EQ(got[e].first.size(), 1u) << e;
    EXPECT_EQ(got[e].second, 1) << e << ": sent by one instance, once";
  }
  for (auto& [tenant, s] : secret) {
    auto v = receiver.verify_all(s, "/ok/" + tenant);
    EXPECT_EQ(v["verified"], v["total"]) << tenant << ": " << v.dump();
  }
  // Every outcome is recorded and on the changelog before the kill.
  for (int i = 0; i < 300 && metric(0, "provisiond_webhook_deliveries_total") +
                                     metric(1, "provisiond_webhook_deliveries_total") < expected.size();
       ++i)
    std::this_thread::sleep_for(50ms);
  wait_no_lag({0, 1});

  // Each instance's own record (not forwarded): nothing of the first batch is
  // pending anywhere, whoever sent it.
  for (std::size_t k = 0; k < 2; ++k)
    for (auto& [tenant, unused] : secret) {
      auto hooks = parse(http_call(port(k), "GET", "/v1/tenants/" + tenant + "/webhooks"));
      std::string hook = hooks["items"][0]["id"];
      std::size_t pending = 0;
      for (int i = 0; i < 100; ++i) {
        auto page = parse(http_call(port(k), "GET", "/v1/tenants/" + tenant + "/webhooks/" + hook +
                                                        "/deliveries?status=pending&limit=500",
                                    "", {{"x-provisiond-forwarded", "test"}}));
        pending = page["items"].size();
        if (pending == 0) break;
        std::this_thread::sleep_for(100ms);
      }
      EXPECT_EQ(pending, 0u) << "instance " << k << " still has " << tenant << "'s deliveries pending";
    }

  // kill -9 one instance with a second batch under way: its tenants move; the
  // survivor sends what was not settled (the first batch was), one id per event.
  live = 1;
  std::vector<std::string> second;
  for (int i = 0; i < 32; ++i) second.push_back(submit_http(0, "hooked-" + std::to_string(i % 8), "w2-" + std::to_string(i)));
  std::this_thread::sleep_for(300ms);
  instances[1]->crash();
  ASSERT_TRUE(all_terminal(0, second, 180s));
  wait_no_lag({0});
  auto more = events_of(second);
  wait_delivered(more);
  got = received();
  std::size_t resent_first = 0, twice = 0;
  for (auto& e : expected) resent_first += got[e].second > 1;
  for (auto& e : more) {
    EXPECT_EQ(got[e].first.size(), 1u) << e << " got " << got[e].first.size() << " delivery ids";
    twice += got[e].second > 1;
  }
  EXPECT_EQ(resent_first, 0u) << "deliveries settled before the kill were sent again";
  std::printf("scaleout/webhooks: %zu + %zu events delivered; after the kill %zu of the second batch arrived twice (same id)\n",
              expected.size(), more.size(), twice);
}
