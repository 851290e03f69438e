#pragma once
/// One tenant's admission book, as pure code: the quota reserved per request,
/// the working slots held (at most `max_in_flight`), the FIFO queue of
/// requests waiting for a slot and the dependency check. The tenant
/// supervisor owns one and only delivers its decisions. No CAF, no I/O: the
/// clock is a parameter, the read side a lookup function.

#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "actors/request/request_logic.hpp"
#include "actors/tenant/tenant_logic.hpp"
#include "common/clock.hpp"
#include "common/ids.hpp"
#include "events/request_state.hpp"

namespace provisiond::actors {

/// An earlier request whose quota was just reserved holds its place in the
/// queue this long for its slot request to arrive (FIFO by submission).
inline constexpr time_ms placeholder_grace_ms = 5000;

class admission_book {
 public:
  using lookup_fn = std::function<std::optional<events::lifecycle>(const std::string&)>;

  explicit admission_book(int max_in_flight) : max_in_flight_(max_in_flight) {}

  /// Rebuilds from the read side: one request's state, reservation and slot.
  void restore(const events::request_state& r);

  /// Phase 1 of admission: quota (all dimensions), then the approval rules.
  /// `exceed` with every violation, or `reserve` with the amount (kept on a
  /// second call) and the matching rule, if any. An ungated request takes its
  /// place in the queue at once, so later submissions do not overtake it.
  admission_decision reserve(const std::string& id, const events::request_submitted& spec, std::uint64_t order,
                             const quota_amount& limits, const std::vector<approval_rule>& rules, time_ms now);

  /// Phase 2: the request asks for a working slot. `admit` at once if it holds
  /// one already; otherwise it waits in the queue (asking) until pump() grants it.
  std::optional<admission_decision> ask_slot(const std::string& id, std::uint64_t order,
                                             const std::vector<std::string>& depends_on, time_ms now);

  /// A durable change of one request (state, quota held, slot held).
  void record(const std::string& id, events::lifecycle state, bool quota_held, const quota_amount& reserved,
              bool holds_slot);

  struct pumped {
    std::vector<std::pair<std::string, admission_decision>> answers;  ///< to the asking requests, in order
    std::optional<time_ms> look_again_at;                             ///< a placeholder holds the line until then
  };
  /// Grants free slots in FIFO order to asking requests whose dependencies are
  /// Completed; fails those whose dependency failed or that sit on a cycle.
  /// `lookup` gives the state of a request this book does not know (read side).
  pumped pump(time_ms now, const lookup_fn& lookup);

  /// Drops every asking waiter (the supervisor stops); returns their ids.
  std::vector<std::string> drop_asking();

  quota_amount used() const;
  std::size_t in_flight() const noexcept { return slots_.size(); }
  std::size_t asking() const;
  /// Nothing waits and nothing is in flight: the book may leave memory.
  bool idle() const noexcept { return waiting_.empty() && slots_.empty(); }

 private:
  struct waiter {
    waiting_request w;
    bool asking = false;  ///< false: a placeholder whose slot request is on the way
    time_ms since = 0;
  };
  std::vector<waiter>::iterator find(const std::string& id);
  void enqueue(waiter w);

  int max_in_flight_;
  std::unordered_map<std::string, quota_amount> reserved_;
  std::unordered_set<std::string> slots_;
  std::unordered_map<std::string, events::lifecycle> states_;  // for dependencies
  std::vector<waiter> waiting_;                                // by submission order
};

/// The dependency cycle a new request with a chosen id would close, if any:
/// Kahn over it and what it waits for transitively (at most 1000 requests,
/// looked up on the read side; finished ones end the walk). Empty: no cycle.
std::vector<std::string> dependency_cycle(
    const request_id& new_id, const std::vector<std::string>& depends_on,
    const std::function<std::optional<events::request_state>(const request_id&)>& lookup);

}  // namespace provisiond::actors
