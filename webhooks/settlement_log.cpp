#include "webhooks/settlement_log.hpp"

namespace provisiond::webhooks {

namespace ev = provisiond::events;

settlement_log::settlement_log(std::shared_ptr<ev::journal> journal, std::shared_ptr<clock> time, fencing_fn fencing)
    : journal_(std::move(journal)), clock_(std::move(time)), fencing_(std::move(fencing)) {}

// The stream's last sequence, found with O(log n) point reads (a tenant's
// stream grows with every delivery: never read it whole).
result<std::uint64_t> settlement_log::head_of(const std::string& stream) {
  auto exists = [&](std::uint64_t seq) -> result<bool> {
    auto e = journal_->read_stream(stream, seq, 1);
    if (!e) return e.error();
    return !e->empty();
  };
  std::uint64_t lo = 0, hi = 1;  // lo exists (0: nothing), hi is probed
  for (;;) {
    auto there = exists(hi);
    if (!there) return there.error();
    if (!*there) break;
    lo = hi;
    hi *= 2;
  }
  while (hi - lo > 1) {  // lo exists, hi does not
    auto mid = lo + (hi - lo) / 2;
    auto there = exists(mid);
    if (!there) return there.error();
    (*there ? lo : hi) = mid;
  }
  return lo;
}

status settlement_log::append(const delivery& d) {
  std::lock_guard lock{mutex_};
  auto stream = ev::webhook_deliveries_stream(d.tenant_id);
  std::uint64_t token = 0;
  if (fencing_) {
    auto t = fencing_(d.tenant_id);
    if (!t) return make_error(errc::fenced, "the tenant's partition is no longer owned here", "tenantId");
    token = *t;
  }
  // A conflict means the stream moved on elsewhere (a previous owner): its
  // head is looked up again, once.
  for (int round = 0; round < 2; ++round) {
    auto head = heads_.find(stream);
    if (head == heads_.end()) {
      auto last = head_of(stream);
      if (!last) return last.error();
      head = heads_.emplace(stream, *last).first;
    }
    ev::append_request req;
    req.stream = stream;
    req.expected_sequence = head->second;
    req.events.push_back(ev::make_pending(
        ev::webhook_delivery_settled{d.id, d.webhook_id, d.event_id, d.status, d.attempts}, clock_->now()));
    req.fencing_token = token;
    req.to_outbox = static_cast<bool>(fencing_);  // scaled out, the changelog carries it to the others
    auto r = journal_->append(std::move(req));
    if (r) {
      head->second = r->last_sequence;
      return ok();
    }
    heads_.erase(stream);
    if (r.error().code != errc::conflict) return r.error();
  }
  return make_error(errc::conflict, "the stream " + stream + " keeps moving", "stream");
}

}  // namespace provisiond::webhooks
