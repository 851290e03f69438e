#include "webhooks/deliveries.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "common/json.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "events/codec.hpp"
#include "events/json_mapping.hpp"
#include "events/kafka/kafka.hpp"
#include "events/state_cache.hpp"
#include "webhooks/delivery_rows.hpp"
#include "webhooks/sender.hpp"
#include "webhooks/settlement_log.hpp"

namespace provisiond::webhooks {

namespace ev = provisiond::events;
using nlohmann::json;
using namespace rows;

namespace {

constexpr const char* projection_name = "webhooks";
constexpr const char* dispatch_checkpoint = "webhooks-dispatch";  // unused position: commits need a name

metrics::counter& outcome_counter(const char* outcome) {
  return metrics::registry::global().get_counter("provisiond_webhook_deliveries_total",
                                                 "Webhook deliveries settled, by outcome", {{"outcome", outcome}});
}

}  // namespace

struct delivery_service::impl {
  std::shared_ptr<ev::journal> journal;
  std::shared_ptr<projections::view_store> store;
  std::shared_ptr<registry> endpoints;
  std::shared_ptr<address_guard> guard;
  std::shared_ptr<clock> clk;
  delivery_options opts;
  kafka_config cloud_events;
  std::unique_ptr<sender> wire;

  // The projection: one batch at a time, subscriptions as of its checkpoint.
  std::mutex work_mutex;
  std::unique_ptr<ev::state_cache> states;
  std::map<std::string, ev::webhook_endpoint> subscriptions;
  std::atomic<std::uint64_t> checkpoint{0};

  // The queue: per (endpoint, request) chain, in event order; only a
  // chain's head may be attempted.
  struct item {
    std::string id;
    std::string webhook_id;
    std::string tenant_id;
    time_ms due = 0;
    bool in_flight = false;
  };
  static log::fields delivery_fields(const item& it) {
    return log::fields{}.tenant(it.tenant_id).with("webhookId", it.webhook_id).with("deliveryId", it.id);
  }
  mutable std::mutex mutex;
  std::condition_variable wake;
  std::map<std::string, std::map<std::uint64_t, item>> chains;
  std::unordered_map<std::string, std::pair<std::string, std::uint64_t>> where;  // id → chain, position
  std::unordered_map<std::string, int> busy;                                   // endpoint → attempts in flight
  bool stopping = false;
  std::uint64_t seen_commit = 0;
  // The journal keeps its commit callbacks for its whole life: the one
  // registered here reaches this service only while it runs.
  struct commit_link {
    std::mutex mutex;
    impl* service = nullptr;
  };
  std::shared_ptr<commit_link> link = std::make_shared<commit_link>();
  std::thread projector;
  std::vector<std::thread> workers;

  static std::string chain_key(const std::string& webhook_id, const std::string& request_id) {
    return webhook_id + "|" + request_id;
  }

  void enqueue_locked(const delivery& d) {
    auto key = chain_key(d.webhook_id, d.request_id);
    auto& slot = chains[key][d.position];
    slot.id = d.id;
    slot.webhook_id = d.webhook_id;
    slot.tenant_id = d.tenant_id;
    slot.due = d.next_attempt_at;
    where[d.id] = {key, d.position};
  }

  void dequeue_locked(const std::string& id) {
    auto w = where.find(id);
    if (w == where.end()) return;
    auto c = chains.find(w->second.first);
    if (c != chains.end()) {
      c->second.erase(w->second.second);
      if (c->second.empty()) chains.erase(c);
    }
    where.erase(w);
  }

  void fold_subscription(const ev::event& e) {
    if (auto* s = std::get_if<ev::webhook_saved>(&e)) subscriptions[s->endpoint.id] = s->endpoint;
    if (auto* d = std::get_if<ev::webhook_deleted>(&e)) subscriptions.erase(d->webhook_id);
    if (auto* d = std::get_if<ev::webhook_deactivated>(&e))
      if (auto it = subscriptions.find(d->webhook_id); it != subscriptions.end()) it->second.enabled = false;
  }

  // Subscriptions as of the checkpoint (at start).
  status load_subscriptions() {
    auto envs = journal->read_stream(ev::webhooks_stream, 1);
    if (!envs) return envs.error();
    for (auto& env : *envs) {
      if (env.global_position > checkpoint.load()) break;
      auto e = ev::decode(env);
      if (!e) return e.error();
      fold_subscription(*e);
    }
    return ok();
  }

  status load_pending() {
    std::string after;
    for (;;) {
      auto rows = store->scan("wh/p/", after, 1024);
      if (!rows) return rows.error();
      if (rows->empty()) return ok();
      for (auto& [key, unused] : *rows) {
        after = key.substr(5);
        auto text = store->get(record_key(after));
        if (!text) return text.error();
        if (!*text) continue;
        auto s = from_store(**text);
        if (!s) return s.error();
        std::lock_guard lock{mutex};
        enqueue_locked(s->d);
      }
    }
  }

  // One projection batch; the number of events folded.
  result<std::size_t> step(std::size_t max) {
    std::lock_guard work{work_mutex};
    auto batch = journal->read_all(checkpoint.load() + 1, max);
    if (!batch) return batch.error();
    if (batch->empty()) return std::size_t{0};
    projections::view_write w;
    // Records made or settled in this batch (a replica may bring an event
    // and its settlement in one batch), and which of them are new.
    std::map<std::string, stored> touched;
    std::vector<std::string> fresh, settled;
    std::set<std::string> dirty;  // only these are written: a record merely read may be changing under a worker
    auto now = clk->now();
    auto load = [&](const std::string& id) -> result<stored*> {
      if (auto it = touched.find(id); it != touched.end()) return &it->second;
      auto text = store->get(record_key(id));
      if (!text) return text.error();
      if (!*text) return static_cast<stored*>(nullptr);
      auto r = from_store(**text);
      if (!r) return r.error();
      return &touched.emplace(id, std::move(*r)).first->second;
    };
    for (auto& env : *batch) {
      if (env.stream == ev::webhooks_stream) {
        auto e = ev::decode(env);
        if (!e) return e.error();
        fold_subscription(*e);
        continue;
      }
      if (!ev::tenant_of_webhook_deliveries(env.stream).empty()) {
        // An outcome, maybe another instance's: the record takes it and
        // leaves the queue, so nobody sends it again.
        auto e = ev::decode(env);
        if (!e) return e.error();
        auto* s = std::get_if<ev::webhook_delivery_settled>(&*e);
        if (!s) continue;
        auto r = load(s->delivery_id);
        if (!r) return r.error();
        if (!*r) continue;  // not made here (its endpoint is unknown here): nothing to settle
        auto& rec = **r;
        if (s->attempts.size() < rec.d.attempts.size()) continue;  // this record knows more already
        if (rec.d.status == "pending" && rec.round_start > 0 && rec.round_start >= s->attempts.size())
          continue;  // redelivered since this outcome: the new round stands
        rec.d.status = s->status;
        rec.d.attempts = s->attempts;
        rec.round_start = rec.d.attempts.size();
        settled.push_back(s->delivery_id);
        dirty.insert(s->delivery_id);
        continue;
      }
      if (subscriptions.empty()) continue;  // nothing to deliver: no need to fold states
      auto request_id = ev::request_of_stream(env.stream);
      if (request_id.empty()) continue;
      auto e = ev::decode(env);
      if (!e) return e.error();
      auto after = states->after(env, *e);
      if (!after) return after.error();
      // The event's CloudEvents: under its journal type, then on each
      // lifecycle topic it is on (made only if someone wants them).
      std::vector<std::pair<std::string, std::string>> cloud;
      bool built = false;
      auto build = [&] {
        if (built) return;
        built = true;
        cloud.emplace_back(env.type, ev::kafka::event_cloud_event(env, *e, *after, cloud_events));
        for (auto& c : ev::kafka::lifecycle_cloud_events(env, *e, *after, cloud_events)) cloud.push_back(std::move(c));
      };
      std::vector<std::string> types{env.type};
      for (auto& t : ev::kafka::lifecycle_topics_of(*e)) types.push_back(t);
      for (auto& [id, ep] : subscriptions) {
        if (ep.tenant_id != after->spec.tenant_id || !ep.enabled) continue;
        for (std::size_t k = 0; k < types.size(); ++k) {
          if (!subscribes(ep, types[k])) continue;
          auto delivery_id = delivery_id_for(ep.id, env.event_id, types[k]);
          auto existing = load(delivery_id);
          if (!existing) return existing.error();
          if (*existing) continue;  // made already (a rebuilt checkpoint): one delivery per event
          build();
          delivery d;
          d.id = delivery_id;
          d.webhook_id = ep.id;
          d.tenant_id = ep.tenant_id;
          d.request_id = request_id;
          d.event_id = env.event_id;
          d.event_type = types[k];
          d.position = env.global_position * 4 + k;  // a request's CloudEvents in order
          d.status = "pending";
          d.created_at = now;
          d.next_attempt_at = now;
          d.body = cloud[k].second;
          w.puts.emplace_back(history_key(d.webhook_id, d.position), d.id);
          touched.emplace(delivery_id, stored{std::move(d), 0});
          fresh.push_back(delivery_id);
          dirty.insert(delivery_id);
        }
      }
    }
    std::vector<delivery> queued;
    for (auto& id : dirty) w.puts.emplace_back(record_key(id), to_store(touched.at(id)));
    for (auto& id : fresh) {
      auto& r = touched.at(id);
      if (r.d.status != "pending") continue;  // settled in this very batch
      w.puts.emplace_back(pending_key(id), "");
      queued.push_back(r.d);
    }
    for (auto& id : settled)
      if (std::find(fresh.begin(), fresh.end(), id) == fresh.end()) w.deletes.push_back(pending_key(id));
    auto last = batch->back().global_position;
    if (auto st = store->commit(w, projection_name, last); !st) return st.error();
    checkpoint = last;
    if (!queued.empty() || !settled.empty()) {
      std::lock_guard lock{mutex};
      for (auto& d : queued) enqueue_locked(d);
      for (auto& id : settled) {
        auto where_it = where.find(id);
        if (where_it == where.end()) continue;
        auto& slot = chains[where_it->second.first][where_it->second.second];
        if (!slot.in_flight) dequeue_locked(id);  // in flight: its worker settles it
      }
      wake.notify_all();
    }
    return batch->size();
  }

  void run_projection() {
    for (;;) {
      {
        std::unique_lock lock{mutex};
        wake.wait_for(lock, std::chrono::milliseconds(500), [&] { return stopping || seen_commit > checkpoint.load(); });
        if (stopping) return;
      }
      auto n = step(1024);
      if (!n) {
        log::error("webhook projection: " + n.error().message);
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    }
  }

  // The next chain head that may be attempted now, marked in flight; or
  // nullopt. Heads of deleted endpoints are dropped on the way.
  std::optional<item> pick_locked(time_ms now, std::vector<std::string>& dropped) {
    for (auto c = chains.begin(); c != chains.end();) {
      auto& head = c->second.begin()->second;
      if (head.in_flight || head.due > now || busy[head.webhook_id] >= opts.per_endpoint) {
        ++c;
        continue;
      }
      auto ep = endpoints->get(head.webhook_id);
      if (!ep) {
        dropped.push_back(head.id);
        where.erase(head.id);
        c->second.erase(c->second.begin());
        if (c->second.empty()) c = chains.erase(c);
        continue;
      }
      if (!ep->enabled || (opts.owns && !opts.owns(head.tenant_id))) {
        ++c;
        continue;
      }
      head.in_flight = true;
      ++busy[head.webhook_id];
      return head;
    }
    return std::nullopt;
  }

  std::unique_ptr<settlement_log> settlements;
  std::mutex failures_mutex;  // one settlement at a time reads and writes the failed-in-a-row count

  // One attempt of delivery `id`; the queue entry is in flight meanwhile.
  void attempt_once(const item& it) {
    auto settle_queue = [&](bool done, time_ms due) {
      std::lock_guard lock{mutex};
      --busy[it.webhook_id];
      if (done) {
        dequeue_locked(it.id);
      } else if (auto w = where.find(it.id); w != where.end()) {
        auto& slot = chains[w->second.first][w->second.second];
        slot.in_flight = false;
        slot.due = due;
      }
      wake.notify_all();
    };
    auto text = store->get(record_key(it.id));
    if (!text || !*text) return settle_queue(true, 0);
    auto s = from_store(**text);
    if (!s) {
      log::error("webhook delivery " + it.id + ": " + s.error().message, delivery_fields(it));
      return settle_queue(true, 0);
    }
    auto ep = endpoints->get(it.webhook_id);
    if (!ep) return settle_queue(true, 0);
    auto now = clk->now();
    auto a = wire->send(*ep, s->d.id, s->d.body, now);
    auto& d = s->d;
    d.attempts.push_back(a);
    bool done = false;
    bool failed = false;
    if (a.error.empty()) {
      d.status = "succeeded";
      done = true;
    } else if (d.attempts.size() - s->round_start > opts.retry_delays_ms.size()) {
      d.status = "failed";
      done = failed = true;
    } else {
      d.next_attempt_at = now + opts.retry_delays_ms[d.attempts.size() - s->round_start - 1];
    }
    if (done) {
      // The journal first: an outcome it holds is never sent again, here or
      // on the next owner.
      if (auto st = settlements->append(d); !st) {
        log::error("webhook delivery " + d.id + ": " + st.error().message, delivery_fields(it).request(d.request_id));
        return settle_queue(false, now + 1000);  // sent, not recorded: tried again (same id)
      }
    }
    projections::view_write w;
    w.puts.emplace_back(record_key(d.id), to_store(*s));
    int failures = 0;
    {
      // Failed deliveries in a row, counted since the endpoint last changed
      // (a PUT that re-enables it starts again from zero); one settlement at
      // a time reads and writes the count.
      std::unique_lock counting{failures_mutex, std::defer_lock};
      if (done) {
        counting.lock();
        w.deletes.push_back(pending_key(d.id));
        auto f = store->get(failures_key(ep->id));
        if (f && *f) {
          auto j = parse_json_lenient(**f);
          if (j.is_object() && j.value("since", time_ms{0}) == ep->updated_at) failures = j.value("count", 0);
        }
        failures = failed ? failures + 1 : 0;
        w.puts.emplace_back(failures_key(ep->id), dump_json(json{{"count", failures}, {"since", ep->updated_at}}));
      }
      if (auto st = store->commit(w, dispatch_checkpoint, 0); !st) {
        log::error("webhook delivery " + d.id + ": " + st.error().message, delivery_fields(it).request(d.request_id));
        if (!done) return settle_queue(false, now + 1000);  // the attempt is sent again (same id)
        // Settled in the journal: the projection settles the record from there.
      }
    }
    if (done) outcome_counter(failed ? "failed" : "succeeded").inc();
    if (failed && failures >= opts.deactivate_after) {
      auto reason = std::to_string(failures) + " deliveries in a row failed; last: " + a.error;
      auto st = opts.deactivate ? opts.deactivate(*ep, reason, failures) : endpoints->deactivate(ep->id, reason, failures);
      if (st) {
        metrics::registry::global()
            .get_counter("provisiond_webhook_endpoints_deactivated_total",
                         "Webhook endpoints switched off after failed deliveries")
            .inc();
      } else {
        log::error("cannot deactivate webhook " + ep->id + ": " + st.error().message, delivery_fields(it));
      }
    }
    settle_queue(done, d.next_attempt_at);
  }

  void run_worker() {
    for (;;) {
      std::optional<item> next;
      std::vector<std::string> dropped;
      {
        std::unique_lock lock{mutex};
        for (;;) {
          if (stopping) return;
          next = pick_locked(clk->now(), dropped);
          if (next || !dropped.empty()) break;
          // Polls too, so a manual clock's advance is seen within 50 ms.
          wake.wait_for(lock, std::chrono::milliseconds(50));
        }
      }
      for (auto& id : dropped) {  // their endpoint is gone
        projections::view_write w;
        w.deletes.push_back(pending_key(id));
        (void)store->commit(w, dispatch_checkpoint, 0);
      }
      if (!next) continue;
      try {
        attempt_once(*next);
      } catch (const std::exception& e) {
        log::error("webhook delivery " + next->id + ": " + e.what(), delivery_fields(*next));
        std::lock_guard lock{mutex};
        --busy[next->webhook_id];
        if (auto w = where.find(next->id); w != where.end()) {
          auto& slot = chains[w->second.first][w->second.second];
          slot.in_flight = false;
          slot.due = clk->now() + 1000;
        }
      }
    }
  }
};

delivery_service::delivery_service(std::shared_ptr<ev::journal> journal, std::shared_ptr<projections::view_store> store,
                                   std::shared_ptr<registry> endpoints, std::shared_ptr<address_guard> guard,
                                   std::shared_ptr<clock> time, delivery_options opts)
    : impl_(std::make_unique<impl>()) {
  impl_->journal = std::move(journal);
  impl_->store = std::move(store);
  impl_->endpoints = std::move(endpoints);
  impl_->guard = std::move(guard);
  impl_->clk = std::move(time);
  impl_->opts = std::move(opts);
  impl_->opts.threads = std::max(1, impl_->opts.threads);
  impl_->opts.per_endpoint = std::max(1, impl_->opts.per_endpoint);
  impl_->cloud_events.source = impl_->opts.source;
  impl_->wire = std::make_unique<sender>(impl_->endpoints, impl_->guard, impl_->opts.timeout_ms);
  impl_->settlements = std::make_unique<settlement_log>(impl_->journal, impl_->clk, impl_->opts.fencing);
  impl_->states = std::make_unique<ev::state_cache>(impl_->journal);
  auto cp = impl_->store->checkpoint(projection_name);
  impl_->checkpoint = cp ? *cp : 0;
}

delivery_service::~delivery_service() { stop(); }

status delivery_service::catch_up() {
  if (auto st = impl_->load_subscriptions(); !st) return st;
  if (auto st = impl_->load_pending(); !st) return st;
  for (;;) {
    auto n = impl_->step(2048);
    if (!n) return n.error();
    if (*n == 0) return ok();
  }
}

void delivery_service::start() {
  {
    std::lock_guard lock{impl_->link->mutex};
    impl_->link->service = impl_.get();
  }
  impl_->journal->on_commit([link = impl_->link](std::uint64_t pos) {
    std::lock_guard held{link->mutex};
    auto* i = link->service;
    if (!i) return;
    {
      std::lock_guard lock{i->mutex};
      i->seen_commit = std::max(i->seen_commit, pos);
    }
    i->wake.notify_all();
  });
  {
    std::lock_guard lock{impl_->mutex};
    impl_->seen_commit = impl_->journal->last_position();
  }
  impl_->projector = std::thread([i = impl_.get()] { i->run_projection(); });
  for (int n = 0; n < impl_->opts.threads; ++n) impl_->workers.emplace_back([i = impl_.get()] { i->run_worker(); });
}

void delivery_service::stop() {
  {
    std::lock_guard unlink{impl_->link->mutex};
    impl_->link->service = nullptr;
  }
  {
    std::lock_guard lock{impl_->mutex};
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  if (impl_->projector.joinable()) impl_->projector.join();
  for (auto& t : impl_->workers)
    if (t.joinable()) t.join();
  impl_->workers.clear();
}

void delivery_service::wake() { impl_->wake.notify_all(); }

std::uint64_t delivery_service::checkpoint() const { return impl_->checkpoint.load(); }

result<delivery_page> delivery_service::list(const std::string& webhook_id, const std::string& status,
                                             const std::string& cursor, std::size_t limit) const {
  delivery_page page;
  std::string prefix = "wh/e/" + webhook_id + "/";
  std::string after = cursor;
  std::size_t scanned = 0;
  while (page.items.size() < limit && scanned < 5000) {
    auto rows = impl_->store->scan(prefix, after, std::min<std::size_t>(256, limit * 4));
    if (!rows) return rows.error();
    if (rows->empty()) return page;
    for (auto& [key, id] : *rows) {
      ++scanned;
      after = key.substr(prefix.size());
      auto text = impl_->store->get(record_key(id));
      if (!text) return text.error();
      if (!*text) continue;
      auto s = from_store(**text);
      if (!s) return s.error();
      if (!status.empty() && s->d.status != status) continue;
      page.items.push_back(std::move(s->d));
      if (page.items.size() == limit) break;
    }
  }
  page.next_cursor = after;  // more may follow (an empty page ends it)
  return page;
}

result<std::optional<delivery>> delivery_service::get(const std::string& delivery_id) const {
  auto text = impl_->store->get(record_key(delivery_id));
  if (!text) return text.error();
  if (!*text) return std::optional<delivery>{};
  auto s = from_store(**text);
  if (!s) return s.error();
  return std::optional<delivery>{std::move(s->d)};
}

result<delivery> delivery_service::redeliver(const std::string& webhook_id, const std::string& delivery_id) {
  std::lock_guard lock{impl_->mutex};
  auto text = impl_->store->get(record_key(delivery_id));
  if (!text) return text.error();
  if (!*text) return make_error(errc::not_found, "no delivery " + delivery_id.substr(0, 64), "deliveryId");
  auto s = from_store(**text);
  if (!s) return s.error();
  if (s->d.webhook_id != webhook_id) return make_error(errc::not_found, "no delivery " + delivery_id.substr(0, 64), "deliveryId");
  if (auto w = impl_->where.find(delivery_id); w != impl_->where.end()) {
    auto& slot = impl_->chains[w->second.first][w->second.second];
    if (slot.in_flight) return make_error(errc::conflict, "an attempt of this delivery is in flight; retry", "deliveryId");
  }
  s->d.status = "pending";
  s->round_start = s->d.attempts.size();
  s->d.next_attempt_at = impl_->clk->now();
  projections::view_write w;
  w.puts.emplace_back(record_key(delivery_id), to_store(*s));
  w.puts.emplace_back(pending_key(delivery_id), "");
  if (auto st = impl_->store->commit(w, dispatch_checkpoint, 0); !st) return st.error();
  impl_->enqueue_locked(s->d);
  impl_->wake.notify_all();
  return s->d;
}

result<attempt> delivery_service::test(const std::string& webhook_id) {
  auto ep = impl_->endpoints->get(webhook_id);
  if (!ep) return make_error(errc::not_found, "no webhook " + webhook_id, "id");
  auto now = impl_->clk->now();
  auto id = "msg_test_" + random_hex(12);
  json ce{{"specversion", "1.0"},
          {"id", id},
          {"source", impl_->opts.source},
          {"type", "webhook.test"},
          {"subject", ep->id},
          {"time", format_time(now)},
          {"datacontenttype", "application/json"},
          {"data", {{"webhookId", ep->id}, {"tenantId", ep->tenant_id}, {"message", "a test delivery from provisiond"}}}};
  return impl_->wire->send(*ep, id, dump_json(ce), now);
}

}  // namespace provisiond::webhooks
