#include "providers/simulation/remote_simulation_provider.hpp"

#include <exception>

#include <nlohmann/json.hpp>

#include "common/json.hpp"
#include "events/json_mapping.hpp"
#include "providers/http/http_client.hpp"
#include "providers/simulation/wire.hpp"

namespace provisiond::providers::simulation {

using nlohmann::json;

namespace {

error unreachable(const std::string& why) {
  return retryable_error("sim_cloud_unreachable", "simulation cloud unreachable: " + why);
}

// Statuses that say "not now" rather than "never": the server is busy,
// overloaded or restarting.
bool transient_status(int status) { return status >= 500 || status == 408 || status == 429; }

http::client_options client_options() {
  http::client_options o;
  o.connect_timeout = std::chrono::milliseconds(2'000);  // loopback or a LAN: a slow connect is a dead server
  // A call waits out the simulated delays configured on the server (up to
  // maxDelayMs); the engine's own hung-call watchdog still bounds it.
  o.io_timeout = std::chrono::milliseconds(120'000);
  return o;
}

// A reply turned into its body, the server's verdict, or a transport error.
result<json> reply_of(const http::response& r) {
  json body = parse_json_lenient(r.body);
  if (r.status == 200) {
    if (body.is_discarded()) return unreachable("the reply is not JSON");
    if (auto e = wire::error_from_json(body)) return *e;
    return body;
  }
  if (transient_status(r.status)) return unreachable("it answered HTTP " + std::to_string(r.status));
  // 4xx: the server understood us and refused; repeating the same call cannot help.
  auto e = body.is_discarded() ? std::nullopt : wire::error_from_json(body);
  std::string why = e ? (e->field.empty() ? "" : e->field + ": ") + e->message : "HTTP " + std::to_string(r.status);
  return permanent_error("sim_cloud_rejected", "simulation cloud refused the call: " + why);
}

class remote_simulation final : public simulation_provider {
 public:
  explicit remote_simulation(std::string base_url) : base_(std::move(base_url)), http_(client_options()) {
    while (!base_.empty() && base_.back() == '/') base_.pop_back();
  }

  std::string kind() const override { return "simulation"; }

  result<step_outcome> execute(const step_call& call) override {
    auto r = post("/v1/sim/execute", wire::to_json(call));
    if (!r) return r.error();
    return decode([&] { return wire::step_outcome_from(r->at("outcome")); });
  }

  result<std::optional<step_outcome>> lookup(const step_call& call) override {
    auto r = post("/v1/sim/lookup", wire::to_json(call));
    if (!r) return r.error();
    return decode([&]() -> result<std::optional<step_outcome>> {
      if (!r->at("found").get<bool>()) return std::optional<step_outcome>{};
      auto o = wire::step_outcome_from(r->at("outcome"));
      if (!o) return o.error();
      return std::optional<step_outcome>{std::move(*o)};
    });
  }

  result<std::vector<std::string>> release(const release_call& call) override {
    auto r = post("/v1/sim/release", wire::to_json(call));
    if (!r) return r.error();
    return decode(
        [&]() -> result<std::vector<std::string>> { return r->at("released").get<std::vector<std::string>>(); });
  }

  status set_power(const provisiond::request_id& request, const provisiond::cluster_id& cluster, bool on) override {
    auto r = post("/v1/sim/power", wire::to_json(wire::power_call{request, cluster, on}));
    if (!r) return r.error();
    return ok();
  }

  status check(const cluster_config& cluster) override {
    // The simulation judges a cluster by its id alone: its connection (which
    // carries the secrets here) never leaves this process.
    auto sent = cluster;
    sent.connection = "{}";
    sent.secret_fields.clear();
    auto r = post("/v1/sim/check", events::to_json(sent));
    if (!r) return r.error();
    return ok();
  }

  result<std::vector<ledger_entry>> ledger() override {
    auto r = send(http::request{"GET", base_ + "/v1/simulation/ledger", {{"Accept", "application/json"}}, ""});
    if (!r) return r.error();
    return decode([&] { return wire::ledger_from_json(*r); });
  }

 private:
  result<json> post(const std::string& path, const json& body) {
    return send(http::request{
        "POST", base_ + path, {{"Content-Type", "application/json"}, {"Accept", "application/json"}}, dump_json(body)});
  }

  result<json> send(const http::request& req) {
    auto sent = http_.send(req);
    // A kept-alive connection the server closed while idle fails at once.
    // The client resends only GETs by itself; every sim-cloud call is safe
    // to repeat (the server adopts by (request, step)), so try once more.
    if (!sent && sent.error().field == "connect") sent = http_.send(req);
    if (!sent) return unreachable(sent.error().message);
    return reply_of(*sent);
  }

  // A 200 reply whose body is not what the protocol says: the server is not
  // a sim-cloud of this version, or the reply was mangled. Retryable, like
  // any other failure to get an answer.
  template <class F>
  static auto decode(F fn) -> decltype(fn()) {
    try {
      auto r = fn();
      if (!r) return unreachable("malformed reply: " + r.error().field + ": " + r.error().message);
      return r;
    } catch (const std::exception& e) {
      return unreachable(std::string("malformed reply: ") + e.what());
    }
  }

  std::string base_;
  http::client http_;
};

}  // namespace

std::shared_ptr<simulation_provider> make_remote_simulation_provider(std::string base_url, std::shared_ptr<clock> clk) {
  (void)clk;
  return std::make_shared<remote_simulation>(std::move(base_url));
}

}  // namespace provisiond::providers::simulation
