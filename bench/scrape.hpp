#pragma once
/// One figure of a running provisiond's GET /metrics, for the benches that
/// start the real binary.

#include <cstdint>
#include <string>

#include "tests/support/http_client.hpp"

namespace provisiond::bench {

/// The value of the first series whose line starts with `name` (labels
/// included, e.g. `provisiond_requests{state="Completed"}`); -1 when absent.
inline long metric(std::uint16_t port, const std::string& name) {
  auto text = testing::http_call(port, "GET", "/metrics").body;
  auto at = text.find("\n" + name);
  if (at == std::string::npos) return -1;
  auto sp = text.find(' ', at + 1);
  return std::stol(text.substr(sp + 1));
}

/// Requests at rest in a terminal state, from the read model's counts.
inline long finished(std::uint16_t port) {
  return metric(port, "provisiond_requests{state=\"Completed\"}") +
         metric(port, "provisiond_requests{state=\"RolledBack\"}") + metric(port, "provisiond_requests{state=\"Failed\"}");
}

}  // namespace provisiond::bench
