// Tenant governance: quota get|set, usage.
#include "cli/commands.hpp"
#include "cli/views.hpp"

namespace provisiond::cli {

namespace {

std::string tenant_path(const std::string& tenant) {
  return "/v1/tenants/" + encode_component(tenant);
}

}  // namespace

int run_quota_get(context& c, const invocation& inv) {
  auto r = c.client.get(tenant_path(inv.arg(0)) + "/quota");
  return c.finish(r, [&](const json& j) { print_quota(c.out, j); });
}

// The API's PUT replaces the whole quota: a limit not given (in the file or
// a flag) is unlimited.
int run_quota_set(context& c, const invocation& inv) {
  json body = json::object();
  if (auto f = inv.value("-f")) {
    auto j = read_json_file(c, *f);
    if (!j) return c.usage(inv, j.error().message);
    body = std::move(*j);
  }
  for (auto [flag, key] : {std::pair{"--max-instances", "maxInstances"},
                           {"--max-cpu", "maxCpu"},
                           {"--max-memory-gb", "maxMemoryGb"},
                           {"--max-storage-gb", "maxStorageGb"}}) {
    auto v = inv.value(flag);
    if (!v) continue;
    if (*v == "unlimited") {
      body[key] = nullptr;
      continue;
    }
    auto n = parse_integer(flag, *v);
    if (!n) return c.usage(inv, std::string(flag) + ": expected an integer or unlimited, got '" + *v + "'");
    body[key] = *n;
  }
  if (body.empty() && !inv.has("-f"))
    return c.usage(inv, "quota set needs the limits (--max-cpu N, ... or unlimited) or -f FILE");
  auto r = c.client.call("PUT", tenant_path(inv.arg(0)) + "/quota", body.dump());
  return c.finish(r, [&](const json& j) { print_quota(c.out, j); });
}

int run_usage(context& c, const invocation& inv) {
  auto r = c.client.get(tenant_path(inv.arg(0)) + "/usage");
  return c.finish(r, [&](const json& j) { print_usage(c.out, j); });
}

}  // namespace provisiond::cli
