#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "events/catalog.hpp"
#include "gateway/routes.hpp"
#include "tests/unit/gateway/in_process_backend.hpp"

using namespace provisiond;
using namespace provisiond::gateway;
using nlohmann::json;

namespace {

std::vector<std::string_view> pieces(std::string_view pattern) {
  std::vector<std::string_view> out;
  while (!pattern.empty()) {
    pattern.remove_prefix(1);
    auto end = pattern.find('/');
    out.push_back(pattern.substr(0, end));
    pattern = end == std::string_view::npos ? std::string_view{} : pattern.substr(end);
  }
  return out;
}

bool is_param(std::string_view piece) {
  return piece.size() > 2 && piece.front() == '{' && piece.back() == '}';
}

// True if one path could match both patterns.
bool overlap(std::string_view a, std::string_view b) {
  auto pa = pieces(a), pb = pieces(b);
  if (pa.size() != pb.size()) return false;
  for (std::size_t i = 0; i < pa.size(); ++i)
    if (!is_param(pa[i]) && !is_param(pb[i]) && pa[i] != pb[i]) return false;
  return true;
}

}  // namespace

TEST(RouteTable, EveryRouteHasAHandlerANeedAndABodyLimit) {
  const std::set<std::string_view> methods = {"GET", "POST", "PUT", "DELETE"};
  ASSERT_FALSE(route_table().empty());
  for (const auto& r : route_table()) {
    SCOPED_TRACE(std::string(r.method) + " " + std::string(r.pattern));
    EXPECT_NE(r.handler, nullptr);
    EXPECT_TRUE(methods.count(r.method));
    EXPECT_LT(static_cast<std::size_t>(r.needs), access_names.size()) << "needs one of the access levels";
    EXPECT_LE(r.body_limit, http_limits{}.body_limit) << "never above the server's limit";
    if (r.method == "GET" || r.method == "DELETE") {
      EXPECT_EQ(r.body_limit, 0u) << "takes no body";
    }
    ASSERT_FALSE(r.pattern.empty());
    EXPECT_EQ(r.pattern.front(), '/');
    for (auto p : pieces(r.pattern)) {
      EXPECT_FALSE(p.empty()) << "no empty segment";
      if (p.find_first_of("{}") != std::string_view::npos) {
        EXPECT_TRUE(is_param(p)) << p;
      }
    }
  }
}

TEST(RouteTable, PatternsAreUniqueAndNeverAmbiguous) {
  std::set<std::pair<std::string_view, std::string_view>> seen;
  for (const auto& r : route_table())
    EXPECT_TRUE(seen.emplace(r.method, r.pattern).second) << r.method << " " << r.pattern << " twice";
  const auto t = route_table();
  for (std::size_t i = 0; i < t.size(); ++i)
    for (std::size_t j = i + 1; j < t.size(); ++j) {
      if (t[i].pattern == t[j].pattern) {
        EXPECT_EQ(t[i].guard, t[j].guard) << t[i].pattern << ": one guard per pattern";
        continue;
      }
      EXPECT_FALSE(overlap(t[i].pattern, t[j].pattern)) << t[i].pattern << " and " << t[j].pattern;
    }
}

TEST(RouteTable, HasOneRoutePerLifecycleActionOfTheCatalog) {
  std::set<std::string> routed, catalog;
  for (const auto& r : route_table()) {
    auto p = pieces(r.pattern);
    if (r.method == "POST" && p.size() == 4 && p[0] == "v1" && p[1] == "requests" &&
        is_one_of(events::lifecycle_actions, p[3]))
      routed.emplace(p[3]);
  }
  for (auto a : events::lifecycle_actions) catalog.emplace(a);
  EXPECT_EQ(routed, catalog);
}

class Routes : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { env_ = new provisiond::testing::in_process_backend(); }
  static void TearDownTestSuite() {
    delete env_;
    env_ = nullptr;
  }
  static provisiond::testing::in_process_backend* env_;

  http_response call(const std::string& method, const std::string& path, const std::string& body = "",
                     std::map<std::string, std::string> query = {}, std::map<std::string, std::string> headers = {}) {
    http_request req;
    req.method = method;
    req.target = path;
    req.path = path;
    req.query = std::move(query);
    req.headers = std::move(headers);
    req.body = body;
    return handle(env_->backend, req);
  }

  // The pattern with each {id} replaced by something that exists.
  std::string concrete(std::string_view pattern) {
    std::string out;
    auto p = pieces(pattern);
    for (std::size_t i = 0; i < p.size(); ++i) {
      out += "/";
      if (!is_param(p[i])) {
        out += p[i];
      } else if (p[i - 1] == "requests") {
        out += env_->request_id;
      } else if (p[i - 1] == "clusters") {
        out += env_->cluster_id;
      } else if (p[i - 1] == "tenants") {
        out += "acme";
      } else if (p[i - 1] == "approval-rules") {
        out += env_->rule_id;
      } else if (p[i - 1] == "webhooks") {
        out += env_->webhook_id;
      } else if (p[i - 1] == "deliveries") {
        out += env_->delivery_id;
      } else if (p[i - 1] == "api-keys") {
        out += "Qm9vdHN0cmFw";  // in process there is no key store: 503, the route exists
      } else {
        ADD_FAILURE() << "no sample id for " << pattern;
      }
    }
    return out;
  }
};

provisiond::testing::in_process_backend* Routes::env_ = nullptr;

TEST_F(Routes, EveryRouteAnswersOnItsMethodAndPath) {
  ASSERT_FALSE(env_->request_id.empty());
  ASSERT_FALSE(env_->rule_id.empty());
  ASSERT_FALSE(env_->delivery_id.empty());
  // DELETE last: it removes what the other routes read.
  std::vector<const route*> order;
  for (const auto& r : route_table())
    if (r.method != "DELETE") order.push_back(&r);
  for (const auto& r : route_table())
    if (r.method == "DELETE") order.push_back(&r);
  for (const auto* r : order) {
    auto path = concrete(r->pattern);
    auto body = r->method == "POST" || r->method == "PUT" ? "{}" : "";
    auto res = call(std::string(r->method), path, body);
    // The sample request has no credentials to deliver: its handler says so.
    if (path.ends_with("/credentials") && res.body.find("no credentials for request") != std::string::npos) continue;
    EXPECT_NE(res.status, 404) << r->method << " " << path << ": " << res.body;
    EXPECT_NE(res.status, 405) << r->method << " " << path << ": " << res.body;
    EXPECT_NE(res.status, 500) << r->method << " " << path << ": " << res.body;
  }
}

TEST_F(Routes, AWrongMethodIsA405ListingTheAllowedOnes) {
  // A cluster that is there now: the walk above may have deleted the sample one.
  auto clusters = env_->clusters->list();
  ASSERT_FALSE(clusters.empty());
  const std::string rid = env_->request_id, cid = clusters.front().id;
  const std::map<std::string, std::string> allow = {
      {"/healthz", "GET"},
      {"/readyz", "GET"},
      {"/metrics", "GET"},
      {"/v1/system", "GET"},
      {"/v1/simulation/ledger", "GET"},
      {"/v1/requests", "GET, POST"},
      {"/v1/requests/" + rid, "GET"},
      {"/v1/requests/" + rid + "/suspend", "POST"},
      {"/v1/requests/" + rid + "/reactivate", "POST"},
      {"/v1/requests/" + rid + "/deprovision", "POST"},
      {"/v1/requests/" + rid + "/retry", "POST"},
      {"/v1/requests/" + rid + "/events", "GET"},
      {"/v1/requests/" + rid + "/state", "GET"},
      {"/v1/manual-requests", "GET"},
      {"/v1/requests/" + rid + "/complete", "POST"},
      {"/v1/requests/" + rid + "/credentials", "GET"},
      {"/v1/requests/" + rid + "/metrics", "GET"},
      {"/v1/clusters", "GET, POST"},
      {"/v1/clusters/" + cid, "GET, PUT, DELETE"},
      {"/v1/clusters/" + cid + "/test", "POST"},
      {"/v1/tenants/acme/quota", "GET, PUT"},
      {"/v1/tenants/acme/usage", "GET"},
      {"/v1/approval-rules", "GET, POST"},
      {"/v1/approval-rules/any", "GET, PUT, DELETE"},
      {"/v1/approvals", "GET"},
      {"/v1/requests/" + rid + "/approve", "POST"},
      {"/v1/requests/" + rid + "/reject", "POST"},
  };
  for (auto& [path, allowed] : allow) {
    auto res = call("PATCH", path);
    EXPECT_EQ(res.status, 405) << path;
    ASSERT_EQ(res.headers.size(), 1u) << path;
    EXPECT_EQ(res.headers[0].first, "Allow");
    EXPECT_EQ(res.headers[0].second, allowed) << path;
    EXPECT_EQ(json::parse(res.body),
              json({{"error", {{"code", "method_not_allowed"}, {"message", "allowed: " + allowed}}}}))
        << path;
  }
}

TEST_F(Routes, NoRouteIsA404NamingMethodAndPath) {
  for (std::string path : {"/v2/anything", "/v1/requests/a/b/c", "/v1/requests/x/launch", "/", "/v1"}) {
    auto res = call("GET", path);
    EXPECT_EQ(res.status, 404) << path;
    EXPECT_EQ(json::parse(res.body)["error"]["message"], "no route for GET " + path);
  }
}

TEST_F(Routes, EmptySegmentsAreIgnored) {
  EXPECT_EQ(call("GET", "//v1//requests/").status, 200);
  EXPECT_EQ(call("GET", "/healthz/").status, 200);
}

TEST_F(Routes, AMalformedRequestIdIsANotFoundRequestAfterTheMethodCheck) {
  auto res = call("GET", "/v1/requests/-x");
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(json::parse(res.body)["error"]["message"], "no request -x");
  EXPECT_EQ(call("POST", "/v1/requests/-x/suspend").status, 404);
  EXPECT_EQ(call("GET", "/v1/requests/-x/suspend").status, 405);
  EXPECT_EQ(call("GET", "/v1/requests/-x/approve").status, 405);
}

TEST_F(Routes, GuardedPathsAnswer404OnceTheMethodMatches) {
  // The method first (it says nothing about what exists), then the caller,
  // then the guard: an unknown cluster is a 404 on every method it has.
  auto cluster = call("DELETE", "/v1/clusters/nope");
  EXPECT_EQ(cluster.status, 404);
  EXPECT_EQ(json::parse(cluster.body)["error"]["message"], "no cluster nope");
  EXPECT_EQ(call("POST", "/v1/clusters/nope/test").status, 404);
  EXPECT_EQ(call("PATCH", "/v1/clusters/nope").status, 405);
  EXPECT_EQ(call("GET", "/v1/clusters/nope/test").status, 405);
  // Credentials and completion of a malformed request id.
  auto complete = call("POST", "/v1/requests/-x/complete", "{}");
  EXPECT_EQ(complete.status, 404);
  EXPECT_EQ(json::parse(complete.body)["error"]["message"], "no request -x");
  // A malformed tenant id is no tenant path at all.
  auto tenant = call("GET", "/v1/tenants/-x/quota");
  EXPECT_EQ(tenant.status, 404);
  EXPECT_EQ(json::parse(tenant.body)["error"]["message"], "no route for GET /v1/tenants/-x/quota");
}

TEST_F(Routes, RoutesOfAPartNotWiredAreNotThere) {
  api_backend bare;  // no governance, clusters or secret store
  http_request req;
  req.method = "GET";
  for (std::string path : {"/v1/approvals", "/v1/tenants/acme/quota", "/v1/approval-rules/r"}) {
    req.path = path;
    auto res = handle(bare, req);
    EXPECT_EQ(res.status, 404) << path;
    EXPECT_EQ(json::parse(res.body)["error"]["message"], "no route for GET " + path);
  }
  req.path = "/v1/clusters";
  EXPECT_EQ(json::parse(handle(bare, req).body)["error"]["message"], "no cluster registry");
  req.path = "/v1/requests/r-1/credentials";
  EXPECT_EQ(json::parse(handle(bare, req).body)["error"]["message"], "no secret store");
  req.path = "/v1/simulation/ledger";
  EXPECT_EQ(json::parse(handle(bare, req).body)["error"]["message"], "no simulation provider");
  req.path = "/readyz";
  EXPECT_EQ(handle(bare, req).status, 200) << "ready unless told otherwise";
}
