#include "projections/request_summary.hpp"
#include "common/json.hpp"
#include "common/log.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "events/catalog.hpp"
#include "events/codec.hpp"
#include "events/json_mapping.hpp"

namespace provisiond::projections {

using nlohmann::json;
namespace ev = provisiond::events;

namespace {

const std::string projection_name = "request-summary";

std::string pos_key(std::uint64_t pos) {
  static constexpr char d[] = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, pos >>= 4) s[i] = d[pos & 0xf];
  return s;
}

// A row ("s/<id>") is the request's full folded state, for the projector to
// continue folding. Its values use the one mapping (events/json_mapping.hpp).
// Format 1 (rows without "format") stored the lifecycle state and step
// statuses as enum ordinals; format 2 stores their names. Both are read.
constexpr int row_format = 2;

json resources_json(const std::vector<ev::resource_ref>& rs) {
  json out = json::array();
  for (auto& r : rs) out.push_back(ev::to_json(r));
  return out;
}

json admission_json(const ev::request_state& s) {
  return json{{"quotaHeld", s.quota_held},
              {"reserved", ev::to_json(s.reserved)},
              {"violations", ev::to_json(s.violations)},
              {"approvalPending", s.approval_pending},
              {"approval", ev::to_json(s.approval)},
              {"approvalComment", s.approval_comment},
              {"rejectionReason", s.rejection_reason},
              {"admitted", s.admitted}};
}

void admission_from(const json& j, ev::request_state& s) {
  if (!j.contains("admission")) return;
  const auto& a = j.at("admission");
  s.quota_held = a.at("quotaHeld").get<bool>();
  s.reserved = ev::from_json<ev::quota_amount>(a.at("reserved"));
  s.violations = ev::from_json<std::vector<ev::quota_violation>>(a.at("violations"));
  s.approval_pending = a.at("approvalPending").get<bool>();
  s.approval = ev::from_json<ev::approval_requested>(a.at("approval"));
  s.approval_comment = a.at("approvalComment").get<std::string>();
  s.rejection_reason = a.at("rejectionReason").get<std::string>();
  s.admitted = a.at("admitted").get<bool>();
}

json row_json(const ev::request_state& s, std::uint64_t created_position) {
  json steps = json::array();
  for (auto& st : s.steps)
    steps.push_back({{"status", ev::to_string(st.status)}, {"attempts", st.attempts},
                     {"lastError", st.last_error}, {"key", st.idempotency_key}, {"startedAt", st.started_at},
                     {"retryAt", st.retry_at}, {"compensated", st.compensated}, {"firstAttempt", st.first_attempt},
                     {"sent", st.sent}, {"sentBefore", st.sent_before}});
  return json{{"format", row_format},
              {"id", s.id},
              {"version", s.version},
              {"spec", ev::to_json(s.spec)},
              {"clusterId", s.cluster_id},
              {"state", ev::to_string(s.state)},
              {"steps", steps},
              {"resources", resources_json(s.resources)},
              {"outputs", s.outputs},
              {"failureCode", s.failure_code},
              {"failureReason", s.failure_reason},
              {"compensationAttempts", s.compensation_attempts},
              {"compensationRetryAt", s.compensation_retry_at},
              {"compensationError", s.compensation_error},
              {"createdAt", s.created_at},
              {"updatedAt", s.updated_at},
              {"createdPosition", created_position},
              {"admission", admission_json(s)},
              {"lifecycle",
               {{"pendingAction", s.pending_action ? ev::to_string(*s.pending_action) : ""},
                {"actionAttempts", s.action_attempts},
                {"actionRetryAt", s.action_retry_at},
                {"actionError", s.action_error},
                {"deprovisioning", s.deprovisioning},
                {"deprovisioned", s.deprovisioned}}},
              {"capacityHeld", s.capacity_held},
              {"capacity", ev::to_json(s.capacity)},
              {"manualMessage", s.manual_message},
              {"credentialKind", s.credential_kind}};
}

// An enum stored by name (format 2) or by ordinal (format 1).
template <class Enum, std::size_t N>
Enum enum_from(const json& j, int format, std::optional<Enum> (*parse)(std::string_view) noexcept, const char* what) {
  if (format >= 2) {
    auto name = j.get<std::string>();
    if (auto e = parse(name)) return *e;
    throw std::invalid_argument(std::string("unknown ") + what + " " + name);
  }
  auto i = j.get<int>();
  if (i < 0 || static_cast<std::size_t>(i) >= N) throw std::invalid_argument(std::string("unknown ") + what + " ordinal");
  return static_cast<Enum>(i);
}

// Throws on a corrupt row (read_row turns that into an error).
ev::request_state row_state(const json& j, std::uint64_t* created_position) {
  auto format = j.value("format", 1);
  if (format > row_format) throw std::invalid_argument("row format " + std::to_string(format) + " is newer than this build");
  ev::request_state s;
  s.id = j.at("id").get<std::string>();
  s.exists = true;
  s.version = j.at("version").get<std::uint64_t>();
  s.spec = ev::from_json<ev::request_submitted>(j.at("spec"));
  s.cluster_id = j.at("clusterId").get<std::string>();
  s.state = enum_from<ev::lifecycle, ev::lifecycle_names.size()>(j.at("state"), format, &ev::parse_lifecycle, "state");
  for (int i = 0; i < ev::step_count; ++i) {
    const auto& st = j.at("steps").at(i);
    auto& o = s.steps[i];
    o.status = enum_from<ev::step_status, ev::step_status_names.size()>(st.at("status"), format, &ev::parse_step_status,
                                                                        "step status");
    o.attempts = st.at("attempts").get<int>();
    o.last_error = st.at("lastError").get<std::string>();
    o.idempotency_key = st.at("key").get<std::string>();
    o.started_at = st.at("startedAt").get<time_ms>();
    o.retry_at = st.at("retryAt").get<time_ms>();
    o.compensated = st.at("compensated").get<bool>();
    o.first_attempt = st.value("firstAttempt", 1);
    o.sent = st.value("sent", o.attempts > 0);  // rows written before this field: assume sent
    o.sent_before = st.value("sentBefore", false);
  }
  for (auto& r : j.at("resources")) s.resources.push_back(ev::from_json<ev::resource_ref>(r));
  s.outputs = j.at("outputs").get<ev::string_map>();
  s.failure_code = j.at("failureCode").get<std::string>();
  s.failure_reason = j.at("failureReason").get<std::string>();
  s.compensation_attempts = j.at("compensationAttempts").get<int>();
  s.compensation_retry_at = j.at("compensationRetryAt").get<time_ms>();
  s.compensation_error = j.at("compensationError").get<std::string>();
  s.created_at = j.at("createdAt").get<time_ms>();
  s.updated_at = j.at("updatedAt").get<time_ms>();
  if (created_position) *created_position = j.at("createdPosition").get<std::uint64_t>();
  admission_from(j, s);
  if (j.contains("lifecycle")) {
    const auto& l = j.at("lifecycle");
    s.pending_action = ev::parse_lifecycle_action(l.value("pendingAction", ""));
    s.action_attempts = l.value("actionAttempts", 0);
    s.action_retry_at = l.value("actionRetryAt", time_ms{0});
    s.action_error = l.value("actionError", "");
    s.deprovisioning = l.value("deprovisioning", false);
    s.deprovisioned = l.value("deprovisioned", false);
  }
  s.capacity_held = j.value("capacityHeld", false);
  if (j.contains("capacity")) s.capacity = ev::from_json<cluster_capacity>(j.at("capacity"));
  s.manual_message = j.value("manualMessage", "");
  s.credential_kind = j.value("credentialKind", "");
  return s;
}

result<ev::request_state> read_row(const std::string& key, const std::string& bytes, std::uint64_t* created_position) {
  try {
    return row_state(parse_json_lenient(bytes), created_position);
  } catch (const std::exception& e) {
    return make_error(errc::internal, "corrupt " + projection_name + " row " + key + ": " + e.what());
  }
}

// The state recorded in a row's index keys ("st/<state>\x01...").
ev::lifecycle state_of_index(const std::vector<std::string>& keys) {
  for (auto& k : keys)
    if (k.rfind("st/", 0) == 0) return ev::parse_lifecycle(k.substr(3, k.find('\x01') - 3)).value_or(ev::lifecycle::queued);
  return ev::lifecycle::queued;
}

std::string state_prefix(ev::lifecycle s) { return std::string("st/") + ev::to_string(s) + '\x01'; }
// Requests holding capacity on a cluster.
std::string cluster_prefix(const std::string& cluster) { return "cl/" + cluster + '\x01'; }

// Calls fn(request id) for every row of an index prefix, page by page.
template <class Fn>
status for_each_id(view_store& store, const std::string& prefix, Fn fn) {
  std::string after;
  for (;;) {
    auto rows = store.scan(prefix, after, 1024);
    if (!rows) return rows.error();
    for (auto& [key, id] : *rows)
      if (auto st = fn(id); !st) return st;
    if (rows->size() < 1024) return ok();
    after = rows->back().first;
  }
}

std::vector<std::string> index_keys(const ev::request_state& s, std::uint64_t created) {
  auto p = pos_key(created);
  std::string state = ev::to_string(s.state);
  const auto& t = s.spec.tenant_id;
  std::vector<std::string> keys{"c/" + p, "t/" + t + '\x01' + p, state_prefix(s.state) + p,
                                "ts/" + t + '\x01' + state + '\x01' + p};
  if (s.capacity_held) keys.push_back(cluster_prefix(s.cluster_id) + p);
  return keys;
}

}  // namespace

std::string render_request(const ev::request_state& s) {
  json steps = json::array();
  for (int i = 0; i < ev::step_count; ++i) {
    const auto& st = s.steps[i];
    json j{{"name", ev::to_string(static_cast<ev::step_kind>(i))},
           {"status", ev::to_string(st.status)},
           {"attempts", st.attempts},
           {"lastError", st.last_error.empty() ? json(nullptr) : json(st.last_error)}};
    if (st.status == ev::step_status::failed && st.retry_at > 0) j["retryAt"] = format_time(st.retry_at);
    steps.push_back(std::move(j));
  }
  json out{{"id", s.id},
           {"tenantId", s.spec.tenant_id},
           {"orderId", s.spec.order_id},
           {"type", s.spec.type},
           {"region", s.spec.region},
           {"provider", s.spec.provider},
           {"clusterId", s.cluster_id.empty() ? json(nullptr) : json(s.cluster_id)},
           {"state", ev::to_string(s.state)},
           {"steps", steps},
           {"resources", ev::to_json(s.spec.resources)},
           {"allocatedResources", resources_json(s.resources)},
           {"endpoints", s.state == ev::lifecycle::completed ? json(s.outputs) : json::object()},
           {"metadata", s.spec.metadata},
           {"version", s.version},
           {"createdAt", format_time(s.created_at)},
           {"updatedAt", format_time(s.updated_at)}};
  out["dependsOn"] = s.spec.depends_on;
  out["deprovisioned"] = s.deprovisioned;
  if (s.pending_action) out["pendingAction"] = ev::to_string(*s.pending_action);
  if (!s.action_error.empty()) out["lastActionError"] = s.action_error;
  if (!s.failure_code.empty()) {
    out["failure"] = {{"code", s.failure_code}, {"reason", s.failure_reason}};
    if (!s.violations.empty()) out["failure"]["violations"] = ev::to_json(s.violations);
  }
  if (!s.approval.rule_id.empty()) {
    auto a = ev::to_json(s.approval);
    a["state"] = s.approval_pending ? "pending" : !s.rejection_reason.empty() ? "rejected" : "approved";
    if (!s.approval_comment.empty()) a["comment"] = s.approval_comment;
    if (!s.rejection_reason.empty()) a["reason"] = s.rejection_reason;
    out["approval"] = a;
  }
  if (s.capacity_held) out["clusterCapacity"] = ev::to_json(s.capacity);
  if (!s.manual_message.empty()) out["awaitingManualInput"] = {{"message", s.manual_message}};
  if (!s.credential_kind.empty()) out["credential"] = s.credential_kind;
  if (s.state == ev::lifecycle::rolling_back && !s.compensation_error.empty())
    out["rollback"] = {{"lastError", s.compensation_error}, {"attempts", s.compensation_attempts}};
  return out.dump();
}

struct request_summary_projection::impl {
  std::shared_ptr<ev::journal> journal;
  std::shared_ptr<view_store> store;
  mutable std::mutex mutex;
  std::condition_variable wake;      // new commits or stop
  std::condition_variable progress;  // checkpoint advanced
  std::mutex work_mutex;             // one batch at a time
  std::uint64_t checkpoint = 0;
  std::uint64_t seen_commit = 0;
  std::array<std::int64_t, 11> counts{};  // guarded by mutex
  bool stopping = false;
  std::thread thread;

  // Processes one batch; returns the number of events processed.
  result<std::size_t> step(std::size_t max) {
    std::lock_guard work{work_mutex};
    std::uint64_t from;
    {
      std::lock_guard lock{mutex};
      from = checkpoint + 1;
    }
    auto batch = journal->read_all(from, max);
    if (!batch) return batch.error();
    if (batch->empty()) return std::size_t{0};
    struct row {
      ev::request_state state;
      std::uint64_t created = 0;
      std::vector<std::string> old_index;
    };
    std::unordered_map<std::string, row> rows;
    for (auto& env : *batch) {
      auto id = ev::request_of_stream(env.stream);
      if (id.empty()) continue;
      auto it = rows.find(id);
      if (it == rows.end()) {
        row r;
        auto stored = store->get("s/" + id);
        if (!stored) return stored.error();
        if (*stored) {
          auto state = read_row("s/" + id, **stored, &r.created);
          if (!state) return state.error();
          r.state = std::move(*state);
          r.old_index = index_keys(r.state, r.created);
        } else {
          r.state.id = id;
          r.created = env.global_position;
        }
        it = rows.emplace(id, std::move(r)).first;
      }
      if (env.sequence <= it->second.state.version) continue;  // already folded (idempotent replay)
      auto e = ev::decode(env);
      if (!e) return e.error();
      ev::apply_in_place(it->second.state, *e, env.time);
    }
    view_write w;
    std::array<std::int64_t, 11> delta{};
    for (auto& [id, r] : rows) {
      if (!r.state.exists) continue;
      if (!r.old_index.empty()) --delta[static_cast<int>(state_of_index(r.old_index))];
      ++delta[static_cast<int>(r.state.state)];
      auto fresh = index_keys(r.state, r.created);
      for (auto& k : r.old_index)
        if (std::find(fresh.begin(), fresh.end(), k) == fresh.end()) w.deletes.push_back(k);
      for (auto& k : fresh) w.puts.emplace_back(k, id);
      w.puts.emplace_back("s/" + id, row_json(r.state, r.created).dump());
    }
    auto last = batch->back().global_position;
    auto st = store->commit(w, projection_name, last);
    if (!st) return st.error();
    {
      std::lock_guard lock{mutex};
      checkpoint = last;
      for (int i = 0; i < 11; ++i) counts[i] += delta[i];
    }
    progress.notify_all();
    return batch->size();
  }

  // Counts the rows of each state index (once, at start and after a rebuild).
  void recount() {
    std::array<std::int64_t, 11> fresh{};
    for (int i = 0; i < 11; ++i)
      for_each_id(*store, state_prefix(static_cast<ev::lifecycle>(i)), [&](const std::string&) {
        ++fresh[i];
        return ok();
      });
    std::lock_guard lock{mutex};
    counts = fresh;
  }

  void run() {
    for (;;) {
      {
        std::unique_lock lock{mutex};
        wake.wait_for(lock, std::chrono::milliseconds(500),
                      [&] { return stopping || seen_commit > checkpoint; });
        if (stopping) return;
      }
      auto n = step(2048);
      if (!n) {
        log::error("request-summary projection: " + n.error().message);
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    }
  }
};

request_summary_projection::request_summary_projection(std::shared_ptr<ev::journal> journal,
                                                       std::shared_ptr<view_store> store)
    : impl_(std::make_unique<impl>()) {
  impl_->journal = std::move(journal);
  impl_->store = std::move(store);
  auto cp = impl_->store->checkpoint(projection_name);
  impl_->checkpoint = cp ? *cp : 0;
  impl_->recount();
}

request_summary_projection::~request_summary_projection() { stop(); }

void request_summary_projection::start() {
  impl_->journal->on_commit([i = impl_.get()](std::uint64_t pos) {
    {
      std::lock_guard lock{i->mutex};
      i->seen_commit = std::max(i->seen_commit, pos);
    }
    i->wake.notify_one();
  });
  {
    std::lock_guard lock{impl_->mutex};
    impl_->seen_commit = impl_->journal->last_position();
  }
  impl_->thread = std::thread([i = impl_.get()] { i->run(); });
}

void request_summary_projection::stop() {
  {
    std::lock_guard lock{impl_->mutex};
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

status request_summary_projection::catch_up() {
  for (;;) {
    auto n = impl_->step(4096);
    if (!n) return n.error();
    if (*n == 0) return ok();
  }
}

status request_summary_projection::rebuild() {
  {
    std::lock_guard work{impl_->work_mutex};
    auto st = impl_->store->clear();
    if (!st) return st;
    std::lock_guard lock{impl_->mutex};
    impl_->checkpoint = 0;
    impl_->counts = {};
  }
  return catch_up();
}

bool request_summary_projection::wait_for(std::uint64_t position, std::chrono::milliseconds timeout) {
  std::unique_lock lock{impl_->mutex};
  return impl_->progress.wait_for(lock, timeout, [&] { return impl_->checkpoint >= position; });
}

std::array<std::int64_t, 11> request_summary_projection::state_counts() const {
  std::lock_guard lock{impl_->mutex};
  return impl_->counts;
}

std::uint64_t request_summary_projection::checkpoint() const {
  std::lock_guard lock{impl_->mutex};
  return impl_->checkpoint;
}

result<std::optional<ev::request_state>> request_summary_projection::get(const request_id& id) {
  auto stored = impl_->store->get("s/" + id.str());
  if (!stored) return stored.error();
  if (!*stored) return std::optional<ev::request_state>{};
  auto state = read_row("s/" + id.str(), **stored, nullptr);
  if (!state) return state.error();
  return std::optional<ev::request_state>{std::move(*state)};
}

result<list_page> request_summary_projection::list(const list_query& q) {
  std::string prefix;
  if (!q.tenant_id.empty() && q.state) prefix = "ts/" + q.tenant_id.str() + '\x01' + ev::to_string(*q.state) + '\x01';
  else if (!q.tenant_id.empty()) prefix = "t/" + q.tenant_id.str() + '\x01';
  else if (q.state) prefix = state_prefix(*q.state);
  else prefix = "c/";
  auto rows = impl_->store->scan(prefix, q.cursor.empty() ? "" : prefix + q.cursor, q.limit + 1);
  if (!rows) return rows.error();
  list_page page;
  for (std::size_t i = 0; i < rows->size() && i < q.limit; ++i) {
    auto s = get(request_id{(*rows)[i].second});
    if (!s) return s.error();
    if (*s) page.items_json.push_back(render_request(**s));
  }
  if (rows->size() > q.limit) page.next_cursor = (*rows)[q.limit - 1].first.substr(prefix.size());
  return page;
}

result<std::vector<ev::request_state>> request_summary_projection::tenant_states(const tenant_id& tenant) {
  return states_under("t/" + tenant.str() + '\x01');
}

result<std::vector<ev::request_state>> request_summary_projection::cluster_holders(const cluster_id& cluster) {
  return states_under(cluster_prefix(cluster.str()));
}

result<std::vector<ev::request_state>> request_summary_projection::in_state(ev::lifecycle state) {
  return states_under(state_prefix(state));
}

result<std::vector<ev::request_state>> request_summary_projection::states_under(const std::string& prefix) {
  std::vector<ev::request_state> out;
  auto st = for_each_id(*impl_->store, prefix, [&](const std::string& id) -> status {
    auto s = get(request_id{id});
    if (!s) return s.error();
    if (*s) out.push_back(std::move(**s));
    return ok();
  });
  if (!st) return st.error();
  return out;
}

result<std::vector<request_id>> request_summary_projection::unfinished() {
  std::vector<request_id> ids;
  for (int i = 0; i < 11; ++i) {
    auto s = static_cast<ev::lifecycle>(i);
    if (ev::is_terminal(s)) continue;
    auto st = for_each_id(*impl_->store, state_prefix(s), [&](const std::string& id) {
      ids.emplace_back(id);
      return ok();
    });
    if (!st) return st.error();
  }
  return ids;
}

}  // namespace provisiond::projections
