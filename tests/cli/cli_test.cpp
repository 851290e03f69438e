// provisionctl's pure parts: argument parsing, settings resolution, the
// event stream's wire formats, the exit code table, the state an event
// enters, and output escaping.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>
#include <map>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/event_states.hpp"
#include "cli/exit_codes.hpp"
#include "cli/settings.hpp"
#include "cli/sse.hpp"
#include "cli/table.hpp"
#include "tests/support/temp_dir.hpp"

namespace provisiond::cli {
namespace {

parse_outcome parse(std::vector<std::string> argv) {
  return parse_arguments(argv, command_table());
}

TEST(CliArgs, GlobalFlagsAnywhereAndCommandFlagsAfterTheCommand) {
  auto p = parse({"-o", "json", "list", "--tenant", "acme", "--url=http://h:1", "--limit", "5"});
  ASSERT_TRUE(p.parsed) << p.error.message;
  EXPECT_EQ(p.parsed->command->path, "list");
  EXPECT_EQ(p.parsed->globals.output, output_format::json);
  EXPECT_EQ(p.parsed->globals.url, "http://h:1");
  EXPECT_EQ(p.parsed->value("--tenant"), "acme");
  EXPECT_EQ(p.parsed->value("--limit"), "5");
  EXPECT_FALSE(p.parsed->has("--all"));
}

TEST(CliArgs, SubcommandsPositionalsAndInlineShortValues) {
  auto p = parse({"clusters", "test", "-ojson", "c-1"});
  ASSERT_TRUE(p.parsed) << p.error.message;
  EXPECT_EQ(p.parsed->command->path, "clusters test");
  EXPECT_EQ(p.parsed->positionals, std::vector<std::string>{"c-1"});
  EXPECT_EQ(p.parsed->globals.output, output_format::json);
}

TEST(CliArgs, RepeatableFlagsKeepEveryValueAndANegativeNumberIsAValue) {
  auto p = parse({"submit", "--meta", "a=1", "--meta", "b=2", "--cpu", "-3"});
  ASSERT_TRUE(p.parsed) << p.error.message;
  EXPECT_EQ(p.parsed->values("--meta"), (std::vector<std::string>{"a=1", "b=2"}));
  EXPECT_EQ(p.parsed->value("--cpu"), "-3");
}

TEST(CliArgs, DoubleDashEndsTheFlags) {
  auto p = parse({"get", "--", "--odd-id"});
  ASSERT_TRUE(p.parsed) << p.error.message;
  EXPECT_EQ(p.parsed->arg(0), "--odd-id");
}

TEST(CliArgs, ErrorsNameWhatWasWrong) {
  EXPECT_EQ(parse({}).error.message, "no command given");
  EXPECT_EQ(parse({"frob"}).error.message, "unknown command 'frob'");
  EXPECT_EQ(parse({"clusters"}).error.message, "'clusters' needs a subcommand: list, add, test");
  EXPECT_EQ(parse({"clusters", "nuke"}).error.message,
            "unknown subcommand 'nuke' of clusters; expected list, add, test");
  EXPECT_EQ(parse({"list", "--bogus"}).error.message, "unknown flag --bogus for list");
  EXPECT_EQ(parse({"--tenant", "x", "list"}).error.message, "unknown flag --tenant");
  EXPECT_EQ(parse({"list", "--tenant"}).error.message, "--tenant needs a value (TENANT)");
  EXPECT_EQ(parse({"list", "--all=yes"}).error.message, "--all takes no value");
  EXPECT_EQ(parse({"list", "--tenant", "a", "--tenant", "b"}).error.message, "--tenant given twice");
  EXPECT_EQ(parse({"get"}).error.message, "get takes ID, got 0 arguments");
  EXPECT_EQ(parse({"get", "a", "b"}).error.message, "get takes ID, got 2 arguments");
  EXPECT_EQ(parse({"-o", "yaml", "list"}).error.message, "-o: expected table or json, got 'yaml'");
  EXPECT_NE(parse({"--timeout", "0", "list"}).error.message.find("--timeout"), std::string::npos);
  auto p = parse({"get"});
  ASSERT_NE(p.error.command, nullptr);  // its usage is printed
  EXPECT_EQ(p.error.command->path, "get");
}

TEST(CliArgs, HelpNeedsNoArguments) {
  auto p = parse({"get", "--help"});
  ASSERT_TRUE(p.parsed);
  EXPECT_TRUE(p.parsed->globals.help);
  EXPECT_NE(command_usage(*p.parsed->command).find("usage: provisionctl get ID"), std::string::npos);
}

TEST(CliArgs, IntegersAreWholeNumbers) {
  EXPECT_EQ(*parse_integer("--cpu", "12"), 12);
  EXPECT_EQ(*parse_integer("--cpu", "-1"), -1);
  EXPECT_FALSE(parse_integer("--cpu", "1.5"));
  EXPECT_FALSE(parse_integer("--cpu", ""));
  EXPECT_EQ(parse_integer("--cpu", "x").error().message, "--cpu: expected an integer, got 'x'");
}

struct fake_env {
  std::map<std::string, std::string> vars;
  env_lookup lookup() const {
    return [this](const std::string& k) -> std::optional<std::string> {
      auto it = vars.find(k);
      return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
  }
};

TEST(CliSettings, FlagOverEnvironmentOverFileOverDefault) {
  testing::temp_dir dir;
  std::filesystem::create_directories(dir / "provisionctl");
  std::ofstream{dir / "provisionctl/config.json"} << R"({"url":"http://file:1/","token":"file-token"})";
  ::chmod((dir / "provisionctl/config.json").c_str(), 0600);
  fake_env env{{{"XDG_CONFIG_HOME", dir.str()}}};
  global_options g;
  auto s = resolve_settings(g, env.lookup());
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->url, "http://file:1");  // without the trailing '/'
  EXPECT_EQ(s->token, "file-token");
  EXPECT_TRUE(s->warnings.empty());
  env.vars["PROVISIOND_URL"] = "http://env:2";
  env.vars["PROVISIOND_TOKEN"] = "env-token";
  s = resolve_settings(g, env.lookup());
  EXPECT_EQ(s->url, "http://env:2");
  EXPECT_EQ(s->token, "env-token");
  g.url = "https://flag:3";
  EXPECT_EQ(resolve_settings(g, env.lookup())->url, "https://flag:3");
  fake_env empty{{{"HOME", dir / "nowhere"}}};
  s = resolve_settings(global_options{}, empty.lookup());
  EXPECT_EQ(s->url, "http://127.0.0.1:8080");
  EXPECT_EQ(s->token, "");
}

TEST(CliSettings, BadSourcesAreErrorsThatNeverShowTheToken) {
  testing::temp_dir dir;
  fake_env env{{{"HOME", dir.str()}}};
  global_options g;
  g.config = dir / "missing.json";
  EXPECT_NE(resolve_settings(g, env.lookup()).error().message.find("cannot be read"), std::string::npos);
  std::ofstream{dir / "bad.json"} << R"({"url":"http://x","secret":"s"})";
  g.config = dir / "bad.json";
  EXPECT_EQ(resolve_settings(g, env.lookup()).error().field, "secret");
  std::ofstream{dir / "array.json"} << "[1]";
  g.config = dir / "array.json";
  EXPECT_FALSE(resolve_settings(g, env.lookup()));
  g.config.reset();
  g.url = "ftp://x";
  EXPECT_EQ(resolve_settings(g, env.lookup()).error().field, "url");
  g.url.reset();
  env.vars["PROVISIOND_TOKEN"] = "sec\r\nX-Evil: 1";
  auto s = resolve_settings(g, env.lookup());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message, "the token from $PROVISIOND_TOKEN contains control characters");
  env.vars["PROVISIOND_TOKEN"] = std::string(1 << 20, 't');  // no server takes a 1 MB header
  s = resolve_settings(g, env.lookup());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().field, "token");
}

TEST(CliSettings, AWorldReadableFileWithATokenIsWarnedAbout) {
  testing::temp_dir dir;
  std::ofstream{dir / "c.json"} << R"({"token":"t0ps3cret"})";
  ::chmod((dir / "c.json").c_str(), 0644);
  global_options g;
  g.config = dir / "c.json";
  auto s = resolve_settings(g, fake_env{}.lookup());
  ASSERT_TRUE(s);
  ASSERT_EQ(s->warnings.size(), 1u);
  EXPECT_EQ(s->warnings[0].find("t0ps3cret"), std::string::npos);
}

std::vector<sse_event> feed_all(sse_parser& p, const std::vector<std::string>& pieces) {
  std::vector<sse_event> out;
  for (const auto& piece : pieces) EXPECT_TRUE(p.feed(piece, out));
  return out;
}

TEST(CliSse, EventsSplitAnywhereWithAnyLineEnd) {
  std::string text =
      "retry: 1500\r\n\r\n: heartbeat\n\nid: 7\revent: step_started\r\ndata: {\"a\":1}\r\n\r\n"
      "id: 8\ndata: x\ndata: y\n\n";
  // Every split point, one byte at a time included.
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    sse_parser p;
    auto events = feed_all(p, {text.substr(0, cut), text.substr(cut)});
    ASSERT_EQ(events.size(), 2u) << "cut at " << cut;
    EXPECT_EQ(events[0].id, "7");
    EXPECT_EQ(events[0].type, "step_started");
    EXPECT_EQ(events[0].data, "{\"a\":1}");
    EXPECT_EQ(events[1].id, "8");
    EXPECT_EQ(events[1].type, "message");
    EXPECT_EQ(events[1].data, "x\ny");
    EXPECT_EQ(p.last_event_id(), "8");
    EXPECT_EQ(p.retry(), std::chrono::milliseconds(1500));
  }
  sse_parser bytewise;
  std::vector<std::string> bytes;
  for (char ch : text) bytes.emplace_back(1, ch);
  EXPECT_EQ(feed_all(bytewise, bytes).size(), 2u);
}

TEST(CliSse, AnIdWithoutDataMovesTheCursorButDispatchesNothing) {
  sse_parser p;
  auto events = feed_all(p, {"id: 41\n\n", "event: x\n\n", "data:no-space\n\n"});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].id, "41");
  EXPECT_EQ(events[0].type, "message");  // the lone `event:` was reset by its blank line
  EXPECT_EQ(events[0].data, "no-space");
}

TEST(CliSse, AnUnfinishedEventIsNotDispatchedAndResetForgetsIt) {
  sse_parser p;
  auto events = feed_all(p, {"id: 5\ndata: half"});
  EXPECT_TRUE(events.empty());
  p.reset_partial();
  events = feed_all(p, {"\n\ndata: whole\n\n"});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "whole");
  EXPECT_EQ(events[0].id, "5");  // the id line was complete
}

TEST(CliSse, AnEndlessLineIsRefused) {
  sse_parser p;
  std::vector<sse_event> out;
  std::string big(1 << 20, 'a');
  bool ok = true;
  for (int i = 0; i < 9 && ok; ++i) ok = p.feed(big, out);
  EXPECT_FALSE(ok);
}

TEST(CliChunked, DecodesSplitAnywhereWithExtensionsAndTrailers) {
  std::string wire = "5;name=v\r\nhello\r\n7\r\n, world\r\n0\r\nTrailer: x\r\n\r\nleftover";
  for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
    chunked_decoder d;
    std::string out;
    ASSERT_TRUE(d.feed(wire.substr(0, cut), out));
    ASSERT_TRUE(d.feed(wire.substr(cut), out));
    EXPECT_EQ(out, "hello, world") << "cut at " << cut;
    EXPECT_TRUE(d.finished());
  }
}

TEST(CliChunked, MalformedSizesAndMissingCrlfAreRefused) {
  std::string out;
  EXPECT_FALSE(chunked_decoder{}.feed("zz\r\n", out));
  EXPECT_FALSE(chunked_decoder{}.feed("\r\n", out));
  EXPECT_FALSE(chunked_decoder{}.feed("3\r\nabcX\r\n", out));
  chunked_decoder open;
  EXPECT_TRUE(open.feed("3\r\nabc\r\n", out));
  EXPECT_FALSE(open.finished());
}

TEST(CliExitCodes, StatusesMapAsTheReadmeSays) {
  EXPECT_EQ(exit_for_status(200), exit_code::ok);
  EXPECT_EQ(exit_for_status(204), exit_code::ok);
  EXPECT_EQ(exit_for_status(404), exit_code::not_found);
  EXPECT_EQ(exit_for_status(409), exit_code::conflict);
  for (int s : {400, 401, 403, 405, 413, 422}) EXPECT_EQ(exit_for_status(s), exit_code::refused) << s;
  for (int s : {0, 429, 500, 502, 503, 504}) EXPECT_EQ(exit_for_status(s), exit_code::unavailable) << s;
}

TEST(CliEventStates, EventsThatChangeTheStateSayWhichOne) {
  using nlohmann::json;
  EXPECT_EQ(state_entered("request_submitted", json::object()), "Queued");
  EXPECT_EQ(state_entered("approval_requested", json::object()), "PendingApproval");
  EXPECT_EQ(state_entered("step_started", json{{"step", "allocate"}}), "Allocating");
  EXPECT_EQ(state_entered("step_started", json{{"step", "verify"}}), "Verifying");
  EXPECT_EQ(state_entered("request_completed", json::object()), "Completed");
  EXPECT_EQ(state_entered("service_suspended", json::object()), "Suspended");
  EXPECT_EQ(state_entered("service_reactivated", json::object()), "Completed");
  EXPECT_EQ(state_entered("action_requested", json{{"action", "deprovision"}}), "RollingBack");
  EXPECT_EQ(state_entered("deprovisioned", json::object()), "RolledBack");
  EXPECT_EQ(state_entered("request_failed", json::object()), "Failed");
  EXPECT_EQ(state_entered("action_requested", json{{"action", "suspend"}}), std::nullopt);
  EXPECT_EQ(state_entered("step_completed", json{{"step", "allocate"}}), std::nullopt);
  EXPECT_EQ(state_entered("step_started", json{{"step", 3}}), std::nullopt);
  EXPECT_TRUE(is_lifecycle_state("RolledBack"));
  EXPECT_FALSE(is_lifecycle_state("rolledback"));
}

TEST(CliOutput, ControlCharactersAreEscapedAndUtf8Kept) {
  EXPECT_EQ(printable("a\x1b[31mb\n"), "a\\x1b[31mb\\n");
  EXPECT_EQ(printable("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(printable("x\xc2\x9b"
                      "2J"),
            "x\\u{9b}2J");  // C1 CSI
}

TEST(CliOutput, TablesAlignByCodePointsAndCutLongCells) {
  table t{{"A", "B"}, 5};
  t.add({"caf\xc3\xa9", "1"});
  t.add({"abcdefgh", "the last column is never cut"});
  std::ostringstream out;
  t.print(out);
  EXPECT_EQ(out.str(), "A      B\ncaf\xc3\xa9   1\nabcd\xe2\x80\xa6  the last column is never cut\n");
}

}  // namespace
}  // namespace provisiond::cli
