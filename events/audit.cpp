#include "events/audit.hpp"

namespace provisiond::events {

namespace {

std::string who(const std::string& stream) {
  auto rid = request_of_stream(stream);
  return rid.empty() ? "stream " + stream : "request " + rid + " (stream " + stream + ")";
}

}  // namespace

std::string describe(const broken_link& b) {
  if (b.stream.empty()) return "checkpoint at global position " + std::to_string(b.position) + ": " + b.reason;
  std::string out = who(b.stream) + ", sequence " + std::to_string(b.sequence);
  if (b.position) out += ", global position " + std::to_string(b.position);
  if (!b.type.empty()) out += ", event type " + b.type;
  return out + ": " + b.reason;
}

broken_link chain_check::at(const envelope& e, std::string reason) const {
  return broken_link{stream_, e.sequence, e.global_position, e.type, std::move(reason)};
}

std::optional<broken_link> chain_check::next(std::uint64_t key_sequence, const result<envelope>& stored) {
  if (!stored)
    return broken_link{stream_, key_sequence, 0, "", "the stored bytes do not decode (" + stored.error().message + ")"};
  const envelope& e = *stored;
  if (e.stream != stream_ || e.sequence != key_sequence)
    return at(e, "stored as sequence " + std::to_string(key_sequence) + " of " + stream_ + " but it says sequence " +
                     std::to_string(e.sequence) + " of " + e.stream + " (moved or reordered)");
  if (key_sequence != last_sequence_ + 1)
    return at(e, "sequence " + std::to_string(last_sequence_ + 1) +
                     (key_sequence - 1 > last_sequence_ + 1 ? " to " + std::to_string(key_sequence - 1) : "") +
                     " missing before it (removed)");
  if (e.hash.empty()) {
    if (chain_start_)
      return at(e, "it carries no hash although the stream's chain starts at sequence " + std::to_string(chain_start_));
  } else {
    if (!link_holds(e)) return at(e, "its stored hash does not match its content (the event was changed)");
    if (!chain_start_ && e.previous_hash != chain_origin())
      return at(e, "its previousHash names an event that is not there (the chain's first events were removed)");
    if (chain_start_ && e.previous_hash != last_hash_)
      return at(e, "its previousHash is not the hash of sequence " + std::to_string(last_sequence_) +
                       " (that event was changed, removed or reordered)");
    if (!chain_start_) chain_start_ = e.sequence;
    last_hash_ = e.hash;
    ++hashed_;
  }
  last_sequence_ = e.sequence;
  last_position_ = e.global_position;
  last_type_ = e.type;
  ++events_;
  return std::nullopt;
}

std::optional<broken_link> chain_check::finish(std::optional<std::pair<std::uint64_t, std::string>> head) const {
  broken_link last{stream_, last_sequence_, last_position_, last_type_, ""};
  if (!head) {
    last.reason = "the journal records no head for this stream (the stream was inserted)";
    return last;
  }
  if (head->first != last_sequence_) {
    last.reason = "the stream's head says sequence " + std::to_string(head->first) + " but the last stored event is " +
                  std::to_string(last_sequence_) + " (events at its end were removed or added)";
    return last;
  }
  if (!head->second.empty() && head->second != last_hash_) {
    last.reason = "the stream's head hash is not this event's hash (the last event was replaced)";
    return last;
  }
  return std::nullopt;
}

std::optional<std::string> chain_check::note() const {
  if (chain_start_ == 1 || events_ == 0) return std::nullopt;
  if (!chain_start_) return who(stream_) + ": no event is hashed yet; all " + std::to_string(events_) + " predate hashing";
  return who(stream_) + ": chain starts at sequence " + std::to_string(chain_start_) +
         "; earlier events predate hashing";
}

std::optional<broken_link> digest_check::next(std::uint64_t key_position, const result<envelope>& stored,
                                              bool copies_agree) {
  if (!stored)
    return broken_link{"?", 0, key_position, "",
                       "the event stored at this position does not decode (" + stored.error().message + ")"};
  const envelope& e = *stored;
  auto at = [&](std::string reason) { return broken_link{e.stream, e.sequence, key_position, e.type, std::move(reason)}; };
  if (key_position != position_ + 1)
    return at("global position " + std::to_string(position_ + 1) +
              (key_position - 1 > position_ + 1 ? " to " + std::to_string(key_position - 1) : "") +
              " missing before it (removed)");
  if (e.global_position != key_position)
    return at("stored at global position " + std::to_string(key_position) + " but it says " +
              std::to_string(e.global_position));
  const bool checked = only_stream_.empty() || e.stream == only_stream_;
  if (checked && !e.hash.empty() && !link_holds(e))
    return at("its stored hash does not match its content (the event was changed)");
  if (checked && !copies_agree) return at("its copy in the global order and its copy in the stream index differ");
  digest_ = digest_step(digest_, e);
  position_ = key_position;
  if (auto c = checkpoints_.find(key_position); c != checkpoints_.end()) return check_checkpoint(c->second, e);
  return std::nullopt;
}

std::optional<broken_link> digest_check::check_checkpoint(const checkpoint& c, const envelope& e) {
  broken_link b{"", e.sequence, c.position, e.type, ""};
  if (!key_) b.reason = "there is no checkpoint key to check its signature with";
  else if (!signature_holds(c, *key_)) b.reason = "its signature does not verify (forged, or signed with another key)";
  else if (c.digest != digest_)
    b.reason = "the journal up to it does not digest to the signed value (events up to position " +
               std::to_string(c.position) + " were changed, removed, added or reordered)";
  else {
    ++verified_;
    last_checkpoint_ = c.position;
    return std::nullopt;
  }
  b.reason += " (last event " + who(e.stream) + ", sequence " + std::to_string(e.sequence) + ")";
  return b;
}

std::optional<broken_link> digest_check::finish(std::uint64_t last_position) const {
  if (last_position != position_)
    return broken_link{"", 0, position_,
                       "",
                       "the journal's last position is " + std::to_string(last_position) + " but its events stop at " +
                           std::to_string(position_) + " (events at the end were removed)"};
  if (auto c = checkpoints_.upper_bound(position_); c != checkpoints_.end())
    return broken_link{"", 0, c->first, "",
                       "it lies beyond the last stored event at position " + std::to_string(position_) +
                           " (events were removed)"};
  return std::nullopt;
}

std::string render(const audit_report& r, bool one_request) {
  std::string out;
  out += std::string("chains: ") + std::to_string(r.streams) + (r.streams == 1 ? " stream, " : " streams, ") +
         std::to_string(r.events) + " events, " + std::to_string(r.hashed) + " hashed" +
         (one_request ? " (one request)" : "") + "\n";
  for (auto& n : r.notes) out += "  " + n + "\n";
  if (!r.global_checked) {
    out += "global order and checkpoints: not checked (a chain broke first)\n";
  } else {
    out += "global order: " + std::to_string(r.positions) +
           " positions, each event's hash and both stored copies checked\n";
    out += "checkpoints: " + std::to_string(r.checkpoints) + " verified" +
           (r.checkpoints ? ", the last at global position " + std::to_string(r.last_checkpoint) : "") + "\n";
  }
  out += r.broken ? "BROKEN: " + describe(*r.broken) + "\n" : "OK: every chain and checkpoint holds\n";
  return out;
}

}  // namespace provisiond::events
