#include <gtest/gtest.h>

#include <unistd.h>

#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/json.hpp"
#include "common/log.hpp"

using namespace provisiond;

namespace {

// Points the logger's stderr and stdout at two pipes for one test and
// gives the lines back; the settings before it are restored afterwards.
class captured {
 public:
  explicit captured(log::format f) : before_(log::current()) {
    if (::pipe(err_) != 0 || ::pipe(out_) != 0) throw std::runtime_error("pipe");
    readers_[0] = std::thread([this] { drain(err_[0], err_text_); });
    readers_[1] = std::thread([this] { drain(out_[0], out_text_); });
    log::configure({f, "provisiond", err_[1], out_[1]});
  }
  ~captured() { finish(); }

  /// Stops capturing; the lines each stream received.
  void finish() {
    if (done_) return;
    done_ = true;
    log::configure(before_);
    ::close(err_[1]);
    ::close(out_[1]);
    for (auto& t : readers_) t.join();
    ::close(err_[0]);
    ::close(out_[0]);
  }
  std::vector<std::string> err_lines() {
    finish();
    return split(err_text_);
  }
  std::vector<std::string> out_lines() {
    finish();
    return split(out_text_);
  }
  const std::string& err_text() {
    finish();
    return err_text_;
  }

 private:
  static void drain(int fd, std::string& into) {
    char buf[65536];
    for (;;) {
      auto n = ::read(fd, buf, sizeof buf);
      if (n <= 0) return;
      into.append(buf, static_cast<std::size_t>(n));
    }
  }
  static std::vector<std::string> split(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t at = 0;
    while (at < text.size()) {
      auto nl = text.find('\n', at);
      if (nl == std::string::npos) {
        lines.push_back(text.substr(at) + "<no newline>");
        break;
      }
      lines.push_back(text.substr(at, nl - at));
      at = nl + 1;
    }
    return lines;
  }

  log::settings before_;
  int err_[2]{-1, -1}, out_[2]{-1, -1};
  std::thread readers_[2];
  std::string err_text_, out_text_;
  bool done_ = false;
};

nlohmann::json object_of(const std::string& line) {
  // Duplicate keys refused; control characters allowed (escaped, as a
  // message may hold them).
  static const json_limits limits{64, false, true};
  auto j = parse_json(line, "log line", limits);
  EXPECT_TRUE(j.has_value()) << line << ": " << (j ? "" : j.error().message);
  EXPECT_TRUE(j && j->is_object()) << line;
  return j && j->is_object() ? *j : nlohmann::json::object();
}

const std::regex rfc3339_ms{R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)"};

}  // namespace

TEST(LogJson, OneObjectPerLineWithTimeLevelMessageAndTheIdsThatApply) {
  captured c{log::format::json};
  log::warn("request req-1: allocate attempt 1 failed",
            log::fields{}.request("req-1").tenant("acme").cluster("sim-eu").trace("4bf92f35").with("step", "allocate")
                .with("partition", std::int64_t{3}));
  auto lines = c.err_lines();
  ASSERT_EQ(lines.size(), 1u) << c.err_text();
  auto j = object_of(lines[0]);
  EXPECT_TRUE(std::regex_match(j.value("time", ""), rfc3339_ms)) << j.dump();
  EXPECT_EQ(j["level"], "warn");
  EXPECT_EQ(j["message"], "request req-1: allocate attempt 1 failed") << "no \"provisiond: \" prefix in json";
  EXPECT_EQ(j["requestId"], "req-1");
  EXPECT_EQ(j["tenantId"], "acme");
  EXPECT_EQ(j["clusterId"], "sim-eu");
  EXPECT_EQ(j["traceId"], "4bf92f35");
  EXPECT_EQ(j["step"], "allocate");
  EXPECT_EQ(j["partition"], 3);
  EXPECT_EQ(lines[0].rfind(R"({"time":")", 0), 0u) << "time first, as shippers read it: " << lines[0];
}

TEST(LogJson, AbsentIdsAreLeftOut) {
  captured c{log::format::json};
  log::info("consumer group: assigned 4 partition(s)");
  log::error("half the ids", log::fields{}.tenant("acme"));
  auto lines = c.err_lines();
  ASSERT_EQ(lines.size(), 2u);
  auto plain = object_of(lines[0]);
  std::set<std::string> keys;
  for (auto& [k, v] : plain.items()) keys.insert(k);
  EXPECT_EQ(keys, (std::set<std::string>{"time", "level", "message"})) << lines[0];
  EXPECT_EQ(plain["level"], "info");
  auto half = object_of(lines[1]);
  EXPECT_EQ(half["level"], "error");
  EXPECT_EQ(half["tenantId"], "acme");
  EXPECT_FALSE(half.contains("requestId") || half.contains("clusterId") || half.contains("traceId")) << lines[1];
}

TEST(LogJson, AnExtraFieldCannotOverrideOrRepeatAFixedOne) {
  captured c{log::format::json};
  log::info("the real message",
            log::fields{}.request("req-1").with("message", "forged").with("level", "error").with("requestId", "req-2"));
  auto lines = c.err_lines();
  ASSERT_EQ(lines.size(), 1u);
  auto j = object_of(lines[0]);  // a repeated key would not parse
  EXPECT_EQ(j["message"], "the real message");
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["requestId"], "req-1");
}

TEST(LogJson, BadUtf8QuotesAndNewlinesStayOneParsableLine) {
  captured c{log::format::json};
  std::string hostile = "bad \xff\xfe bytes, a cut \xc3, \"quotes\", a\nnewline, a \x01 control and a \\ backslash";
  log::error(hostile, log::fields{}.request("req-\xff").with("origin", std::string("topic/\xc0\xaf/1")));
  auto lines = c.err_lines();
  ASSERT_EQ(lines.size(), 1u) << c.err_text();
  auto j = object_of(lines[0]);
  auto m = j.value("message", "");
  EXPECT_NE(m.find("\xEF\xBF\xBD"), std::string::npos) << "bad bytes become U+FFFD: " << m;
  EXPECT_NE(m.find("\"quotes\", a\nnewline"), std::string::npos) << m;
  EXPECT_NE(m.find("\x01 control and a \\ backslash"), std::string::npos) << m;
  EXPECT_TRUE(is_valid_utf8(lines[0]));
  EXPECT_EQ(j["requestId"], "req-\xEF\xBF\xBD");
  EXPECT_TRUE(is_valid_utf8(j.value("origin", "")));
}

TEST(LogJson, AHugeMessageIsCutToABoundedLine) {
  captured c{log::format::json};
  log::warn(std::string(200'000, 'x'));
  auto lines = c.err_lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_LT(lines[0].size(), 17'000u);
  auto m = object_of(lines[0]).value("message", "");
  EXPECT_EQ(m.substr(m.size() - 3), "...");
}

TEST(LogJson, StatusLinesGoToStdoutAsObjectsTooWithTheTextUnchanged) {
  captured c{log::format::json};
  log::status_line("provisiond listening on http://127.0.0.1:8123 (data in d, journal durable, 0 unfinished requests resumed)",
                   log::fields{}.with("listen", "127.0.0.1:8123"));
  log::status("stopped");
  auto out = c.out_lines();
  EXPECT_TRUE(c.err_lines().empty());
  ASSERT_EQ(out.size(), 2u);
  auto listening = object_of(out[0]);
  EXPECT_EQ(listening["message"],
            "provisiond listening on http://127.0.0.1:8123 (data in d, journal durable, 0 unfinished requests resumed)");
  EXPECT_EQ(listening["listen"], "127.0.0.1:8123");
  // How tests (tests/support/process.hpp) find the port: it still matches.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out[0], m, std::regex{R"(listening on http://[^:]+:(\d+))"}));
  EXPECT_EQ(m[1], "8123");
  EXPECT_EQ(object_of(out[1])["message"], "stopped");
}

TEST(LogText, KeepsTheLinesProvisiondAlwaysPrinted) {
  captured c{log::format::text};
  log::error("request req-1: replay failed", log::fields{}.request("req-1").tenant("acme"));
  log::warn("kafka FAIL: 127.0.0.1:9/bootstrap: Connect failed");
  log::status_line("provisiond listening on http://127.0.0.1:8123 (data in d)");
  log::status("SIGTERM received, shutting down");
  EXPECT_EQ(c.err_lines(),
            (std::vector<std::string>{"provisiond: request req-1: replay failed",
                                      "provisiond: kafka FAIL: 127.0.0.1:9/bootstrap: Connect failed"}));
  EXPECT_EQ(c.out_lines(), (std::vector<std::string>{"provisiond listening on http://127.0.0.1:8123 (data in d)",
                                                     "provisiond: SIGTERM received, shutting down"}));
}

TEST(LogText, ThePrefixIsTheProcesss) {
  auto before = log::current();
  EXPECT_EQ(log::render(log::format::text, "provisiond sim-cloud", log::level::error, "--listen: in use", {}, 0),
            "provisiond sim-cloud: --listen: in use");
  EXPECT_EQ(log::render(log::format::text, "", log::level::info, "BOOTSTRAP-like line", {}, 0), "BOOTSTRAP-like line");
  EXPECT_EQ(log::current().prefix, before.prefix) << "render changes nothing";
}

TEST(LogTime, Rfc3339WithMillisecondsInUtc) {
  EXPECT_EQ(log::rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(log::rfc3339_ms(1714566896789), "2024-05-01T12:34:56.789Z");
  EXPECT_EQ(log::rfc3339_ms(1709251199999), "2024-02-29T23:59:59.999Z");
  auto line = log::render(log::format::json, "provisiond", log::level::info, "m", {}, 1714566896789);
  EXPECT_EQ(line, R"({"time":"2024-05-01T12:34:56.789Z","level":"info","message":"m"})");
}

TEST(LogFormat, ParsesTextOrJsonAndNamesTheFieldOtherwise) {
  EXPECT_EQ(*log::parse_format("json", "--log-format"), log::format::json);
  EXPECT_EQ(*log::parse_format("text", "--log-format"), log::format::text);
  auto bad = log::parse_format("yaml", "log.format");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().field, "log.format");
  EXPECT_EQ(bad.error().code, errc::invalid_argument);
  EXPECT_FALSE(log::parse_format("JSON", "f").has_value());
}

// Lines longer than a pipe keeps whole by itself (PIPE_BUF, 4 KiB), from 8
// threads at once: every line arrives whole and once.
TEST(LogJson, LinesOfConcurrentThreadsNeverInterleave) {
  constexpr int threads = 8, per_thread = 300;
  captured c{log::format::json};
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([t] {
      for (int i = 0; i < per_thread; ++i)
        log::info(std::to_string(t) + "/" + std::to_string(i) + " " + std::string(6000 + (i % 7) * 1000, 'a' + t),
                  log::fields{}.request("req-" + std::to_string(t)));
    });
  for (auto& t : ts) t.join();
  auto lines = c.err_lines();
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(threads * per_thread));
  std::set<std::string> seen;
  for (auto& line : lines) {
    auto j = object_of(line);
    auto m = j.value("message", "");
    auto slash = m.find('/'), space = m.find(' ');
    ASSERT_NE(space, std::string::npos) << line.substr(0, 200);
    int t = std::stoi(m.substr(0, slash));
    int i = std::stoi(m.substr(slash + 1, space - slash - 1));
    EXPECT_EQ(m.substr(space + 1), std::string(6000 + (i % 7) * 1000, 'a' + t)) << "thread " << t << " line " << i;
    EXPECT_EQ(j["requestId"], "req-" + std::to_string(t));
    EXPECT_TRUE(seen.insert(m.substr(0, space)).second) << "twice: " << m.substr(0, space);
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(threads * per_thread));
}
