#include "events/state_cache.hpp"

#include "events/codec.hpp"

namespace provisiond::events {

result<request_state> state_cache::after(const envelope& env, const event& e) {
  auto id = request_of_stream(env.stream);
  auto it = states_.find(id);
  if (it == states_.end() || it->second.version + 1 != env.sequence) {
    if (states_.size() > 10'000) states_.clear();
    request_state s;
    s.id = id;
    auto stream = journal_->read_stream(env.stream, 1, env.sequence - 1);
    if (!stream) return stream.error();
    for (auto& prior : *stream) {
      auto pe = decode(prior);
      if (!pe) return pe.error();
      apply_in_place(s, *pe, prior.time);
    }
    it = states_.insert_or_assign(id, std::move(s)).first;
  }
  apply_in_place(it->second, e, env.time);
  auto out = it->second;
  if (is_terminal(out.state) || out.state == lifecycle::suspended || out.state == lifecycle::pending_approval)
    states_.erase(it);
  return out;
}

}  // namespace provisiond::events
