#pragma once
/// The process's log lines: one line per call, on stderr (and the few status
/// lines whoever started the process reads, on stdout). Text keeps the lines
/// provisiond always printed ("provisiond: ..."); json writes one object per
/// line — time (RFC 3339, ms, UTC), level, message, the request, tenant,
/// cluster and trace ids that apply, a few extra fields — for journald, Loki
/// or ELK to take as they are. Thread-safe: each line is one write(2) under a
/// process-wide lock, so lines of several threads never interleave. Never
/// throws. Nothing passed here may hold a secret (a password, token, webhook
/// secret, connection JSON): callers pass ids, codes and messages that are
/// already allowed into events.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/result.hpp"

namespace provisiond::log {

enum class format { text, json };
enum class level { info, warn, error };

/// "text" | "json" → the format; an error naming `field` otherwise.
result<format> parse_format(std::string_view s, const std::string& field);
const char* to_string(format f) noexcept;
const char* to_string(level l) noexcept;

/// Process-wide output settings, set once at start (before other threads
/// log; a later configure() is safe, but lines in flight may use either).
struct settings {
  log::format format = log::format::text;
  /// Text lines start with "<prefix>: " ("provisiond sim-cloud" there).
  std::string prefix = "provisiond";
  int err_fd = 2;  ///< where log lines go (tests point these at a file)
  int out_fd = 1;  ///< where status lines go
};
void configure(settings s);
settings current();

/// The ids that apply to a line and a few extra key/values; absent ones are
/// left out of the JSON. Built fluently: `fields{}.request(id).tenant(t)`.
class fields {
 public:
  using value = std::variant<std::string, std::int64_t>;
  fields& request(std::string_view id) { return id_(request_, id); }
  fields& tenant(std::string_view id) { return id_(tenant_, id); }
  fields& cluster(std::string_view id) { return id_(cluster_, id); }
  fields& trace(std::string_view id) { return id_(trace_, id); }
  /// An extra field ("webhookId", "partition", ...); never a secret. Keys
  /// that name one of the fixed fields above are ignored.
  fields& with(std::string_view key, std::string_view v) {
    extra_.emplace_back(std::string(key), std::string(v));
    return *this;
  }
  fields& with(std::string_view key, std::int64_t v) {
    extra_.emplace_back(std::string(key), v);
    return *this;
  }

  const std::string& request_id() const noexcept { return request_; }
  const std::string& tenant_id() const noexcept { return tenant_; }
  const std::string& cluster_id() const noexcept { return cluster_; }
  const std::string& trace_id() const noexcept { return trace_; }
  const std::vector<std::pair<std::string, value>>& extra() const noexcept { return extra_; }

 private:
  fields& id_(std::string& slot, std::string_view id) {
    slot.assign(id);
    return *this;
  }
  std::string request_, tenant_, cluster_, trace_;
  std::vector<std::pair<std::string, value>> extra_;
};

/// A log line on stderr. `message` is the text after "provisiond: ".
void write(level l, std::string_view message, const fields& f = {}) noexcept;
inline void info(std::string_view message, const fields& f = {}) noexcept { write(level::info, message, f); }
inline void warn(std::string_view message, const fields& f = {}) noexcept { write(level::warn, message, f); }
inline void error(std::string_view message, const fields& f = {}) noexcept { write(level::error, message, f); }

/// A status line on stdout, where the process has always told whoever
/// started it that it serves or stops ("provisiond: stopped"); info level.
void status(std::string_view message, const fields& f = {}) noexcept;
/// The same without the prefix in text: `line` exactly as it was always
/// printed ("provisiond listening on http://H:P (...)": tests and scripts
/// find the port in it, in text and in the json message alike).
void status_line(std::string_view line, const fields& f = {}) noexcept;

/// An access-audit line (a denied call, an admin change) on stderr: always
/// one JSON object, whatever the format, so a SIEM can take every such line
/// as it is; level warn for a denial, info otherwise. Never a secret in it.
void audit(level l, std::string_view message, const fields& f) noexcept;

/// One line as it would be written, without its newline (for tests).
std::string render(format fmt, std::string_view prefix, level l, std::string_view message, const fields& f,
                   std::int64_t unix_ms);
/// "2024-05-01T12:34:56.789Z".
std::string rfc3339_ms(std::int64_t unix_ms);

}  // namespace provisiond::log
