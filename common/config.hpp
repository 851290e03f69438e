#pragma once
/// provisiond's configuration: defaults for the embedded set-up, loaded from
/// a JSON file (--config) and overridden by flags. Plain data; no I/O besides
/// reading the file.

#include <array>
#include <cstdint>
#include <map>
#include <string>
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
  std::array<step_faults, 4> steps{};  ///< allocate, configure, activate, verify
  double release_failure = 0;          ///< retryable failure rate of releases
  time_ms min_delay_ms = 0;            ///< per call, uniform in [min, max]
  time_ms max_delay_ms = 0;
};

/// Circuit breaker and bulkhead in front of each cluster's provider calls.
struct gate_config {
  int max_concurrent = 8;       ///< bulkhead: provider calls at once per cluster
  int window = 20;              ///< breaker: the last N calls
  int min_calls = 10;           ///< breaker: no verdict on fewer calls
  double failure_rate = 0.5;    ///< breaker: open at or above this share of retryable failures
  time_ms open_ms = 30'000;     ///< breaker: fail fast this long, then let a probe through
  int half_open_probes = 1;
};

/// What a cluster can hold, or what one request takes of it.
struct cluster_capacity {
  int cpu = 0;
  int memory_gb = 0;
  int storage_gb = 0;
  int vm_slots = 0;
  friend bool operator==(const cluster_capacity&, const cluster_capacity&) = default;
};

struct cluster_config {
  std::string id;
  std::string name;
  std::string type;    ///< provider kind: openstack | openshift | simulation | manual | proxmox | vmware
  std::string region;
  bool is_default = false;
  /// Config-file clusters without a capacity get effectively unlimited room.
  cluster_capacity capacity{1'000'000, 1'000'000, 1'000'000'000, 1'000'000};
  std::string health = "online";  ///< online | degraded | offline
  bool provisioning_enabled = true;
  /// Provider settings as a JSON object, secret fields removed (they are
  /// sealed in the secret store); `secret_fields` names them.
  std::string connection = "{}";
  std::vector<std::string> secret_fields;
  time_ms created_at = 0;
  friend bool operator==(const cluster_config&, const cluster_config&) = default;
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
  int max_connections = 1024;           ///< open connections at once; more are answered 503 and closed
  int max_connections_per_client = 256;  ///< per client IP address
  time_ms header_timeout_ms = 10'000;   ///< from the first byte of a request to the end of its header
  time_ms body_timeout_ms = 30'000;     ///< to read a body once its header is in
  time_ms idle_timeout_ms = 30'000;     ///< a kept-alive connection with no new request is closed
  std::size_t body_limit = 1 << 20;     ///< 413 above it
};

struct config {
  std::string data_dir = "./var/provisiond";
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8080;
  durability journal_durability = durability::durable;
  retry_policy retry;
  simulation_config simulation;
  /// Seeded into the cluster registry at start when their id is new there;
  /// after that the API (/v1/clusters) owns them.
  std::vector<cluster_config> clusters;
  /// Secret connection fields of config-file clusters, by cluster id.
  std::map<std::string, std::map<std::string, std::string>> cluster_secrets;
  /// 32-byte key that seals secrets at rest; created when missing.
  /// Empty: "<dataDir>/secret.key".
  std::string secret_key_file;
  int provider_threads = 16;  ///< threads for blocking provider calls
  int http_threads = 2;
  http_limits http;
  time_ms stuck_after_ms = 30 * 60 * 1000;
  int max_in_flight_per_tenant = 5;  ///< working requests per tenant; the rest wait FIFO
  gate_config gate;
  kafka_config kafka;
};

/// The embedded default: simulation clusters in eu-west-1 and us-east-1.
config default_config();

/// A cluster as an API body or a config entry, its secret connection fields
/// split out of `cluster.connection`.
struct cluster_definition {
  cluster_config cluster;
  std::map<std::string, std::string> secrets;  ///< field → value (write-only)
};

/// Top-level connection fields whose name holds password, secret, token,
/// privateKey or apiKey (any case) are secrets.
bool is_secret_field(const std::string& name);

/// Parses and validates a cluster object ({id?, name, type, region, capacity,
/// health, provisioningEnabled, default, connection}). `path` prefixes field
/// names in errors (e.g. "clusters[2]"). The capacity is required when
/// `require_capacity`; otherwise it defaults to effectively unlimited.
result<cluster_definition> parse_cluster(const std::string& json_text, const std::string& path, bool require_capacity);

/// Parses a JSON config document on top of `base`. Unknown keys are errors
/// (they are usually typos); the error names the field.
result<config> parse_config(const std::string& json_text, config base);

/// Reads and parses a config file on top of `base`.
result<config> load_config_file(const std::string& path, config base);

/// "host:port" → host and port, or an error naming `field`.
result<std::pair<std::string, std::uint16_t>> parse_host_port(const std::string& s,
                                                             const std::string& field);

}  // namespace provisiond
