#pragma once
/// The in-process backend the HTTP and JSON-body targets dispatch against:
/// wired the way app/ wires it (RocksDB journal in a temp dir, the
/// simulation and manual providers, governance, clusters, webhooks, the read
/// model), with one request, one approval rule and one webhook to point
/// routes at. Differences from tests/unit/gateway/in_process_backend.hpp,
/// so that millions of inputs stay cheap and harmless:
/// - webhook deliveries are projected but never sent (the delivery service
///   is not started), so no input makes a connection;
/// - log lines go to /dev/null;
/// - `note_write` counts successful writes, and after `rebuild_after` of
///   them the next `get()` builds a fresh backend in a fresh directory, so
///   the state a fuzzer piles up stays bounded.
/// One thread at a time (the fuzzer's).

#include <memory>
#include <string>

#include "gateway/api.hpp"

namespace provisiond::fuzz {

/// Ids that exist in every backend (fixed, so seeds can name them).
inline constexpr const char* fuzz_request_id = "req-fuzz-1";
inline constexpr const char* fuzz_tenant = "acme";
inline constexpr const char* fuzz_rule_id = "rule-fuzz-1";
/// A path segment the targets replace by the webhook's id (generated).
inline constexpr const char* webhook_placeholder = "wh_fuzz";

struct backend_parts;

class fuzz_backend {
 public:
  static constexpr int rebuild_after = 2000;

  /// The backend, built on first use (and again after rebuild_after writes).
  static fuzz_backend& get();
  /// Stops and removes the current one, if any.
  static void release();

  const gateway::api_backend& api() const;
  const std::string& webhook_id() const;
  const std::string& cluster_id() const;
  /// A write answered below 300 (something was recorded).
  void note_write() { ++writes_; }

  ~fuzz_backend();

 private:
  friend bool abandon_backend();
  fuzz_backend();
  std::unique_ptr<backend_parts> parts_;
  int writes_ = 0;
};

}  // namespace provisiond::fuzz
