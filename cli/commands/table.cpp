// The command table, the help command, and what every command shares.
#include <fstream>
#include <sstream>

#include "cli/commands.hpp"
#include "cli/table.hpp"

namespace provisiond::cli {

namespace {

int run_help(context& c, const invocation& inv);

const std::vector<command_spec>& commands() {
  static const std::vector<command_spec> table = {
      {"submit",
       "",
       0,
       0,
       "order a service: POST /v1/requests (-f FILE, or the flags; flags override the file)",
       {{"-f", "FILE", "the request body as JSON ('-': stdin)"},
        {"--tenant", "TENANT", "tenantId"},
        {"--order", "ORDER", "orderId"},
        {"--type", "TYPE", "vps, private-cloud, managed-database, object-storage, namespace"},
        {"--region", "REGION", "region"},
        {"--provider", "PROVIDER", "cluster type (default simulation)"},
        {"--cpu", "N", "resources.cpu"},
        {"--memory-gb", "N", "resources.memoryGb"},
        {"--storage-gb", "N", "resources.storageGb"},
        {"--id", "ID", "a request id of your choosing"},
        {"--depends-on", "ID", "a request that must complete first", true},
        {"--meta", "KEY=VALUE", "metadata entry", true},
        {"--idempotency-key", "KEY", "a retried submit with the same key returns the same request"}},
       run_submit},
      {"get", "ID", 1, 1, "a request: state, steps, resources, endpoints", {}, run_get},
      {"list",
       "",
       0,
       0,
       "requests, oldest first",
       {{"--tenant", "TENANT", "only this tenant's"},
        {"--state", "STATE", "only requests in this state (Queued, Completed, Failed, ...)"},
        {"--limit", "N", "page size (1-500)"},
        {"--cursor", "CURSOR", "the page after this nextCursor"},
        {"--all", "", "follow every page"}},
       run_list},
      {"events", "ID", 1, 1, "a request's events, in order (the audit trail)", {}, run_events},
      {"history",
       "ID",
       1,
       1,
       "a request's state replayed from its events",
       {{"--at", "SEQ", "as of event SEQ (default: after all of them)"}},
       run_history},
      {"watch",
       "",
       0,
       0,
       "follow the live event stream (reconnects, resuming after the last event)",
       {{"--request", "ID", "only this request's events"},
        {"--tenant", "TENANT", "only this tenant's events"},
        {"--type", "TYPE[,TYPE]", "only these event types (e.g. step_completed,request_failed)", true},
        {"--last-event-id", "N", "start after this stream position (0: from the beginning)"},
        {"--until-state", "STATE", "stop once a request (--request's) is in this state"},
        {"--count", "N", "stop after N events"}},
       run_watch},
      {"approvals",
       "",
       0,
       0,
       "requests waiting for approval, with the rule that matched",
       {{"--tenant", "TENANT", "only this tenant's"}},
       run_approvals},
      {"approve",
       "ID",
       1,
       1,
       "approve a request waiting for approval",
       {{"--comment", "TEXT", "why (kept in the request's history)"}},
       run_approve},
      {"reject",
       "ID",
       1,
       1,
       "reject a request waiting for approval (it ends Failed)",
       {{"--reason", "TEXT", "why (required by the API)"}},
       run_reject},
      {"manual", "", 0, 0, "requests waiting for an operator to deliver access details", {}, run_manual},
      {"complete",
       "ID",
       1,
       1,
       "deliver a manual request's access details (-f FILE, or the flags)",
       {{"-f", "FILE", "the body as JSON ('-': stdin)"},
        {"--host", "HOST", "host"},
        {"--username", "USER", "username"},
        {"--password-file", "FILE", "the password, read from FILE ('-': stdin); never a flag's value"},
        {"--private-key-file", "FILE", "the private key, read from FILE ('-': stdin)"},
        {"--endpoint", "NAME=URL", "an endpoint to hand out", true},
        {"--note", "TEXT", "note"}},
       run_complete},
      {"suspend", "ID", 1, 1, "stop a completed service, keeping its resources", {}, run_lifecycle},
      {"reactivate", "ID", 1, 1, "start a suspended service again", {}, run_lifecycle},
      {"deprovision", "ID", 1, 1, "release everything the service holds (it ends RolledBack)", {}, run_lifecycle},
      {"retry", "ID", 1, 1, "run a Failed or RolledBack request again", {}, run_lifecycle},
      {"clusters list", "", 0, 0, "clusters with capacity used/total, health and breaker", {}, run_clusters_list},
      {"clusters add",
       "",
       0,
       0,
       "register a cluster (-f FILE, or the flags; flags override the file)",
       {{"-f", "FILE", "the cluster definition as JSON ('-': stdin)"},
        {"--id", "ID", "cluster id (default: assigned)"},
        {"--name", "NAME", "name"},
        {"--type", "TYPE", "simulation, manual, openstack, openshift, kubernetes, ..."},
        {"--region", "REGION", "region"},
        {"--cpu", "N", "capacity.cpu"},
        {"--memory-gb", "N", "capacity.memoryGb"},
        {"--storage-gb", "N", "capacity.storageGb"},
        {"--vm-slots", "N", "capacity.vmSlots"},
        {"--health", "HEALTH", "online, degraded or offline"},
        {"--default", "", "the region's default cluster"},
        {"--disabled", "", "provisioningEnabled false"},
        {"--connection-file", "FILE", "the connection settings as a JSON object (secrets stay out of argv)"}},
       run_clusters_add},
      {"clusters test", "ID", 1, 1, "test a cluster's connectivity (exit 5 if it fails)", {}, run_clusters_test},
      {"quota get", "TENANT", 1, 1, "a tenant's quota", {}, run_quota_get},
      {"quota set",
       "TENANT",
       1,
       1,
       "replace a tenant's quota (a limit not given is unlimited)",
       {{"-f", "FILE", "the quota as JSON ('-': stdin)"},
        {"--max-instances", "N|unlimited", "maxInstances"},
        {"--max-cpu", "N|unlimited", "maxCpu"},
        {"--max-memory-gb", "N|unlimited", "maxMemoryGb"},
        {"--max-storage-gb", "N|unlimited", "maxStorageGb"}},
       run_quota_set},
      {"usage", "TENANT", 1, 1, "a tenant's usage against its quota, in flight and waiting", {}, run_usage},
      {"help", "[COMMAND]", 0, 2, "this list, or a command's flags", {}, run_help},
  };
  return table;
}

int run_help(context& c, const invocation& inv) {
  std::string path;
  for (const auto& p : inv.positionals) path += (path.empty() ? "" : " ") + p;
  for (const auto& spec : command_table())
    if (!path.empty() && spec.path == path) {
      c.out << command_usage(spec);
      return 0;
    }
  if (!path.empty()) {
    c.err << "provisionctl: no command '" << printable(path) << "'\n" << general_usage(command_table());
    return to_int(exit_code::usage);
  }
  c.out << general_usage(command_table());
  return 0;
}

}  // namespace

std::span<const command_spec> command_table() {
  return commands();
}

int context::fail(const reply& r) {
  err << "provisionctl: " << describe_failure(r, client.config().url) << "\n";
  return to_int(r.code());
}

int context::usage(const invocation& inv, const std::string& message) {
  err << "provisionctl: " << printable(message) << "\n";
  if (inv.command) err << command_usage(*inv.command);
  return to_int(exit_code::usage);
}

int context::finish(const reply& r, const std::function<void(const nlohmann::json&)>& render) {
  if (!r.ok()) return fail(r);
  if (json()) {
    if (!r.body.empty()) out << r.body << (r.body.back() == '\n' ? "" : "\n");
  } else if (!r.json.is_discarded()) {
    render(r.json);
  }
  out.flush();
  return 0;
}

result<nlohmann::json> read_json_file(context& c, const std::string& file) {
  std::stringstream text;
  if (file == "-") {
    text << c.in.rdbuf();
  } else {
    std::ifstream f{file};
    if (!f) return make_error(errc::invalid_argument, file + ": cannot be read", "-f");
    text << f.rdbuf();
  }
  auto j = nlohmann::json::parse(text.str(), nullptr, false);
  std::string name = file == "-" ? "stdin" : file;
  if (j.is_discarded()) return make_error(errc::invalid_argument, name + ": not valid JSON", "-f");
  if (!j.is_object()) return make_error(errc::invalid_argument, name + ": expected a JSON object", "-f");
  return j;
}

}  // namespace provisiond::cli
