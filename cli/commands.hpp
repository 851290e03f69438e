#pragma once
/// provisionctl's commands: the table main() parses against, and what
/// every command shares (the API, the output format, the streams). Each
/// command returns its exit code; nothing throws out of one.

#include <functional>
#include <iostream>
#include <span>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/api.hpp"
#include "cli/args.hpp"
#include "cli/exit_codes.hpp"

namespace provisiond::cli {

struct context {
  api& client;
  output_format output;
  std::ostream& out;
  std::ostream& err;
  std::istream& in;

  bool json() const { return output == output_format::json; }

  /// Prints a refused or failed call to stderr; its exit code.
  int fail(const reply& r);
  /// A usage error found by a command (a flag's value): message and usage.
  int usage(const invocation& inv, const std::string& message);
  /// A successful reply: with -o json the body as it came, else `render(body)`.
  /// A reply that failed goes to fail().
  int finish(const reply& r, const std::function<void(const nlohmann::json&)>& render);
};

/// Every command, in the order `provisionctl --help` lists them.
std::span<const command_spec> command_table();

/// The body of `-f FILE` ("-": stdin), parsed as a JSON object; errors name the file.
result<nlohmann::json> read_json_file(context& c, const std::string& file);

// Command groups, one file each under commands/.
int run_submit(context&, const invocation&);
int run_get(context&, const invocation&);
int run_list(context&, const invocation&);
int run_events(context&, const invocation&);
int run_history(context&, const invocation&);
int run_watch(context&, const invocation&);
int run_approve(context&, const invocation&);
int run_reject(context&, const invocation&);
int run_approvals(context&, const invocation&);
int run_complete(context&, const invocation&);
int run_manual(context&, const invocation&);
int run_lifecycle(context&, const invocation&);
int run_clusters_list(context&, const invocation&);
int run_clusters_add(context&, const invocation&);
int run_clusters_test(context&, const invocation&);
int run_quota_get(context&, const invocation&);
int run_quota_set(context&, const invocation&);
int run_usage(context&, const invocation&);

}  // namespace provisiond::cli
