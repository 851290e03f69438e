#pragma once
/// The settings each module is given, as plain data: the journal's
/// durability, the retry and gate policies of the engine, the simulation's
/// faults, Kafka and the HTTP listener. `common/config.hpp` holds them in the
/// process configuration and parses the file; modules include only this.

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.hpp"
#include "common/result.hpp"

namespace provisiond {

/// How hard the journal tries to survive failures.
enum class durability {
  durable,  ///< fsync each batch (concurrent appends share one fsync)
  fast,     ///< no fsync: survives a process crash, not a power cut
};

/// Backoff for retryable failures: base, 2x base, 4x base ... capped.
struct retry_policy {
  time_ms base_delay_ms = 5'000;
  time_ms max_delay_ms = 300'000;
  int max_retries = 3;
  /// Delay before retry number `retry` (1-based).
  time_ms delay_for(int retry) const noexcept;
};

/// Fault rates for one pipeline step of the simulation provider, each in [0,1].
struct step_faults {
  double retryable = 0;      ///< fail before creating anything, retryable
  double permanent = 0;      ///< fail before creating anything, permanent
  double response_lost = 0;  ///< create, then report a timeout
};

/// Faults and delays for one simulated cluster, overriding the defaults.
struct simulated_cluster {
  std::array<step_faults, 4> steps{};
  time_ms min_delay_ms = 0;
  time_ms max_delay_ms = 0;
  bool reachable = true;  ///< false: its connectivity check fails
};

struct simulation_config {
  std::uint64_t seed = 1;
  std::map<std::string, simulated_cluster> clusters;  ///< by cluster id
  std::array<step_faults, 4> steps{};                 ///< allocate, configure, activate, verify
  double release_failure = 0;                         ///< retryable failure rate of releases
  time_ms min_delay_ms = 0;                           ///< per call, uniform in [min, max]
  time_ms max_delay_ms = 0;
};

/// Circuit breaker and bulkhead in front of each cluster's provider calls.
struct gate_config {
  int max_concurrent = 8;     ///< bulkhead: provider calls at once per cluster
  int window = 20;            ///< breaker: the last N calls
  int min_calls = 10;         ///< breaker: no verdict on fewer calls
  double failure_rate = 0.5;  ///< breaker: open at or above this share of retryable failures
  time_ms open_ms = 30'000;   ///< breaker: fail fast this long, then let a probe through
  int half_open_probes = 1;
};

/// Kafka: an embedded mock cluster by default, real brokers when
/// `bootstrap` is set. `properties` pass through to every librdkafka client
/// (security.protocol, sasl.*, ssl.*, ...); they are never logged or shown.
struct kafka_config {
  bool enabled = true;
  std::string bootstrap;  ///< empty: start librdkafka's mock cluster in-process
  std::vector<std::pair<std::string, std::string>> properties;
  std::string topic_prefix;  ///< prepended to every event topic
  std::string commands_topic = "provisioning.commands";
  std::string group_id = "provisiond";
  std::string source = "/provisiond";  ///< CloudEvents `source`
};

/// Limits of the HTTP listener against slow or greedy clients.
struct http_limits {
  int max_connections = 1024;            ///< open connections at once; more are answered 503 and closed
  int max_connections_per_client = 256;  ///< per client IP address
  time_ms header_timeout_ms = 10'000;    ///< from the first byte of a request to the end of its header
  time_ms body_timeout_ms = 30'000;      ///< to read a body once its header is in
  time_ms idle_timeout_ms = 30'000;      ///< a kept-alive connection with no new request is closed
  std::size_t body_limit = 1 << 20;      ///< 413 above it
  /// The live event stream (GET /v1/events/stream): a comment line after
  /// this much silence; a reader that leaves a piece unwritten this long is
  /// dropped with a last event; new events are looked for this often.
  time_ms stream_heartbeat_ms = 15'000;
  time_ms stream_slow_reader_ms = 5'000;
  time_ms stream_poll_ms = 100;
};

/// TLS on the HTTP listener (`http.tls`); off while cert_file is empty.
/// With client_ca_file set, client certificates signed by that CA are
/// verified and their subject handed to the handler (mTLS); with
/// require_client_cert a connection without one is refused in the handshake.
struct tls_settings {
  std::string cert_file;       ///< PEM certificate chain of the listener
  std::string key_file;        ///< PEM private key (never logged)
  std::string client_ca_file;  ///< PEM CA bundle for client certificates; empty: none asked for
  bool require_client_cert = false;
};

}  // namespace provisiond
