#pragma once
/// The request-summary read model: one row per request (its folded state)
/// plus indexes by creation, tenant, state and tenant+state. Fed from the
/// journal's global order by its own thread; the checkpoint is written in the
/// same batch as the rows, so it can stop anywhere and resume, or rebuild
/// from zero.

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/ids.hpp"
#include "common/result.hpp"
#include "events/journal.hpp"
#include "events/request_state.hpp"
#include "projections/view_store.hpp"

namespace provisiond::projections {

/// The API's JSON for a request ({id, tenantId, state, steps, ...}).
std::string render_request(const events::request_state& s);

struct list_query {
  provisiond::tenant_id tenant_id;  ///< empty: all tenants
  std::optional<events::lifecycle> state;
  std::size_t limit = 50;
  std::string cursor;  ///< from a previous page's next_cursor
};

struct list_page {
  std::vector<std::string> items_json;  ///< rendered requests, oldest first
  std::string next_cursor;              ///< empty on the last page
};

class request_summary_projection {
 public:
  request_summary_projection(std::shared_ptr<events::journal> journal, std::shared_ptr<view_store> store);
  ~request_summary_projection();

  /// Starts the projector thread (woken by the journal's commits).
  void start();
  /// Stops the thread after the batch in progress. Safe to call twice.
  void stop();
  /// Processes everything committed so far on the calling thread.
  status catch_up();
  /// Deletes the view and rebuilds it from the first event.
  status rebuild();
  /// Blocks until the view has processed `position` or the timeout passes.
  bool wait_for(std::uint64_t position, std::chrono::milliseconds timeout);
  std::uint64_t checkpoint() const;

  /// The folded state of one request, if the view has it.
  result<std::optional<events::request_state>> get(const request_id& id);
  result<list_page> list(const list_query& q);
  /// Every request of a tenant, folded (to rebuild its supervisor).
  result<std::vector<events::request_state>> tenant_states(const tenant_id& tenant);
  /// Every request holding capacity on a cluster (to rebuild its actor).
  result<std::vector<events::request_state>> cluster_holders(const cluster_id& cluster);
  /// Every request in one lifecycle state, oldest first.
  result<std::vector<events::request_state>> in_state(events::lifecycle state);
  /// Requests per lifecycle state (index = events::lifecycle), as of the checkpoint.
  std::array<std::int64_t, 11> state_counts() const;
  /// Ids of requests in a non-terminal state (to resume at start-up).
  result<std::vector<request_id>> unfinished();

 private:
  result<std::vector<events::request_state>> states_under(const std::string& index_prefix);
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace provisiond::projections
