#pragma once
/// Command-line parsing for provisionctl, driven by a table of commands:
/// each names its words ("clusters add"), its positional arguments and its
/// flags. Global flags (--url, --config, -o, --timeout, -h) are accepted
/// anywhere; a command's flags after its words. Pure: no I/O.

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace provisiond::cli {

struct context;
struct invocation;

struct flag_spec {
  std::string_view name;   ///< "--tenant"
  std::string_view value;  ///< the value's placeholder ("TENANT"); empty: a switch
  std::string_view help;
  bool repeatable = false;
};

struct command_spec {
  std::string_view path;  ///< "get", "clusters add"
  std::string_view args;  ///< positional placeholders for the usage line ("ID")
  std::size_t min_args = 0;
  std::size_t max_args = 0;
  std::string_view summary;
  std::vector<flag_spec> flags;
  int (*run)(context&, const invocation&) = nullptr;
};

/// Output format chosen with -o / --output.
enum class output_format { table, json };

struct global_options {
  std::optional<std::string> url;
  std::optional<std::string> config;
  output_format output = output_format::table;
  std::optional<double> timeout_seconds;
  bool help = false;
};

struct invocation {
  global_options globals;
  const command_spec* command = nullptr;  ///< null with `help` and no command
  std::vector<std::string> positionals;
  std::map<std::string, std::vector<std::string>, std::less<>> flags;  ///< by name ("--tenant")

  bool has(std::string_view flag) const { return flags.find(flag) != flags.end(); }
  /// The flag's value (the last one given), if given.
  std::optional<std::string> value(std::string_view flag) const;
  /// Every value of a repeatable flag, in order.
  std::vector<std::string> values(std::string_view flag) const;
  const std::string& arg(std::size_t i) const { return positionals.at(i); }
};

/// Why parsing failed, and the command it was for (to print its usage).
struct usage_error {
  std::string message;
  const command_spec* command = nullptr;
};

/// Parses argv (without the program name) against `commands`. On error the
/// message names the offending argument.
struct parse_outcome {
  std::optional<invocation> parsed;
  usage_error error;
};
parse_outcome parse_arguments(std::span<const std::string> argv, std::span<const command_spec> commands);

/// "usage: provisionctl get ID [flags]" and one line per flag.
std::string command_usage(const command_spec& c);
/// Every command with its summary, and the global flags.
std::string general_usage(std::span<const command_spec> commands);

/// "--cpu" with "4" -> 4; an error names the flag. Range checks are the API's.
result<long long> parse_integer(std::string_view flag, const std::string& text);

}  // namespace provisiond::cli
