#include "actors/governance/admin_stream.hpp"

#include "events/codec.hpp"

namespace provisiond::actors {

namespace ev = provisiond::events;

admin_stream::admin_stream(std::shared_ptr<ev::journal> journal, std::string name)
    : journal_(std::move(journal)), name_(std::move(name)) {}

result<std::vector<ev::event>> admin_stream::unread() {
  auto envs = journal_->read_stream(name_, version_ + 1);
  if (!envs) return envs.error();
  std::vector<ev::event> out;
  out.reserve(envs->size());
  for (auto& env : *envs) {
    auto e = ev::decode(env);
    if (!e) return e.error();
    out.push_back(std::move(*e));
    version_ = env.sequence;
  }
  return out;
}

status admin_stream::append(const ev::event& e, time_ms now) {
  ev::append_request req;
  req.stream = name_;
  req.expected_sequence = version_;
  req.events.push_back(ev::make_pending(e, now));
  req.to_outbox = false;  // one instance: admin state is not on Kafka
  if (token_) {
    auto token = token_();
    if (!token)
      return make_error(errc::fenced, "admin state is written by the instance that owns its partition; retry");
    req.fencing_token = *token;
    req.to_outbox = true;  // the changelog carries it to the other instances
  }
  auto r = journal_->append(std::move(req));
  if (!r) return r.error();
  version_ = r->last_sequence;
  return ok();
}

}  // namespace provisiond::actors
