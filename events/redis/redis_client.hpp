#pragma once
/// A thin RAII client over hiredis 0.14 (Debian's libhiredis-dev) for the
/// scale-out pieces: one connection, commands as argument vectors (no format
/// strings, so no injection), Lua scripts by SHA with a load on NOSCRIPT,
/// and a reconnect on the next call after an I/O error. Thread-safe (one
/// mutex: calls are short). Errors are `unavailable` (connection) or
/// `internal` (a Redis error reply).

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

#include "common/result.hpp"

struct redisContext;

namespace provisiond::events::redis {

/// A decoded reply: nil, an integer, a string (bulk or status) or an array.
struct reply {
  enum class kind { nil, integer, string, array } type = kind::nil;
  long long integer = 0;
  std::string str;
  std::vector<reply> elements;
  bool is_nil() const noexcept { return type == kind::nil; }
};

class client {
 public:
  /// `url`: "redis://host:port" or "unix:///path/to/socket".
  static result<std::unique_ptr<client>> connect(const std::string& url,
                                                 std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// One command, e.g. {"SET", key, value, "NX", "PX", "30000"}.
  result<reply> command(const std::vector<std::string>& argv);

  /// Runs a Lua script by its SHA (EVALSHA), loading it first if Redis does
  /// not know it (after a restart, say).
  result<reply> eval(const std::string& script, const std::vector<std::string>& keys,
                     const std::vector<std::string>& args);

 private:
  client(std::string url, std::chrono::milliseconds timeout) : url_(std::move(url)), timeout_(timeout) {}
  status reconnect();
  result<reply> command_locked(const std::vector<std::string>& argv);

  std::string url_;
  std::chrono::milliseconds timeout_;
  std::mutex mutex_;
  redisContext* ctx_ = nullptr;
};

/// SHA-1 of a script as Redis names it (hex).
std::string script_sha(const std::string& script);

}  // namespace provisiond::events::redis
