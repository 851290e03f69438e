// Clusters: list, add, test.
#include "cli/commands.hpp"
#include "cli/table.hpp"
#include "cli/views.hpp"

namespace provisiond::cli {

int run_clusters_list(context& c, const invocation&) {
  auto r = c.client.get("/v1/clusters");
  return c.finish(r, [&](const json& j) { print_clusters(c.out, j); });
}

int run_clusters_add(context& c, const invocation& inv) {
  json body = json::object();
  if (auto f = inv.value("-f")) {
    auto j = read_json_file(c, *f);
    if (!j) return c.usage(inv, j.error().message);
    body = std::move(*j);
  }
  if (inv.value("-f") == "-" && inv.value("--connection-file") == "-")
    return c.usage(inv, "only one of -f and --connection-file can read stdin");
  for (auto [flag, key] : {std::pair{"--id", "id"},
                           {"--name", "name"},
                           {"--type", "type"},
                           {"--region", "region"},
                           {"--health", "health"}})
    if (auto v = inv.value(flag)) body[key] = *v;
  for (auto [flag, key] : {std::pair{"--cpu", "cpu"},
                           {"--memory-gb", "memoryGb"},
                           {"--storage-gb", "storageGb"},
                           {"--vm-slots", "vmSlots"}}) {
    auto v = inv.value(flag);
    if (!v) continue;
    auto n = parse_integer(flag, *v);
    if (!n) return c.usage(inv, n.error().message);
    if (!body["capacity"].is_object()) body["capacity"] = json::object();
    body["capacity"][key] = *n;
  }
  if (inv.has("--default")) body["default"] = true;
  if (inv.has("--disabled")) body["provisioningEnabled"] = false;
  if (auto f = inv.value("--connection-file")) {
    auto j = read_json_file(c, *f);
    if (!j) return c.usage(inv, "--connection-file: " + j.error().message);
    body["connection"] = std::move(*j);
  }
  if (body.empty()) return c.usage(inv, "clusters add needs -f FILE or the cluster's flags (--name, --type, ...)");
  auto r = c.client.call("POST", "/v1/clusters", body.dump());
  return c.finish(r, [&](const json& j) { print_cluster(c.out, j); });
}

// A test that answered but failed ({"success": false}) exits 5: the
// cluster is unavailable, which is what a script asks.
int run_clusters_test(context& c, const invocation& inv) {
  auto r = c.client.call("POST", "/v1/clusters/" + encode_component(inv.arg(0)) + "/test", std::nullopt);
  int code = c.finish(r, [&](const json& j) { print_cluster_test(c.out, j); });
  if (code != 0) return code;
  bool success = r.json.is_object() && r.json.contains("success") && r.json["success"] == true;
  if (!success) c.err << "provisionctl: cluster " << printable(inv.arg(0)) << " failed its connectivity test\n";
  return success ? 0 : to_int(exit_code::unavailable);
}

}  // namespace provisiond::cli
