#pragma once
/// The actor protocol on one page: every message exchanged by the engine's
/// actors (registry, request actors, tenant supervisors, cluster actors) and
/// every atom. Local messaging only, so the types are allowed as unsafe
/// message types instead of being serialisable.

#include <cstdint>
#include <string>

#include <caf/all.hpp>

#include "actors/engine.hpp"
#include "actors/request/request_logic.hpp"
#include "events/domain_events.hpp"
#include "events/journal.hpp"
#include "events/request_state.hpp"
#include "providers/provider.hpp"

namespace provisiond::actors::detail {

namespace ev = provisiond::events;

struct submit_msg {
  ev::request_submitted spec;
  std::string dedupe_key;
  std::string request_id;  // chosen by the client, or empty
};
struct submit_reply {
  result<submit_outcome> outcome;
};
struct append_done {
  result<ev::append_result> r;
};
struct step_done {
  step_kind step;
  int attempt;
  result<providers::step_outcome> r;
  bool adopted;
};
struct release_done {
  step_kind step;
  result<std::vector<std::string>> r;
};
/// Request actor → tenant supervisor: decide quota/rules, or grant a slot.
struct admit_msg {
  std::string id;
  ev::request_submitted spec;
  std::uint64_t order;  // journal position of the submission (FIFO)
  bool quota_held;
};
/// Request actor → tenant supervisor, after each durable change that matters.
struct status_msg {
  std::string id;
  std::string tenant;
  ev::lifecycle state;
  bool quota_held;
  ev::quota_amount reserved;
  bool holds_slot;
};
struct decision_msg {
  std::string id;
  bool approve;
  std::string text;
};
struct decision_reply {
  result<std::string> state;
};
struct lifecycle_msg {
  std::string id;
  events::lifecycle_action action = events::lifecycle_action::suspend;
  std::string dedupe_key;
  std::string tenant;  // when set, the request must belong to it
};
struct power_done {
  events::lifecycle_action action = events::lifecycle_action::suspend;
  status r;
};
struct usage_reply {
  result<tenant_usage> usage;
};
/// Request actor → cluster actor (through the registry).
struct reserve_msg {
  std::string cluster;
  std::string request_id;
  cluster_capacity want;
};
struct reserve_reply {
  std::string refusal;       // empty: reserved
  bool unavailable = false;  // the shared capacity store could not decide: ask again later
};
struct release_msg {
  std::string cluster;
  std::string request_id;
};
struct cluster_usage_reply {
  result<cluster_usage> usage;
};
/// Stop the actors of the tenants `which` selects (their partition moved).
struct evict_msg {
  std::function<bool(const tenant_id&)> which;
};
struct complete_msg {
  std::string id;
  complete_manual details;
};

}  // namespace provisiond::actors::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::detail::submit_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::detail::submit_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::detail::append_done)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::detail::step_done)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::detail::release_done)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::detail::admit_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::detail::status_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::detail::decision_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::detail::decision_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::detail::lifecycle_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::detail::power_done)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::detail::usage_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::admission_decision)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::detail::reserve_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::detail::reserve_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::detail::release_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::detail::cluster_usage_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::detail::complete_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(provisiond::actors::detail::evict_msg)

namespace provisiond::actors::detail {

using submit_atom = caf::atom_constant<caf::atom("submit")>;
using resume_atom = caf::atom_constant<caf::atom("resume")>;
using appended_atom = caf::atom_constant<caf::atom("appended")>;
using stepdone_atom = caf::atom_constant<caf::atom("stepdone")>;
using released_atom = caf::atom_constant<caf::atom("released")>;
using wake_atom = caf::atom_constant<caf::atom("wake")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using respawn_atom = caf::atom_constant<caf::atom("respawn")>;
using admit_atom = caf::atom_constant<caf::atom("admit")>;
using status_atom = caf::atom_constant<caf::atom("status")>;
using decide_atom = caf::atom_constant<caf::atom("decide")>;
using usage_atom = caf::atom_constant<caf::atom("usage")>;
using pump_atom = caf::atom_constant<caf::atom("pump")>;
using lifecycle_atom = caf::atom_constant<caf::atom("lifecycle")>;
using powerdone_atom = caf::atom_constant<caf::atom("powerdone")>;
using passivate_atom = caf::atom_constant<caf::atom("passivate")>;
using reserve_atom = caf::atom_constant<caf::atom("reserve")>;
using release_atom = caf::atom_constant<caf::atom("release")>;
using clusters_atom = caf::atom_constant<caf::atom("clusters")>;
using stuck_atom = caf::atom_constant<caf::atom("stuck")>;
using complete_atom = caf::atom_constant<caf::atom("complete")>;
using idle_atom = caf::atom_constant<caf::atom("idle")>;
using evict_atom = caf::atom_constant<caf::atom("evict")>;

}  // namespace provisiond::actors::detail
