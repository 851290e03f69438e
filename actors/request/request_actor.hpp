#pragma once
/// The request actor: the single writer of one request's stream. It replays
/// the stream, runs `decide` on every command and provider result, appends
/// the events (one batch per step of the fold) and drives the 4 steps, the
/// retries and the rollback (`next_action`). Provider calls run on the I/O
/// pool through the cluster's gate (provider_calls.cpp); placement asks the
/// cluster actors (placement.cpp); admission asks the tenant supervisor.

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "actors/detail/context.hpp"
#include "actors/detail/protocol.hpp"
#include "actors/request/request_logic.hpp"
#include "common/log.hpp"

namespace provisiond::actors::detail {

/// A request waiting longer than this (backoff) leaves memory until it is due.
constexpr time_ms passivate_waits_over_ms = 1000;

/// A log line about a decided event, written once the event is appended.
struct event_note {
  log::level level = log::level::info;
  std::string message;
  log::fields fields;
};

struct request_actor_state {
  request_state req;
  std::uint64_t durable_version = 0;  // last sequence known durable
  std::vector<ev::event> pending;     // decided and applied, not yet appended
  std::vector<event_note> notes;            // log lines of `pending`
  std::vector<event_note> notes_appending;  // of the append in flight
  std::optional<ev::dedupe_record> dedupe;
  std::optional<caf::response_promise> submit_promise;
  bool busy = false;         // an append, provider call or timer is outstanding
  bool recovered = false;    // the running step's intent came from replay: settle it first
  std::string dedupe_field;  // names the key in a conflict error
  caf::actor registry;
  std::uint64_t created_position = 0;  // journal position of request_submitted
  std::optional<status_msg> last_status;
  // Replies owed once the stream reaches a version (approve/reject).
  std::vector<std::pair<std::uint64_t, caf::response_promise>> owed;
  // The provider call outstanding (for stuck detection), and calls given up
  // as stuck whose answer may still come.
  std::optional<std::pair<step_kind, int>> calling;
  std::uint64_t calling_id = 0;  // its ticket in the stuck watchdog
  std::set<std::pair<step_kind, int>> abandoned;
  // The cluster whose actor was last told this request holds capacity there.
  std::string held_cluster;
  static inline const char* name = "request";
};

using request_actor = caf::stateful_actor<request_actor_state>;

/// The actor's behaviour: replays the stream of `id`, then serves commands.
caf::behavior request_actor_fn(request_actor* self, context* ctx, std::string id, caf::actor registry);

// Shared by the request actor's files.
void drive(request_actor* self, context* ctx);
bool stage(request_actor* self, context* ctx, const command& c);
void flush(request_actor* self, context* ctx);
/// Log lines about the request, with its request, tenant and cluster ids.
void log_error(const request_actor* self, const std::string& what);
void log_warn(const request_actor* self, const std::string& what);
void call_step(request_actor* self, context* ctx, step_kind step);
void call_release(request_actor* self, context* ctx, step_kind step);
void call_power(request_actor* self, context* ctx);
void place(request_actor* self, context* ctx);
void report_capacity(request_actor* self, context* ctx);

}  // namespace provisiond::actors::detail
