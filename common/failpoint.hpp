#pragma once
/// Failpoints for crash tests: `failpoint("name")` kills the process with
/// SIGKILL when the environment variable PROVISIOND_FAILPOINT equals "name",
/// exactly as `kill -9` would at that point. Unset in production: one
/// getenv per call, nothing else.

#include <csignal>
#include <cstdlib>
#include <cstring>

namespace provisiond {

inline void failpoint(const char* name) {
  const char* armed = std::getenv("PROVISIOND_FAILPOINT");
  if (armed && std::strcmp(armed, name) == 0) std::raise(SIGKILL);
}

}  // namespace provisiond
