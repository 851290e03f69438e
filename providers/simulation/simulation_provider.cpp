#include "providers/simulation/simulation_provider.hpp"
#include "common/json.hpp"

#include <filesystem>
#include <atomic>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

namespace provisiond::providers::simulation {

using nlohmann::json;
using events::step_kind;

namespace {

std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

// Deterministic randomness per call: the same seed and key always draw the
// same numbers, whatever order concurrent calls arrive in.
class draw {
 public:
  draw(std::uint64_t seed, std::string_view key) : state_(splitmix(seed ^ fnv1a(key))) {}
  double uniform() { return static_cast<double>((state_ = splitmix(state_)) >> 11) * 0x1.0p-53; }
  std::uint64_t next() { return state_ = splitmix(state_); }

 private:
  std::uint64_t state_;
};

std::string hex(std::uint64_t v, int digits) {
  static constexpr char d[] = "0123456789abcdef";
  std::string s(digits, '0');
  for (int i = digits - 1; i >= 0; --i, v >>= 4) s[i] = d[v & 0xf];
  return s;
}

std::string index_prefix(const std::string& request_id, step_kind step) {
  return "idx/" + request_id + "/" + std::to_string(static_cast<int>(step)) + "/";
}

json entry_json(const ledger_entry& e) {
  return json{{"resourceId", e.resource_id}, {"requestId", e.request_id}, {"step", events::to_string(e.step)},
              {"kind", e.kind},             {"clusterId", e.cluster_id}, {"idempotencyKey", e.idempotency_key},
              {"createdAt", format_time(e.created_at)}, {"attributes", e.attributes}};
}

ledger_entry entry_from(const json& j) {
  ledger_entry e;
  e.resource_id = j.at("resourceId").get<std::string>();
  e.request_id = j.at("requestId").get<std::string>();
  e.step = events::parse_step(j.at("step").get<std::string>()).value_or(step_kind::allocate);
  e.kind = j.at("kind").get<std::string>();
  e.cluster_id = j.value("clusterId", "");
  e.idempotency_key = j.value("idempotencyKey", "");
  e.created_at = j.value("createdAtMs", time_ms{0});
  e.attributes = j.value("attributes", events::string_map{});
  return e;
}

class simulation_impl final : public simulation_provider {
 public:
  simulation_impl(std::unique_ptr<rocksdb::DB> db, simulation_config cfg, std::shared_ptr<clock> clk)
      : db_(std::move(db)), cfg_(cfg), clock_(std::move(clk)) {}
  ~simulation_impl() override {
    if (db_) db_->Close();
  }

  std::string kind() const override { return "simulation"; }

  result<step_outcome> execute(const step_call& call) override {
    draw rng{cfg_.seed, call.idempotency_key};
    delay(rng, call.cluster_id.str());
    std::lock_guard lock{mutex_};
    auto existing = find(call.request_id.str(), call.step);
    if (!existing) return existing.error();
    if (!existing->empty()) return outcome_of(call, *existing);
    const auto& faults = steps_for(call.cluster_id.str())[static_cast<int>(call.step)];
    double roll = rng.uniform();
    if (roll < faults.permanent)
      return permanent_error("simulated_permanent", std::string("simulated permanent failure in ") +
                                                        events::to_string(call.step));
    if (roll < faults.permanent + faults.retryable)
      return retryable_error("simulated_retryable", std::string("simulated transient failure in ") +
                                                        events::to_string(call.step));
    bool lose_response = roll < faults.permanent + faults.retryable + faults.response_lost;
    std::vector<ledger_entry> created;
    if (auto e = make_resource(call, rng)) {
      rocksdb::WriteBatch batch;
      batch.Put("res/" + e->resource_id, stored_json(*e));
      batch.Put(index_prefix(call.request_id.str(), call.step) + e->resource_id, e->resource_id);
      auto st = db_->Write(rocksdb::WriteOptions{}, &batch);
      if (!st.ok()) return retryable_error("ledger", "simulation ledger write failed: " + st.ToString());
      created.push_back(std::move(*e));
    }
    if (lose_response)
      return retryable_error("timeout", std::string("simulated timeout: ") + events::to_string(call.step) +
                                            " was done but the response was lost");
    return outcome_of(call, created);
  }

  result<std::optional<step_outcome>> lookup(const step_call& call) override {
    std::lock_guard lock{mutex_};
    auto existing = find(call.request_id.str(), call.step);
    if (!existing) return existing.error();
    // Steps that create nothing (activate, verify) are never "found": running them again is harmless.
    if (existing->empty()) return std::optional<step_outcome>{};
    return std::optional<step_outcome>{outcome_of(call, *existing)};
  }

  result<std::vector<std::string>> release(const release_call& call) override {
    draw rng{cfg_.seed, "release/" + call.request_id.str() + "/" + std::to_string(static_cast<int>(call.step)) + "/" +
                            std::to_string(call.attempt)};
    delay(rng, call.cluster_id.str());
    if (rng.uniform() < cfg_.release_failure)
      return retryable_error("simulated_retryable", "simulated transient failure while releasing");
    std::lock_guard lock{mutex_};
    auto existing = find(call.request_id.str(), call.step);
    if (!existing) return existing.error();
    rocksdb::WriteBatch batch;
    std::vector<std::string> released;
    for (auto& e : *existing) {
      batch.Delete("res/" + e.resource_id);
      batch.Delete(index_prefix(call.request_id.str(), call.step) + e.resource_id);
      released.push_back(e.resource_id);
    }
    // Resources the journal knows but the ledger no longer has are gone already.
    for (auto& k : call.known)
      if (std::find(released.begin(), released.end(), k.id) == released.end()) released.push_back(k.id);
    auto st = db_->Write(rocksdb::WriteOptions{}, &batch);
    if (!st.ok()) return retryable_error("ledger", "simulation ledger write failed: " + st.ToString());
    return released;
  }

  status set_power(const provisiond::request_id& request, const provisiond::cluster_id& cluster, bool on) override {
    const std::string& request_id = request.str();
    const std::string& cluster_id = cluster.str();
    draw rng{cfg_.seed, "power/" + request_id};
    delay(rng, cluster_id);
    std::lock_guard lock{mutex_};
    auto servers = find(request_id, step_kind::allocate);
    if (!servers) return servers.error();
    if (servers->empty()) return permanent_error("not_found", "no server for request " + request_id);
    rocksdb::WriteBatch batch;
    for (auto e : *servers) {
      e.attributes["power"] = on ? "on" : "off";
      batch.Put("res/" + e.resource_id, stored_json(e));
    }
    auto st = db_->Write(rocksdb::WriteOptions{}, &batch);
    if (!st.ok()) return retryable_error("ledger", "simulation ledger write failed: " + st.ToString());
    return ok();
  }

  status check(const cluster_config& cluster) override {
    draw rng{cfg_.seed, "check/" + cluster.id + "/" + std::to_string(++checks_)};
    delay(rng, cluster.id);
    auto it = cfg_.clusters.find(cluster.id);
    if (it != cfg_.clusters.end() && !it->second.reachable)
      return make_error(errc::unavailable, "simulated cluster " + cluster.id + " does not answer", "unreachable");
    return ok();
  }

  result<std::vector<ledger_entry>> ledger() override {
    std::vector<ledger_entry> out;
    std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator(rocksdb::ReadOptions{})};
    for (it->Seek("idx/"); it->Valid() && it->key().starts_with("idx/"); it->Next()) {
      std::string v;
      if (db_->Get(rocksdb::ReadOptions{}, "res/" + it->value().ToString(), &v).ok())
        out.push_back(entry_from(parse_json_lenient(v)));
    }
    if (!it->status().ok()) return make_error(errc::internal, it->status().ToString());
    return out;
  }

 private:
  static bool creates_resource(step_kind s) { return s == step_kind::allocate || s == step_kind::configure; }

  // Per-cluster overrides (simulation.clusters) win over the defaults.
  const std::array<step_faults, 4>& steps_for(const std::string& cluster) const {
    auto it = cfg_.clusters.find(cluster);
    return it == cfg_.clusters.end() ? cfg_.steps : it->second.steps;
  }

  void delay(draw& rng, const std::string& cluster) {
    auto it = cfg_.clusters.find(cluster);
    auto lo = it == cfg_.clusters.end() ? cfg_.min_delay_ms : it->second.min_delay_ms;
    auto hi = it == cfg_.clusters.end() ? cfg_.max_delay_ms : it->second.max_delay_ms;
    if (hi <= 0) return;
    auto span = hi - lo;
    auto ms = lo + (span > 0 ? static_cast<time_ms>(rng.next() % (span + 1)) : 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  }

  std::string stored_json(const ledger_entry& e) {
    auto j = entry_json(e);
    j["createdAtMs"] = e.created_at;
    return j.dump();
  }

  result<std::vector<ledger_entry>> find(const std::string& request_id, step_kind step) {
    std::vector<ledger_entry> out;
    auto prefix = index_prefix(request_id, step);
    std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator(rocksdb::ReadOptions{})};
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      std::string v;
      auto st = db_->Get(rocksdb::ReadOptions{}, "res/" + it->value().ToString(), &v);
      if (st.ok()) out.push_back(entry_from(parse_json_lenient(v)));
    }
    if (!it->status().ok()) return retryable_error("ledger", it->status().ToString());
    return out;
  }

  std::optional<ledger_entry> make_resource(const step_call& call, draw& rng) {
    if (!creates_resource(call.step)) return std::nullopt;
    ledger_entry e;
    e.request_id = call.request_id.str();
    e.step = call.step;
    e.cluster_id = call.cluster_id.str();
    e.idempotency_key = call.idempotency_key;
    e.created_at = clock_->now();
    auto ip = "203.0.113." + std::to_string(1 + rng.next() % 254);
    if (call.step == step_kind::allocate) {
      e.kind = "server";
      e.resource_id = "sim-srv-" + hex(rng.next(), 12);
      e.attributes = {{"privateIp", "10.0." + std::to_string(rng.next() % 256) + "." +
                                        std::to_string(1 + rng.next() % 254)},
                      {"hostname", call.request_id.str() + "." + call.region + ".sim.provisiond.test"},
                      {"flavor", std::to_string(call.resources.cpu) + "c" +
                                     std::to_string(call.resources.memory_gb) + "g"},
                      {"volumeGb", std::to_string(call.resources.storage_gb)}};
    } else {
      e.kind = "floating_ip";
      e.resource_id = "sim-fip-" + hex(rng.next(), 12);
      e.attributes = {{"ip", ip}};
    }
    return e;
  }

  step_outcome outcome_of(const step_call& call, const std::vector<ledger_entry>& entries) {
    step_outcome out;
    for (auto& e : entries) {
      out.resources.push_back(events::resource_ref{e.resource_id, e.kind, e.step, e.attributes});
      if (e.kind == "server") {
        out.outputs["serverId"] = e.resource_id;
        out.outputs["hostname"] = e.attributes.count("hostname") ? e.attributes.at("hostname") : "";
      } else if (e.kind == "floating_ip") {
        const auto& ip = e.attributes.at("ip");
        out.outputs["ipv4"] = ip;
        out.outputs["ssh"] = "ssh://root@" + ip + ":22";
        out.outputs["http"] = "http://" + ip + "/";
      }
    }
    if (call.step == step_kind::activate) out.outputs["status"] = "ACTIVE";
    if (call.step == step_kind::verify) out.outputs["health"] = "passing";
    return out;
  }

  std::mutex mutex_;
  std::atomic<std::uint64_t> checks_{0};
  std::unique_ptr<rocksdb::DB> db_;
  simulation_config cfg_;
  std::shared_ptr<clock> clock_;
};

}  // namespace

result<std::shared_ptr<simulation_provider>> simulation_provider::open(const std::string& ledger_dir,
                                                                       simulation_config cfg,
                                                                       std::shared_ptr<clock> clk) {
  std::error_code ec;
  std::filesystem::create_directories(ledger_dir, ec);
  rocksdb::Options options;
  options.create_if_missing = true;
  // A small, bounded footprint: the ledger is a test aid, not a hot path.
  options.write_buffer_size = 4 << 20;
  options.max_write_buffer_number = 2;
  options.db_write_buffer_size = 8 << 20;
  rocksdb::DB* raw = nullptr;
  auto st = rocksdb::DB::Open(options, ledger_dir, &raw);
  if (!st.ok()) return make_error(errc::unavailable, "cannot open simulation ledger: " + st.ToString());
  return std::shared_ptr<simulation_provider>{
      std::make_shared<simulation_impl>(std::unique_ptr<rocksdb::DB>(raw), cfg, std::move(clk))};
}

std::string ledger_to_json(const std::vector<ledger_entry>& entries) {
  json arr = json::array();
  for (auto& e : entries) arr.push_back(entry_json(e));
  return arr.dump();
}

}  // namespace provisiond::providers::simulation
