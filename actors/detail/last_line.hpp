#pragma once
/// The last line of defence of every actor (nothing in a handler should
/// throw; these make sure a caller is answered at once if something does).

#include <exception>
#include <string>

#include <caf/all.hpp>

#include "common/log.hpp"
#include "common/metrics.hpp"

namespace provisiond::actors::detail {

// Answers a promise that an exception unwinds past before it was delivered
// (the actor's exception handler cannot: the message counts as answered
// once its promise exists).
class unwind_guard {
 public:
  explicit unwind_guard(caf::response_promise& rp) : rp_(rp), uncaught_(std::uncaught_exceptions()) {}
  unwind_guard(const unwind_guard&) = delete;
  unwind_guard& operator=(const unwind_guard&) = delete;
  ~unwind_guard() {
    if (std::uncaught_exceptions() > uncaught_ && rp_.pending()) rp_.deliver(caf::make_error(caf::sec::runtime_error));
  }

 private:
  caf::response_promise& rp_;
  int uncaught_;
};

// The last line of defence (nothing in a handler should throw): an actor
// whose handler throws answers the message it was handling, if that is a
// request, and every caller it still owes (`owed`), with an error at once,
// then stops; the registry respawns request actors from their stream.
template <class Self, class Owed>
void answer_on_exception(Self* self, const char* kind, Owed owed) {
  self->set_exception_handler([self, kind, owed](caf::scheduled_actor*, std::exception_ptr& ep) -> caf::error {
    std::string what = "unknown exception";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    log::error(std::string(kind) + " actor stopped on an exception: " + what, log::fields{}.with("actor", kind));
    metrics::registry::global()
        .get_counter("provisiond_actor_exceptions_total", "Actor handlers that threw (answered with an error)",
                     {{"actor", kind}})
        .inc();
    auto rp = self->make_response_promise();
    if (rp.pending()) rp.deliver(caf::make_error(caf::sec::runtime_error));
    owed(self);
    return caf::make_error(caf::sec::runtime_error);
  });
}

}  // namespace provisiond::actors::detail
