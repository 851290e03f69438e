#pragma once
/// The lifecycle state a request enters with a journal event, for
/// `watch --until-state` (the stream carries events, not states). It
/// follows the state changes of events/request_state.cpp's apply: an event
/// that leaves the state as it was answers nothing.

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace provisiond::cli {

/// "step_started" with {"step":"allocate"} -> "Allocating"; "quota_reserved" -> nullopt.
std::optional<std::string> state_entered(std::string_view type, const nlohmann::json& data);

/// True if `name` is one of the lifecycle states the API shows (events/catalog.hpp).
bool is_lifecycle_state(std::string_view name);
/// The states, comma-separated, for a usage message.
std::string lifecycle_state_list();

}  // namespace provisiond::cli
