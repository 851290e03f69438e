// Requests: submit, get, list, events, history.
#include <variant>

#include "cli/commands.hpp"
#include "cli/views.hpp"

namespace provisiond::cli {

namespace {

std::string request_path(const std::string& id) {
  return "/v1/requests/" + encode_component(id);
}

// --cpu 2 into body["resources"]["cpu"]; false (after printing usage) if not an integer.
bool set_integer(context& c, const invocation& inv, const char* flag, json& obj, const char* key, int& failed) {
  auto v = inv.value(flag);
  if (!v) return true;
  auto n = parse_integer(flag, *v);
  if (!n) {
    failed = c.usage(inv, n.error().message);
    return false;
  }
  obj[key] = *n;
  return true;
}

// The submission from -f and the flags, or the exit code of a usage error.
std::variant<json, int> submission(context& c, const invocation& inv) {
  json body = json::object();
  if (auto f = inv.value("-f")) {
    auto j = read_json_file(c, *f);
    if (!j) return c.usage(inv, j.error().message);
    body = std::move(*j);
  }
  bool any = inv.has("-f");
  for (auto [flag, key] : {std::pair{"--tenant", "tenantId"},
                           {"--order", "orderId"},
                           {"--type", "type"},
                           {"--region", "region"},
                           {"--provider", "provider"},
                           {"--id", "id"}})
    if (auto v = inv.value(flag)) {
      body[key] = *v;
      any = true;
    }
  int failed = 0;
  for (auto [flag, key] : {std::pair{"--cpu", "cpu"}, {"--memory-gb", "memoryGb"}, {"--storage-gb", "storageGb"}}) {
    if (!inv.has(flag)) continue;
    if (!body["resources"].is_object()) body["resources"] = json::object();
    if (!set_integer(c, inv, flag, body["resources"], key, failed)) return failed;
    any = true;
  }
  if (inv.has("--depends-on")) {
    body["dependsOn"] = inv.values("--depends-on");
    any = true;
  }
  for (const auto& kv : inv.values("--meta")) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) return c.usage(inv, "--meta: expected KEY=VALUE, got '" + kv + "'");
    if (!body["metadata"].is_object()) body["metadata"] = json::object();
    body["metadata"][kv.substr(0, eq)] = kv.substr(eq + 1);
    any = true;
  }
  if (!any) return c.usage(inv, "submit needs -f FILE or the request's flags (--tenant, --order, --type, ...)");
  return body;
}

}  // namespace

int run_submit(context& c, const invocation& inv) {
  auto body = submission(c, inv);
  if (auto* code = std::get_if<int>(&body)) return *code;
  header_list extra;
  if (auto key = inv.value("--idempotency-key")) extra.emplace_back("Idempotency-Key", *key);
  auto r = c.client.call("POST", "/v1/requests", std::get<json>(body).dump(), extra);
  return c.finish(r, [&](const json& j) { print_id_state(c.out, j); });
}

int run_get(context& c, const invocation& inv) {
  auto r = c.client.get(request_path(inv.arg(0)));
  return c.finish(r, [&](const json& j) { print_request(c.out, j); });
}

int run_list(context& c, const invocation& inv) {
  std::string query;
  auto add = [&](const char* key, const std::optional<std::string>& v) {
    if (v) query += std::string(query.empty() ? "?" : "&") + key + "=" + encode_component(*v);
  };
  add("tenantId", inv.value("--tenant"));
  add("state", inv.value("--state"));
  add("limit", inv.value("--limit"));
  if (!inv.has("--all")) {
    add("cursor", inv.value("--cursor"));
    auto r = c.client.get("/v1/requests" + query);
    return c.finish(r, [&](const json& page) {
      print_request_list(c.out, page);
      if (page.is_object() && page.contains("nextCursor") && page["nextCursor"].is_string())
        c.out << "(more: --cursor " << text_of(page["nextCursor"]) << ")\n";
    });
  }
  // Every page, as one document: {"items":[all of them],"nextCursor":null}.
  json all = {{"items", json::array()}, {"nextCursor", nullptr}};
  std::optional<std::string> cursor = inv.value("--cursor");
  do {
    std::string q = query;
    if (cursor) q += std::string(q.empty() ? "?" : "&") + "cursor=" + encode_component(*cursor);
    auto r = c.client.get("/v1/requests" + q);
    if (!r.ok()) return c.fail(r);
    if (r.json.is_discarded() || !r.json.is_object() || !r.json.contains("items") || !r.json["items"].is_array()) {
      c.err << "provisionctl: GET /v1/requests answered something other than {items, nextCursor}\n";
      return to_int(exit_code::unavailable);
    }
    for (auto& item : r.json["items"]) all["items"].push_back(std::move(item));
    cursor.reset();
    if (r.json.contains("nextCursor") && r.json["nextCursor"].is_string())
      cursor = r.json["nextCursor"].get<std::string>();
  } while (cursor);
  if (c.json())
    c.out << all.dump() << "\n";
  else
    print_request_list(c.out, all);
  return 0;
}

int run_events(context& c, const invocation& inv) {
  auto r = c.client.get(request_path(inv.arg(0)) + "/events");
  return c.finish(r, [&](const json& j) { print_events(c.out, j); });
}

int run_history(context& c, const invocation& inv) {
  std::string target = request_path(inv.arg(0)) + "/state";
  if (auto at = inv.value("--at")) {
    auto n = parse_integer("--at", *at);
    if (!n) return c.usage(inv, n.error().message);
    target += "?at=" + std::to_string(*n);
  }
  auto r = c.client.get(target);
  return c.finish(r, [&](const json& j) { print_request(c.out, j); });
}

}  // namespace provisiond::cli
