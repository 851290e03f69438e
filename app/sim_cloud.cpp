#include "app/sim_cloud.hpp"
#include "app/signals.hpp"

#include <csignal>
#include <cstdio>
#include <exception>
#include <memory>
#include <pthread.h>

#include <nlohmann/json.hpp>

#include "common/json.hpp"
#include "common/log.hpp"
#include "events/json_mapping.hpp"
#include "gateway/http_server.hpp"
#include "providers/simulation/simulation_provider.hpp"
#include "providers/simulation/wire.hpp"

namespace provisiond {

namespace {

using nlohmann::json;
using providers::simulation::simulation_provider;
namespace wire = providers::simulation::wire;

// Calls may sleep through simulated delays on the I/O thread that carries
// them; several instances call at once, so more threads than a CPU count.
constexpr int server_threads = 8;

gateway::http_response reply(int status, const json& body) { return {status, "application/json", dump_json(body), {}}; }

gateway::http_response ok_reply(const json& body) { return reply(200, body); }

// A provider's verdict: 200, so the client tells it from a transport failure.
gateway::http_response verdict(const error& e) { return reply(200, wire::error_to_json(e)); }

gateway::http_response bad_request(const error& e) {
  return reply(400, wire::error_to_json(make_error(errc::invalid_argument, e.message, e.field)));
}

// Decodes a body with `decode` (one of wire's *_from), or says which field is wrong.
template <class F>
auto body_as(const gateway::http_request& req, F decode) -> decltype(decode(json{})) {
  auto parsed = parse_json(req.body, "body");
  if (!parsed) return parsed.error();
  return decode(*parsed);
}

using handler = gateway::http_response (*)(simulation_provider&, const gateway::http_request&);

gateway::http_response execute(simulation_provider& sim, const gateway::http_request& req) {
  auto call = body_as(req, wire::step_call_from);
  if (!call) return bad_request(call.error());
  auto out = sim.execute(*call);
  if (!out) return verdict(out.error());
  return ok_reply({{"outcome", wire::to_json(*out)}});
}

gateway::http_response lookup(simulation_provider& sim, const gateway::http_request& req) {
  auto call = body_as(req, wire::step_call_from);
  if (!call) return bad_request(call.error());
  auto found = sim.lookup(*call);
  if (!found) return verdict(found.error());
  if (!*found) return ok_reply({{"found", false}});
  return ok_reply({{"found", true}, {"outcome", wire::to_json(**found)}});
}

gateway::http_response release(simulation_provider& sim, const gateway::http_request& req) {
  auto call = body_as(req, wire::release_call_from);
  if (!call) return bad_request(call.error());
  auto released = sim.release(*call);
  if (!released) return verdict(released.error());
  return ok_reply({{"released", *released}});
}

gateway::http_response power(simulation_provider& sim, const gateway::http_request& req) {
  auto call = body_as(req, wire::power_call_from);
  if (!call) return bad_request(call.error());
  auto st = sim.set_power(call->request_id, call->cluster_id, call->on);
  if (!st) return verdict(st.error());
  return ok_reply({{"ok", true}});
}

result<cluster_config> cluster_from(const json& j) {
  try {
    return events::from_json<cluster_config>(j);
  } catch (const std::exception&) {
    return make_error(errc::invalid_argument, "expected a cluster (id, type, region, capacity)", "cluster");
  }
}

gateway::http_response check(simulation_provider& sim, const gateway::http_request& req) {
  auto cluster = body_as(req, cluster_from);
  if (!cluster) return bad_request(cluster.error());
  auto st = sim.check(*cluster);
  if (!st) return verdict(st.error());
  return ok_reply({{"ok", true}});
}

gateway::http_response ledger(simulation_provider& sim, const gateway::http_request&) {
  auto l = sim.ledger();
  // Not a provider verdict: the ledger could not be read. 500 makes the client retry.
  if (!l) return reply(500, wire::error_to_json(l.error()));
  return {200, "application/json", providers::simulation::ledger_to_json(*l), {}};
}

struct route {
  const char* method;
  const char* path;
  handler handle;
};

constexpr route routes[] = {
    {"POST", "/v1/sim/execute", execute}, {"POST", "/v1/sim/lookup", lookup},
    {"POST", "/v1/sim/release", release}, {"POST", "/v1/sim/power", power},
    {"POST", "/v1/sim/check", check},     {"GET", "/v1/simulation/ledger", ledger},
};

gateway::http_response dispatch(simulation_provider& sim, const gateway::http_request& req) {
  bool path_known = false;
  for (auto& r : routes) {
    if (req.path != r.path) continue;
    path_known = true;
    if (req.method == r.method) return r.handle(sim, req);
  }
  if (path_known) return reply(405, wire::error_to_json(make_error(errc::invalid_argument, "method not allowed")));
  return reply(404, wire::error_to_json(make_error(errc::not_found, "no such route")));
}

gateway::http_response handle(simulation_provider& sim, const gateway::http_request& req) {
  try {
    return dispatch(sim, req);
  } catch (const std::exception& e) {
    // A 5xx: the client treats it as the cloud being unreachable and retries.
    return reply(500, wire::error_to_json(make_error(errc::internal, std::string("unexpected error: ") + e.what())));
  }
}

// "provisiond sim-cloud: ..." in text: main() sets that prefix for this command.
int fail(const error& e) {
  log::error((e.field.empty() ? "" : e.field + ": ") + e.message, log::fields{}.with("code", to_string(e.code)));
  return 2;
}

}  // namespace

int run_sim_cloud(const std::string& listen_host, std::uint16_t port, const std::string& data_dir,
                  const simulation_config& cfg) {
  // Taken by sigwait below; RocksDB's and the server's threads inherit the mask.
  auto signals = app::block_signals();

  auto sim = simulation_provider::open(data_dir + "/simulation-ledger", cfg, make_system_clock());
  if (!sim) return fail(sim.error());
  auto server = gateway::http_server::start(
      listen_host, port, server_threads, [p = *sim](const gateway::http_request& r) { return handle(*p, r); });
  if (!server) return fail(server.error());
  std::printf("SIM_CLOUD=http://%s:%u\n", listen_host.c_str(), static_cast<unsigned>((*server)->port()));
  std::fflush(stdout);

  int sig = 0;
  sigwait(&signals, &sig);
  (*server)->stop();  // joins the I/O threads: no call is running when the ledger closes
  return 0;
}

}  // namespace provisiond
