#include "app/scale_out.hpp"

#include <algorithm>
#include <cstdio>

#include "actors/cluster/cluster_logic.hpp"
#include "actors/cluster/shared_capacity.hpp"
#include "common/log.hpp"
#include "events/redis/capacity_store.hpp"
#include "events/redis/lease.hpp"
#include "events/redis/redis_client.hpp"
#include "events/kafka/partitioning.hpp"
#include "gateway/forwarding.hpp"

namespace provisiond::app {

namespace {

events::redis::amounts to_amounts(const cluster_capacity& c) { return {c.cpu, c.memory_gb, c.storage_gb, c.vm_slots}; }

// Cluster capacity in Redis (events/redis/capacity_store.hpp). The
// reconciler is here: when Redis says the counters are not known (it lost
// them, or the cluster is new), what the read side says is held — every
// partition's requests, restored from the changelog — is folded in once,
// and the reservation is asked again.
class redis_capacity final : public actors::shared_capacity {
 public:
  redis_capacity(std::shared_ptr<events::redis::client> redis, std::string prefix,
                 projections::request_summary_projection* summaries)
      : store_(std::move(redis), std::move(prefix)), summaries_(summaries) {}

  result<std::string> reserve(const cluster_id& cluster, const request_id& request, const cluster_capacity& want,
                              const cluster_capacity& total) override {
    for (int attempt = 0; attempt < 2; ++attempt) {
      auto r = store_.reserve(cluster.str(), request.str(), to_amounts(want), to_amounts(total));
      if (!r) return r.error();
      if (*r) return (*r)->empty() ? std::string{} : "not enough capacity (" + **r + ")";
      if (auto st = reconcile(cluster); !st) return st.error();
    }
    return make_error(errc::unavailable, "the capacity of " + cluster.str() + " could not be restored", "redis.url");
  }

  status release(const cluster_id& cluster, const request_id& request) override {
    auto r = store_.release(cluster.str(), request.str());
    if (!r) return r.error();
    return ok();
  }

  result<std::pair<cluster_capacity, std::size_t>> used(const cluster_id& cluster) override {
    try {
      auto r = store_.used(cluster.str());
      if (!r) return r.error();
      auto& a = r->first;
      cluster_capacity c{static_cast<int>(a[0]), static_cast<int>(a[1]), static_cast<int>(a[2]), static_cast<int>(a[3])};
      return std::pair{c, static_cast<std::size_t>(r->second)};
    } catch (const std::exception&) {
      return make_error(errc::internal, "the capacity counters of " + cluster.str() + " in Redis are not numbers");
    }
  }

 private:
  status reconcile(const cluster_id& cluster) {
    auto holders = summaries_->cluster_holders(cluster);
    if (!holders) return holders.error();
    std::vector<std::pair<std::string, events::redis::amounts>> held;
    for (auto& r : *holders)
      if (r.capacity_held && r.cluster_id == cluster.str()) held.emplace_back(r.id, to_amounts(r.capacity));
    auto done = store_.restore(cluster.str(), held);
    if (!done) return done.error();
    if (*done)
      log::info("capacity of cluster " + cluster.str() + " rebuilt in Redis from the journal (" +
                    std::to_string(held.size()) + " holders)",
                log::fields{}.cluster(cluster.str()));
    return ok();
  }

  events::redis::capacity_store store_;
  projections::request_summary_projection* summaries_;
};

}  // namespace

result<std::unique_ptr<scale_out>> scale_out::open(const scale_out_settings& s, const std::string& bootstrap,
                                                   const kafka_config& kafka, std::shared_ptr<events::journal> journal,
                                                   projections::request_summary_projection* summaries,
                                                   const std::string& data_dir) {
  std::unique_ptr<scale_out> so{new scale_out};
  so->settings_ = s;
  so->journal_ = journal;
  so->summaries_ = summaries;
  so->replica_ = std::make_unique<events::kafka::journal_replica>(journal, bootstrap, kafka, data_dir + "/replica-offsets");
  so->replica_->on_applied([so = so.get()](const std::vector<std::string>& streams) {
    if (std::none_of(streams.begin(), streams.end(), [](auto& s) { return events::is_admin_stream(s); })) return;
    std::lock_guard lock{so->admin_mutex_};
    if (so->admin_changed_) so->admin_changed_();
  });
  auto began = std::chrono::steady_clock::now();
  if (auto st = so->replica_->start(); !st) return st.error();
  if (!so->replica_->caught_up(std::chrono::seconds(120)))
    return make_error(errc::unavailable, "the changelog did not restore within 120 s", "kafka.bootstrap");
  auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  auto restored = so->replica_->counts().restored;
  char figures[96];
  std::snprintf(figures, sizeof figures, "%llu events in %.2f s (%.0f events/s)",
                static_cast<unsigned long long>(restored), took, took > 0 ? restored / took : 0.0);
  log::info(std::string("changelog restored: ") + figures,
            log::fields{}.with("events", static_cast<std::int64_t>(restored)));
  auto redis = events::redis::client::connect(s.redis_url);
  if (!redis) return make_error(redis.error().code, redis.error().message, "redis.url");
  auto leases = std::make_shared<events::redis::lease_store>(std::shared_ptr<events::redis::client>(std::move(*redis)),
                                                             "provisiond:" + kafka.group_id + ":");
  so->leases_ = std::move(leases);
  // Its own connection with a short timeout: cluster actors call it.
  auto cap = events::redis::client::connect(s.redis_url, std::chrono::milliseconds(500));
  if (!cap) return make_error(cap.error().code, cap.error().message, "redis.url");
  so->capacity_ = std::make_shared<redis_capacity>(std::shared_ptr<events::redis::client>(std::move(*cap)),
                                                   "provisiond:" + kafka.group_id + ":", summaries);
  return so;
}

scale_out::~scale_out() { stop(); }

std::function<std::optional<std::uint64_t>()> scale_out::admin_token() {
  auto p = events::kafka::partition_of(events::kafka::admin_partition_key, replica_->partitions());
  return [this, p]() -> std::optional<std::uint64_t> {
    auto* o = live_.load();
    return o ? o->token_for_partition(p) : std::nullopt;
  };
}

void scale_out::on_admin_change(std::function<void()> fn) {
  std::lock_guard lock{admin_mutex_};
  admin_changed_ = std::move(fn);
}

std::function<std::optional<std::uint64_t>(const tenant_id&)> scale_out::fencing() {
  // Nothing is owned before attach().
  return [this](const tenant_id& t) -> std::optional<std::uint64_t> {
    auto* o = live_.load();
    return o ? o->token_for(t) : std::nullopt;
  };
}

std::function<bool(const tenant_id&)> scale_out::may_start_calls() {
  return [this](const tenant_id& t) {
    auto* o = live_.load();
    return o && o->may_start_calls(t);
  };
}

// The unfinished requests of these partitions, once the read model has
// folded everything the journal holds (the restored changelog included).
std::vector<request_id> scale_out::unfinished_in(const std::vector<std::int32_t>& partitions) {
  summaries_->wait_for(journal_->last_position(), std::chrono::seconds(30));
  std::vector<request_id> out;
  auto ids = summaries_->unfinished();
  if (!ids) return out;
  for (auto& id : *ids) {
    auto s = summaries_->get(id);
    if (!s || !*s) continue;
    auto p = owner_->partition_of((*s)->spec.tenant_id);
    if (std::find(partitions.begin(), partitions.end(), p) != partitions.end()) out.push_back(id);
  }
  return out;
}

void scale_out::attach(actors::engine* engine, gateway::kafka_intake* intake, const std::string& advertise) {
  engine_ = engine;
  scaleout::ownership_options opts;
  opts.instance_id = settings_.instance_id;
  opts.advertise = advertise;
  opts.partitions = replica_->partitions();
  opts.leases = leases_;
  opts.replica = replica_.get();
  opts.lease_ttl_ms = settings_.lease_ttl_ms;
  opts.grace = std::chrono::milliseconds(settings_.grace_ms);
  auto in = [this](const std::vector<std::int32_t>& ps) {
    return [this, ps](const tenant_id& t) {
      return std::find(ps.begin(), ps.end(), owner_->partition_of(t.str())) != ps.end();
    };
  };
  opts.calls_in_flight = [this, in](const std::vector<std::int32_t>& ps) { return engine_->calls_in_flight(in(ps)); };
  opts.outbox_empty = [j = journal_] {
    auto pending = j->read_outbox(0, 1);
    return pending && pending->empty();
  };
  opts.settle = [this] { summaries_->wait_for(journal_->last_position(), std::chrono::seconds(30)); };
  opts.gained = [this](const std::vector<std::int32_t>& ps) { engine_->resume(unfinished_in(ps)); };
  opts.lost = [this, in](const std::vector<std::int32_t>& ps) { engine_->evict(in(ps)); };
  owner_ = std::make_unique<scaleout::partition_owner>(std::move(opts));
  live_ = owner_.get();
  auto* o = owner_.get();
  auto* summaries = summaries_;
  intake->scale_out(
      [o, summaries](const gateway::kafka_command& cmd) -> std::optional<std::int32_t> {
        std::string tenant = cmd.is_provision() ? cmd.spec.tenant_id : cmd.tenant_id;
        if (tenant.empty()) {
          auto s = summaries->get(request_id{cmd.request_id});
          if (!s || !*s) return std::nullopt;  // unknown here: handled (and answered) here
          tenant = (*s)->spec.tenant_id;
        }
        return o->partition_of(tenant);
      },
      events::kafka::rebalance_hooks{[o](const std::vector<std::int32_t>& ps) { o->assigned(ps); },
                                     [o](const std::vector<std::int32_t>& ps) { o->revoked(ps); }});
  owner_->start();
}

gateway::forwarder scale_out::forwarder() {
  gateway::ownership_view view;
  view.instance_id = settings_.instance_id;
  view.max_forwarding = settings_.max_forwarding;
  auto n = replica_->partitions();
  view.partition_of = [n](const std::string& t) { return events::kafka::partition_of(t, n); };
  view.owned_here = [this](std::int32_t p) {
    auto* o = live_.load();
    return o && o->token_for_partition(p).has_value();
  };
  // Before attach() every partition is still on its way here.
  view.moving = [this](std::int32_t p) {
    auto* o = live_.load();
    return !o || o->moving(p);
  };
  view.owner_address = [this](std::int32_t p) -> std::optional<std::string> {
    auto* o = live_.load();
    if (!o) return std::nullopt;
    auto h = o->holder_of(p);
    if (!h || h->instance == o->instance_id()) return std::nullopt;
    return h->address;
  };
  return gateway::make_forwarder(std::move(view), summaries_);
}

void scale_out::stop() {
  if (owner_) owner_->release_all();
  if (replica_) replica_->stop();
}

}  // namespace provisiond::app
