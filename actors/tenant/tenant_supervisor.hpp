#pragma once
/// One actor per tenant delivers its admission book's decisions: quota and
/// approval at submission, then a working slot in FIFO order once the
/// dependencies are done. Request actors reach it through the registry. An
/// idle supervisor (nothing waiting or in flight) leaves memory after
/// `supervisor_idle_ms` and is rebuilt from the read side when needed.

#include <string>
#include <unordered_map>

#include <caf/all.hpp>

#include "actors/detail/context.hpp"
#include "actors/tenant/admission_book.hpp"

namespace provisiond::actors::detail {

struct supervisor_state {
  std::string tenant;
  admission_book book{5};
  std::unordered_map<std::string, caf::response_promise> asking;  // slot requests not answered yet
  caf::actor registry;
  time_ms last_active = 0;
  bool idle_check_due = false;  // a timer will ask whether it is still idle
  static inline const char* name = "tenant-supervisor";
};

using supervisor_actor = caf::stateful_actor<supervisor_state>;

caf::behavior supervisor_fn(supervisor_actor* self, context* ctx, std::string tenant, caf::actor registry);

}  // namespace provisiond::actors::detail
