// docs/openapi.json against the code: the route table (gateway/routes.hpp)
// and the catalogs the document's enums repeat. A route the document lacks,
// an operation no route serves, a role or body limit that differs, an error
// response not in the shared shape, or an enum that drifted from the code
// fails here.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/cluster.hpp"
#include "events/catalog.hpp"
#include "events/kafka/kafka.hpp"
#include "gateway/api.hpp"
#include "gateway/routes.hpp"
#include "webhooks/registry.hpp"

#ifndef OPENAPI_DOCUMENT
#error "OPENAPI_DOCUMENT must name docs/openapi.json (set by tests/openapi/CMakeLists.txt)"
#endif

using namespace provisiond;
using nlohmann::json;

namespace {

const std::set<std::string> http_methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"};

// Test-local: the document is read once for every test.
const json& document() {
  static const json doc = [] {
    std::ifstream in(OPENAPI_DOCUMENT);
    if (!in) return json();
    std::stringstream text;
    text << in.rdbuf();
    return json::parse(text.str(), nullptr, false);
  }();
  return doc;
}

std::string upper(const std::string& s) {
  std::string out = s;
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Follows `{"$ref": "#/..."}` inside the document (chains too).
const json& resolve(const json& node) {
  const json* at = &node;
  for (int hops = 0; at->is_object() && at->contains("$ref") && hops < 16; ++hops) {
    auto ref = (*at)["$ref"].get<std::string>();
    if (ref.rfind("#/", 0) != 0) break;
    at = &document().at(json::json_pointer(ref.substr(1)));
  }
  return *at;
}

// "METHOD /pattern" for every route of the table.
std::set<std::string> table_operations() {
  std::set<std::string> out;
  for (const auto& r : gateway::route_table()) out.insert(std::string(r.method) + " " + std::string(r.pattern));
  return out;
}

struct operation {
  std::string method;  // upper case
  std::string path;
  const json* item;  // the path item
  const json* op;
};

std::vector<operation> document_operations() {
  std::vector<operation> out;
  for (auto& [path, item] : document().at("paths").items())
    for (auto& [method, op] : item.items())
      if (http_methods.count(method)) out.push_back({upper(method), path, &item, &op});
  return out;
}

const operation* find_operation(std::string_view method, std::string_view pattern) {
  static const auto ops = document_operations();
  for (auto& o : ops)
    if (o.method == method && o.path == pattern) return &o;
  return nullptr;
}

std::vector<std::string> template_names(const std::string& path) {
  std::vector<std::string> out;
  for (std::size_t i = path.find('{'); i != std::string::npos; i = path.find('{', i + 1))
    out.push_back(path.substr(i + 1, path.find('}', i) - i - 1));
  return out;
}

// The operation's parameters with the path item's, resolved.
std::vector<const json*> parameters(const operation& o) {
  std::vector<const json*> out;
  for (const json* level : {o.item, o.op})
    if (level->contains("parameters"))
      for (auto& p : (*level)["parameters"]) out.push_back(&resolve(p));
  return out;
}

// True if `schema` is the Error schema, or a oneOf/anyOf that offers it.
bool is_error_schema(const json& schema) {
  if (schema.is_object() && schema.value("$ref", "") == "#/components/schemas/Error") return true;
  for (const char* k : {"oneOf", "anyOf"})
    if (schema.is_object() && schema.contains(k))
      for (auto& s : schema[k])
        if (is_error_schema(s)) return true;
  return false;
}

std::vector<std::string> enum_of(const std::string& schema) {
  const auto& s = document().at("components").at("schemas").at(schema);
  return s.contains("enum") ? s["enum"].get<std::vector<std::string>>() : std::vector<std::string>{};
}

template <class Names>
std::vector<std::string> strings(const Names& names) {
  return std::vector<std::string>(names.begin(), names.end());
}

class OpenApi : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(document().is_object()) << OPENAPI_DOCUMENT << " is missing or not JSON";
    ASSERT_TRUE(document().contains("paths"));
  }
};

}  // namespace

TEST_F(OpenApi, IsVersion310WithTheLocalServer) {
  EXPECT_EQ(document().value("openapi", ""), "3.1.0");
  ASSERT_TRUE(document().contains("servers"));
  EXPECT_EQ(document()["servers"].at(0).value("url", ""), "http://127.0.0.1:8080");
}

TEST_F(OpenApi, EveryRouteOfTheTableIsDocumented) {
  for (auto& route : table_operations()) {
    auto space = route.find(' ');
    EXPECT_NE(find_operation(route.substr(0, space), route.substr(space + 1)), nullptr)
        << route << " is a route (gateway/routes.cpp) but docs/openapi.json has no such operation";
  }
}

TEST_F(OpenApi, EveryDocumentedOperationIsARoute) {
  const auto table = table_operations();
  for (auto& o : document_operations())
    EXPECT_TRUE(table.count(o.method + " " + o.path))
        << o.method << " " << o.path << " is in docs/openapi.json but no route serves it (gateway/routes.cpp)";
}

TEST_F(OpenApi, EachOperationStatesTheRoleAndBodyLimitOfItsRoute) {
  for (const auto& r : gateway::route_table()) {
    auto* o = find_operation(r.method, r.pattern);
    if (!o) continue;  // reported above
    SCOPED_TRACE(std::string(r.method) + " " + std::string(r.pattern));
    EXPECT_EQ(o->op->value("x-provisiond-role", ""), std::string(gateway::to_string(r.needs)));
    ASSERT_TRUE(o->op->contains("x-provisiond-body-limit"));
    EXPECT_EQ((*o->op)["x-provisiond-body-limit"].get<std::size_t>(), r.body_limit);
    // A route that takes a body documents it (and the 413 for too large);
    // one that takes none documents no body.
    EXPECT_EQ(o->op->contains("requestBody"), r.body_limit > 0);
    if (r.body_limit > 0 && o->op->contains("requestBody")) {
      const auto& body = resolve(o->op->at("requestBody"));
      EXPECT_TRUE(body.contains("content") && body["content"].contains("application/json"));
      EXPECT_TRUE(o->op->at("responses").contains("413"));
    }
  }
}

TEST_F(OpenApi, OperationIdsAreUniqueAndEveryOperationHasATag) {
  std::set<std::string> ids;
  std::set<std::string> tags;
  for (auto& t : document().at("tags")) tags.insert(t.at("name").get<std::string>());
  for (auto& o : document_operations()) {
    SCOPED_TRACE(o.method + " " + o.path);
    ASSERT_TRUE(o.op->contains("operationId"));
    EXPECT_TRUE(ids.insert((*o.op)["operationId"].get<std::string>()).second) << "operationId used twice";
    ASSERT_TRUE(o.op->contains("tags") && !(*o.op)["tags"].empty());
    for (auto& t : (*o.op)["tags"]) EXPECT_TRUE(tags.count(t.get<std::string>())) << t << " is not a declared tag";
  }
}

TEST_F(OpenApi, PathParametersAreTheTemplatesNames) {
  for (auto& o : document_operations()) {
    SCOPED_TRACE(o.method + " " + o.path);
    std::multiset<std::string> declared;
    for (auto* p : parameters(o))
      if (p->value("in", "") == "path") {
        declared.insert(p->value("name", ""));
        EXPECT_TRUE(p->value("required", false)) << "a path parameter is required";
      }
    auto names = template_names(o.path);
    EXPECT_EQ(declared, std::multiset<std::string>(names.begin(), names.end()));
  }
}

TEST_F(OpenApi, ErrorResponsesUseTheSharedErrorShape) {
  for (auto& o : document_operations()) {
    SCOPED_TRACE(o.method + " " + o.path);
    const auto& responses = o.op->at("responses");
    for (auto& [code, r] : responses.items()) {
      if (code == "default" || std::stoi(code) < 400) continue;
      const auto& resp = resolve(r);
      ASSERT_TRUE(resp.contains("content") && resp["content"].contains("application/json")) << code << " has no JSON body";
      EXPECT_TRUE(is_error_schema(resp["content"]["application/json"].value("schema", json::object())))
          << code << " is not the Error schema";
      if (code == "503") {
        EXPECT_TRUE(resp.contains("headers") && resp["headers"].contains("Retry-After")) << "503 names Retry-After";
      }
    }
    // What every route can answer: bad encoding of the target or a header
    // (400), an internal error (500), a refusal or a busy instance (503).
    for (const char* code : {"400", "500", "503"}) EXPECT_TRUE(responses.contains(code)) << "documents " << code;
  }
}

TEST_F(OpenApi, RoutesThatCanNotFindTheirResourceDocument404) {
  for (const auto& r : gateway::route_table()) {
    auto* o = find_operation(r.method, r.pattern);
    if (!o) continue;
    SCOPED_TRACE(std::string(r.method) + " " + std::string(r.pattern));
    // A guard answers 404 when what the path names is not there (or the
    // feature is not wired); a path parameter names something that may not exist.
    if (r.guard || r.pattern.find('{') != std::string_view::npos) {
      EXPECT_TRUE(o->op->at("responses").contains("404"));
    }
  }
}

TEST_F(OpenApi, TheErrorSchemaIsWhatErrorResponseWrites) {
  const auto& schema = document().at("components").at("schemas").at("Error");
  const auto& inner = schema.at("properties").at("error");
  auto with_field = json::parse(gateway::error_response(make_error(errc::invalid_argument, "bad", "resources.cpu")).body);
  auto without = json::parse(gateway::error_response(make_error(errc::not_found, "no request x")).body);
  for (const auto* body : {&with_field, &without}) {
    ASSERT_EQ(body->size(), 1u);
    ASSERT_TRUE(body->contains("error"));
    for (auto& [k, v] : (*body)["error"].items()) {
      EXPECT_TRUE(inner.at("properties").contains(k)) << k << " is written but not in the Error schema";
      EXPECT_TRUE(v.is_string());
    }
    for (auto& k : inner.at("required")) EXPECT_TRUE((*body)["error"].contains(k.get<std::string>())) << k;
  }
  EXPECT_EQ(with_field["error"]["field"], "resources.cpu");
  EXPECT_FALSE(without["error"].contains("field")) << "field is optional: absent when no input is to blame";
  // The 405 is documented once, with its Allow header.
  const auto& allowed = document().at("components").at("responses").at("MethodNotAllowed");
  EXPECT_TRUE(allowed.at("headers").contains("Allow"));
}

TEST_F(OpenApi, EnumsFollowTheCode) {
  EXPECT_EQ(enum_of("RequestState"), strings(events::lifecycle_names));
  EXPECT_EQ(enum_of("StepName"), strings(events::step_names));
  EXPECT_EQ(enum_of("StepStatus"), strings(events::step_status_names));
  EXPECT_EQ(enum_of("RequestType"), strings(events::request_types));
  EXPECT_EQ(enum_of("ProviderType"), strings(cluster_types));
  // Webhooks subscribe to "*", the lifecycle topics and the request journal's types.
  const auto& subscribable = webhooks::subscribable_types();
  std::vector<std::string> webhook_events{"*"};
  webhook_events.insert(webhook_events.end(), subscribable.begin(), subscribable.end());
  EXPECT_EQ(enum_of("WebhookEventType"), webhook_events);
  std::vector<std::string> journal;
  for (auto& t : subscribable)
    if (std::find(events::kafka::lifecycle_topics.begin(), events::kafka::lifecycle_topics.end(), t) ==
        events::kafka::lifecycle_topics.end())
      journal.push_back(t);
  EXPECT_EQ(enum_of("JournalEventType"), journal);
  // Each lifecycle action is a route and a documented operation.
  for (auto action : events::lifecycle_actions)
    EXPECT_NE(find_operation("POST", "/v1/requests/{id}/" + std::string(action)), nullptr) << action;
}

TEST_F(OpenApi, TheLiveStreamIsServerSentEvents) {
  auto* o = find_operation("GET", "/v1/events/stream");
  ASSERT_NE(o, nullptr);
  EXPECT_TRUE(o->op->at("responses").at("200").at("content").contains("text/event-stream"));
  std::set<std::string> names;
  for (auto* p : parameters(*o)) names.insert(p->value("in", "") + ":" + p->value("name", ""));
  for (const char* want : {"query:requestId", "query:tenantId", "query:type", "query:lastEventId", "header:Last-Event-ID"})
    EXPECT_TRUE(names.count(want)) << want;
  for (const char* schema : {"StreamEvent", "StreamDropped"})
    EXPECT_TRUE(document().at("components").at("schemas").contains(schema)) << schema;
}
