#pragma once
/// provisionctl's exit codes: what a script does next, as in the README's
/// table. Every command ends with one of these.

namespace provisiond::cli {

enum class exit_code : int {
  ok = 0,
  usage = 1,        ///< bad flags or arguments (usage printed to stderr)
  not_found = 2,    ///< HTTP 404
  conflict = 3,     ///< HTTP 409: the state does not allow it; reread and decide
  refused = 4,      ///< HTTP 400/401/403/405/413/422 and other 4xx: fix the input or the token
  unavailable = 5,  ///< no answer (connection, timeout), 429 or 5xx: try again later
};

/// The exit code for an HTTP status (0 = nothing answered: unavailable).
constexpr exit_code exit_for_status(int status) noexcept {
  if (status >= 200 && status < 300) return exit_code::ok;
  if (status == 404) return exit_code::not_found;
  if (status == 409) return exit_code::conflict;
  if (status == 429 || status >= 500 || status == 0) return exit_code::unavailable;
  return exit_code::refused;
}

constexpr int to_int(exit_code c) noexcept {
  return static_cast<int>(c);
}

}  // namespace provisiond::cli
