#include "scaleout/partition_owner.hpp"

#include <algorithm>
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "events/kafka/partitioning.hpp"

namespace provisiond::scaleout {

namespace {

using steady = std::chrono::steady_clock;

// The lease's owner field: "<instance>@<host:port>".
std::string owner_field(const ownership_options& o) { return o.instance_id + "@" + o.advertise; }

void count(const char* name, const char* help) { metrics::registry::global().get_counter(name, help).inc(); }

// " 0 3 5": the partitions as the status lines always listed them.
std::string partition_list(const std::vector<std::int32_t>& ps) {
  std::string out;
  for (auto p : ps) out += " " + std::to_string(p);
  return out;
}

}  // namespace

partition_owner::partition_owner(ownership_options o) : opts_(std::move(o)), slots_(std::max(opts_.partitions, 1)) {
  metrics::registry::global().gauge("provisiond_partitions_owned", "Partitions whose lease this instance holds", {},
                                    [this] { return static_cast<double>(owned()); });
}

partition_owner::~partition_owner() {
  release_all();
  metrics::registry::global().remove_gauges("provisiond_partitions_owned");
}

void partition_owner::start() {
  renewer_ = std::thread([this] { renew_loop(); });
  retaker_ = std::thread([this] { retake_loop(); });
}

// Restores the partitions the renewer took again (never on the renewer's
// thread: restoring may take seconds, renewing may not wait).
void partition_owner::retake_loop() {
  for (;;) {
    std::vector<std::int32_t> taken;
    {
      std::unique_lock lock{mutex_};
      wake_.wait(lock, [&] { return stopping_ || !to_retake_.empty(); });
      if (stopping_) return;
      taken.swap(to_retake_);
    }
    restore(taken);
  }
}

std::int32_t partition_owner::partition_of(const std::string& tenant) const {
  return events::kafka::partition_of(tenant, static_cast<std::int32_t>(slots_.size()));
}

std::optional<std::uint64_t> partition_owner::token_for(const tenant_id& tenant) const {
  return token_for_partition(partition_of(tenant.str()));
}

std::optional<std::uint64_t> partition_owner::token_for_partition(std::int32_t p) const {
  if (p < 0 || p >= static_cast<std::int32_t>(slots_.size())) return std::nullopt;
  std::lock_guard lock{mutex_};
  const auto& s = slots_[p];
  if (!s.lease || !s.ready || steady::now() >= s.valid_until) return std::nullopt;
  return s.lease->token;
}

bool partition_owner::may_start_calls(const tenant_id& tenant) const {
  auto p = partition_of(tenant.str());
  std::lock_guard lock{mutex_};
  return !slots_[p].draining;
}

bool partition_owner::moving(std::int32_t p) const {
  std::lock_guard lock{mutex_};
  const auto& s = slots_[p];
  return (s.assigned && (!s.lease || !s.ready)) || s.draining;
}

std::size_t partition_owner::owned() const {
  std::lock_guard lock{mutex_};
  return static_cast<std::size_t>(std::count_if(slots_.begin(), slots_.end(), [](const slot& s) { return s.lease.has_value(); }));
}

std::optional<holder> partition_owner::holder_of(std::int32_t p) const {
  auto h = opts_.leases->holder(name(p));
  if (!h || !*h) return std::nullopt;
  // "<instance>@<host:port>:<token>"
  const auto& v = **h;
  auto at = v.find('@');
  auto colon = v.rfind(':');
  if (at == std::string::npos || colon == std::string::npos || colon < at) return std::nullopt;
  holder out;
  out.instance = v.substr(0, at);
  out.address = v.substr(at + 1, colon - at - 1);
  out.token = std::strtoull(v.c_str() + colon + 1, nullptr, 10);
  return out;
}

// Takes the lease if it is free, with a token above every token the
// changelog holds. False while another instance still holds it (it is
// handing over, or it died and its lease has yet to expire). The lease is
// renewed from now on, but nothing is written until restore() ran.
bool partition_owner::try_take(std::int32_t p) {
  auto& replica = *opts_.replica;
  std::uint64_t floor;
  {
    std::lock_guard lock{mutex_};
    floor = std::max(replica.highest_token(p), slots_[p].last_token);
  }
  auto taken_at = steady::now();
  auto l = opts_.leases->acquire(name(p), owner_field(opts_), opts_.lease_ttl_ms, floor);
  if (!l || !*l) return false;
  std::lock_guard lock{mutex_};
  auto& s = slots_[p];
  s.lease = **l;
  s.ready = false;
  s.last_token = (*l)->token;
  s.valid_until = taken_at + std::chrono::milliseconds(opts_.lease_ttl_ms * 4 / 5);
  return true;
}

// What the previous owner published before letting go is applied here
// before anything of the partitions runs; then they are resumed.
void partition_owner::restore(const std::vector<std::int32_t>& taken) {
  for (auto p : taken)
    if (!opts_.replica->caught_up(p, std::chrono::seconds(30)))
      log::warn("partition " + std::to_string(p) + ": the changelog did not catch up in 30 s; resuming anyway",
                log::fields{}.with("partition", p).with("instanceId", opts_.instance_id));
  if (opts_.settle) opts_.settle();
  {
    std::lock_guard lock{mutex_};
    for (auto p : taken) slots_[p].ready = slots_[p].lease.has_value();
  }
  log::status(opts_.instance_id + " owns partition(s)" + partition_list(taken),
              log::fields{}.with("instanceId", opts_.instance_id));
  if (opts_.gained) opts_.gained(taken);
}

void partition_owner::assigned(const std::vector<std::int32_t>& partitions) {
  std::vector<std::int32_t> waiting;
  {
    std::lock_guard lock{mutex_};
    for (auto p : partitions) {
      if (p < 0 || p >= static_cast<std::int32_t>(slots_.size())) continue;
      slots_[p].assigned = true;
      slots_[p].draining = false;
      if (!slots_[p].lease) waiting.push_back(p);
    }
  }
  // Each round tries every partition still waiting, so one held by a dead
  // instance (until its TTL runs out) does not hold up the others.
  while (!waiting.empty()) {
    std::vector<std::int32_t> taken, still;
    for (auto p : waiting) (try_take(p) ? taken : still).push_back(p);
    if (!taken.empty()) restore(taken);
    waiting = std::move(still);
    std::unique_lock lock{mutex_};
    if (stopping_) return;
    if (!waiting.empty()) wake_.wait_for(lock, std::chrono::milliseconds(200));
  }
}

void partition_owner::revoked(const std::vector<std::int32_t>& partitions) {
  std::vector<std::int32_t> held;
  {
    std::lock_guard lock{mutex_};
    for (auto p : partitions) {
      if (p < 0 || p >= static_cast<std::int32_t>(slots_.size())) continue;
      slots_[p].assigned = false;
      if (slots_[p].lease) {
        slots_[p].draining = true;  // HTTP writes for it wait; in-flight calls may still record outcomes
        held.push_back(p);
      }
    }
  }
  if (held.empty()) return;
  auto started = steady::now();
  // In-flight provider calls finish and their outcomes are appended (the
  // lease is still ours), then the actors stop, the outbox is published so
  // the next owner restores everything, and the leases go.
  auto deadline = steady::now() + opts_.grace;
  while (opts_.calls_in_flight && opts_.calls_in_flight(held) > 0 && steady::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (opts_.lost) opts_.lost(held);
  auto flush_deadline = steady::now() + opts_.grace;
  while (opts_.outbox_empty && !opts_.outbox_empty() && steady::now() < flush_deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::lock_guard lock{mutex_};
  for (auto p : held) {
    auto& s = slots_[p];
    if (s.lease) (void)opts_.leases->release(*s.lease);
    s.lease.reset();
    s.ready = false;
    s.draining = false;
  }
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - started).count();
  log::status(opts_.instance_id + " handed over partition(s)" + partition_list(held) + " in " + std::to_string(took) +
                  " ms",
              log::fields{}.with("instanceId", opts_.instance_id));
}

void partition_owner::release_all() {
  {
    std::lock_guard lock{mutex_};
    stopping_ = true;
  }
  wake_.notify_all();
  if (renewer_.joinable()) renewer_.join();
  if (retaker_.joinable()) retaker_.join();
  std::lock_guard lock{mutex_};
  for (auto& s : slots_) {
    if (s.lease) (void)opts_.leases->release(*s.lease);
    s.lease.reset();
    s.assigned = false;
  }
}

void partition_owner::renew_loop() {
  auto period = std::chrono::milliseconds(std::max<time_ms>(opts_.lease_ttl_ms / 3, 50));
  for (;;) {
    {
      std::unique_lock lock{mutex_};
      wake_.wait_for(lock, period, [&] { return stopping_; });
      if (stopping_) return;
    }
    std::vector<std::int32_t> lost, retake;
    for (std::int32_t p = 0; p < static_cast<std::int32_t>(slots_.size()); ++p) {
      std::optional<events::redis::lease> l;
      bool assigned;
      {
        std::lock_guard lock{mutex_};
        l = slots_[p].lease;
        assigned = slots_[p].assigned;
      }
      if (!l) {
        if (assigned) retake.push_back(p);  // lost earlier (a Redis restart): take it again
        continue;
      }
      auto started = steady::now();
      auto r = opts_.leases->renew(*l, opts_.lease_ttl_ms);
      if (!r) continue;  // Redis unreachable: the lease runs out on its own clock here
      std::lock_guard lock{mutex_};
      auto& s = slots_[p];
      if (!s.lease || s.lease->token != l->token) continue;
      if (*r) {
        s.valid_until = started + std::chrono::milliseconds(opts_.lease_ttl_ms * 4 / 5);
      } else {
        s.lease.reset();
        lost.push_back(p);
      }
    }
    if (!lost.empty()) {
      for (auto p : lost) {
        log::warn(opts_.instance_id + " lost the lease of partition " + std::to_string(p),
                  log::fields{}.with("partition", p).with("instanceId", opts_.instance_id));
        count("provisiond_lease_lost_total", "Partition leases found lost at renewal (expired or taken)");
      }
      if (opts_.lost) opts_.lost(lost);
    }
    std::vector<std::int32_t> taken;
    for (auto p : retake)
      if (try_take(p)) taken.push_back(p);
    if (!taken.empty()) {
      std::lock_guard lock{mutex_};
      to_retake_.insert(to_retake_.end(), taken.begin(), taken.end());
      wake_.notify_all();
    }
  }
}

}  // namespace provisiond::scaleout
