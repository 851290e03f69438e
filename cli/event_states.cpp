#include "cli/event_states.hpp"

#include <array>
#include <utility>

#include "events/catalog.hpp"

namespace provisiond::cli {

namespace {

namespace ev = provisiond::events;

std::string state_name(ev::lifecycle s) {
  return std::string(ev::lifecycle_names[static_cast<std::size_t>(s)]);
}

// Events whose apply sets one state whatever came before.
constexpr std::array<std::pair<std::string_view, ev::lifecycle>, 11> fixed = {{
    {"request_submitted", ev::lifecycle::queued},
    {"approval_requested", ev::lifecycle::pending_approval},
    {"request_approved", ev::lifecycle::queued},
    {"request_completed", ev::lifecycle::completed},
    {"request_failed", ev::lifecycle::failed},
    {"rollback_started", ev::lifecycle::rolling_back},
    {"rolled_back", ev::lifecycle::rolled_back},
    {"service_suspended", ev::lifecycle::suspended},
    {"service_reactivated", ev::lifecycle::completed},
    {"deprovisioned", ev::lifecycle::rolled_back},
    {"retry_requested", ev::lifecycle::queued},
}};

// step_started: the working state of its step, in step order.
constexpr std::array<ev::lifecycle, ev::step_count> working = {ev::lifecycle::allocating, ev::lifecycle::configuring,
                                                               ev::lifecycle::activating, ev::lifecycle::verifying};

}  // namespace

std::optional<std::string> state_entered(std::string_view type, const nlohmann::json& data) {
  for (auto [name, state] : fixed)
    if (name == type) return state_name(state);
  auto text = [&](const char* key) -> std::string {
    if (!data.is_object() || !data.contains(key) || !data[key].is_string()) return {};
    return data[key].get<std::string>();
  };
  if (type == "step_started") {
    auto step = text("step");
    for (std::size_t i = 0; i < ev::step_names.size(); ++i)
      if (ev::step_names[i] == step) return state_name(working[i]);
    return std::nullopt;
  }
  if (type == "action_requested" && text("action") == "deprovision") return state_name(ev::lifecycle::rolling_back);
  return std::nullopt;
}

bool is_lifecycle_state(std::string_view name) {
  return ev::is_one_of(ev::lifecycle_names, name);
}

std::string lifecycle_state_list() {
  return ev::join_names(ev::lifecycle_names);
}

}  // namespace provisiond::cli
