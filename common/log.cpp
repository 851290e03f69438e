#include "common/log.hpp"

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <mutex>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/json.hpp"

namespace provisiond::log {

namespace {

// A message longer than this is cut (with "..."): one line stays one
// bounded write whatever a caller hands in.
constexpr std::size_t max_message = 16 * 1024;

std::mutex& settings_mutex() {
  static std::mutex m;
  return m;
}

settings& shared_settings() {
  static settings s;
  return s;
}

// One line at a time on each descriptor, however long the line, so lines
// of several threads never interleave (a pipe keeps only writes up to
// PIPE_BUF whole by itself).
std::mutex& write_mutex() {
  static std::mutex m;
  return m;
}

void write_all(int fd, const std::string& line) {
  std::lock_guard lock{write_mutex()};
  std::size_t done = 0;
  while (done < line.size()) {
    auto n = ::write(fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to log to: the line is lost, the caller goes on
    done += static_cast<std::size_t>(n);
  }
}

std::int64_t now_ms() {
  // Wall-clock time on purpose: a log line says when it was written, also
  // under the manual clock of a test.
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

std::string json_string(std::string_view s) { return dump_json(nlohmann::json(std::string(s))); }

bool reserved(const std::string& key) {
  for (const char* k : {"time", "level", "message", "requestId", "tenantId", "clusterId", "traceId"})
    if (key == k) return true;
  return false;
}

std::string cut(std::string_view message) {
  if (message.size() <= max_message) return std::string(message);
  return std::string(message.substr(0, max_message)) + "...";
}

std::string json_line(level l, std::string_view message, const fields& f, std::int64_t unix_ms) {
  // Built by hand to keep the keys in this order (a json object sorts
  // them); every string goes through dump_json, which never throws.
  std::string out = "{\"time\":\"" + rfc3339_ms(unix_ms) + "\",\"level\":\"" + to_string(l) + "\",\"message\":";
  out += json_string(cut(message));
  auto id = [&](const char* key, const std::string& v) {
    if (!v.empty()) out += std::string(",\"") + key + "\":" + json_string(v);
  };
  id("requestId", f.request_id());
  id("tenantId", f.tenant_id());
  id("clusterId", f.cluster_id());
  id("traceId", f.trace_id());
  for (auto& [key, v] : f.extra()) {
    if (key.empty() || reserved(key)) continue;
    out += "," + json_string(key) + ":";
    if (auto* s = std::get_if<std::string>(&v)) out += json_string(cut(*s));
    else out += std::to_string(std::get<std::int64_t>(v));
  }
  out += "}";
  return out;
}

void emit(bool to_stdout, bool prefixed, level l, std::string_view message, const fields& f) noexcept {
  try {
    auto s = current();
    auto line = render(s.format, prefixed ? std::string_view(s.prefix) : std::string_view(), l, message, f, now_ms());
    line += '\n';
    write_all(to_stdout ? s.out_fd : s.err_fd, line);
  } catch (...) {
    // Out of memory while logging: nothing sensible is left to say.
  }
}

}  // namespace

result<format> parse_format(std::string_view s, const std::string& field) {
  if (s == "text") return format::text;
  if (s == "json") return format::json;
  return make_error(errc::invalid_argument, "expected text or json", field);
}

const char* to_string(format f) noexcept { return f == format::json ? "json" : "text"; }

const char* to_string(level l) noexcept {
  switch (l) {
    case level::info: return "info";
    case level::warn: return "warn";
    case level::error: return "error";
  }
  return "info";
}

void configure(settings s) {
  std::lock_guard lock{settings_mutex()};
  shared_settings() = std::move(s);
}

settings current() {
  std::lock_guard lock{settings_mutex()};
  return shared_settings();
}

std::string rfc3339_ms(std::int64_t unix_ms) {
  auto secs = static_cast<std::time_t>(unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000);
  auto ms = static_cast<int>(unix_ms - static_cast<std::int64_t>(secs) * 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

std::string render(format fmt, std::string_view prefix, level l, std::string_view message, const fields& f,
                   std::int64_t unix_ms) {
  if (fmt == format::json) return json_line(l, message, f, unix_ms);
  // Text: the line exactly as provisiond always printed it; the ids are in
  // the message where they matter.
  std::string out;
  if (!prefix.empty()) out.append(prefix).append(": ");
  out += cut(message);
  return out;
}

void write(level l, std::string_view message, const fields& f) noexcept { emit(false, true, l, message, f); }
void status(std::string_view message, const fields& f) noexcept { emit(true, true, level::info, message, f); }
void audit(level l, std::string_view message, const fields& f) noexcept {
  try {
    write_all(current().err_fd, json_line(l, message, f, now_ms()) + '\n');
  } catch (...) {
  }
}
void status_line(std::string_view line, const fields& f) noexcept { emit(true, false, level::info, line, f); }

}  // namespace provisiond::log
