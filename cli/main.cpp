// provisionctl: the command-line client of the provisiond API.
#include <cstdlib>
#include <iostream>
#include <vector>

#include "cli/commands.hpp"
#include "cli/settings.hpp"
#include "cli/table.hpp"

using namespace provisiond::cli;

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = parse_arguments(args, command_table());
  if (!parsed.parsed) {
    std::cerr << "provisionctl: " << printable(parsed.error.message) << "\n"
              << (parsed.error.command ? command_usage(*parsed.error.command) : general_usage(command_table()));
    return to_int(exit_code::usage);
  }
  const auto& inv = *parsed.parsed;
  if (inv.globals.help) {
    std::cout << (inv.command ? command_usage(*inv.command) : general_usage(command_table()));
    return 0;
  }
  auto env = [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    return v ? std::optional<std::string>(v) : std::nullopt;
  };
  auto s = resolve_settings(inv.globals, env);
  if (!s) {
    std::cerr << "provisionctl: " << printable(s.error().message) << "\n";
    return to_int(exit_code::usage);
  }
  for (const auto& w : s->warnings) std::cerr << "provisionctl: warning: " << printable(w) << "\n";
  try {
    api client{*s};
    context c{client, inv.globals.output, std::cout, std::cerr, std::cin};
    return inv.command->run(c, inv);
  } catch (const std::exception& e) {
    // A bug, not an expected failure: say so instead of aborting.
    std::cerr << "provisionctl: internal error: " << printable(e.what()) << "\n";
    return to_int(exit_code::unavailable);
  }
}
