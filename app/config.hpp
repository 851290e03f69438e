#pragma once
/// provisiond's configuration: defaults for the embedded set-up, loaded from
/// a JSON file (--config) and overridden by flags. It holds each module's
/// settings (common/settings.hpp) and the clusters to seed
/// (common/cluster.hpp); only app/ and its tests include this header
/// (library provisiond::config).

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.hpp"
#include "common/result.hpp"

#include "auth/settings.hpp"
#include "common/cluster.hpp"
#include "common/log.hpp"
#include "common/settings.hpp"

namespace provisiond {

struct config {
  std::string data_dir = "./var/provisiond";
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8080;
  durability journal_durability = durability::durable;
  retry_policy retry;
  simulation_config simulation;
  /// `simulation.cloudUrl`: a shared simulation cloud (`provisiond sim-cloud`)
  /// that simulation clusters are forwarded to instead of a local ledger.
  /// Empty: the in-process simulation provider.
  std::string simulation_cloud_url;
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
  tls_settings http_tls;
  auth::settings auth;  ///< who may call (auth/)
  time_ms stuck_after_ms = 30 * 60 * 1000;
  /// SIGTERM: in-flight provider calls get this long to finish (a hard
  /// limit; calls still running are abandoned and settled on resume).
  time_ms shutdown_grace_ms = 30'000;
  int max_in_flight_per_tenant = 5;  ///< working requests per tenant; the rest wait FIFO
  gate_config gate;
  kafka_config kafka;
  /// Scale-out (README "Several instances"): with `redis.url` set (and
  /// `kafka.bootstrap`), instances share the work by partition.
  std::string instance_id;  ///< unique per instance; empty: the host name and pid
  std::string advertise;    ///< host:port others forward writes to; empty: the HTTP listener's
  std::string redis_url;    ///< redis://host:port or unix:///path
  time_ms lease_ttl_ms = 10'000;
  /// Tenant webhooks (README "Webhooks").
  struct webhook_settings {
    /// SSRF allow-list: CIDRs or host names a webhook may reach although
    /// they are not public (an internal receiver; the tests' loopback one).
    std::vector<std::string> allow;
    /// Static name → addresses, looked up before DNS (like /etc/hosts).
    std::map<std::string, std::vector<std::string>> hosts;
    std::vector<time_ms> retry_delays_ms = {5'000, 30'000, 300'000};
    int deactivate_after = 5;  ///< failed deliveries in a row
    int threads = 8;           ///< attempts in flight overall
    int per_endpoint = 2;      ///< attempts in flight per endpoint
    time_ms timeout_ms = 10'000;
    time_ms rotation_overlap_ms = 24 * 3600 * 1000;  ///< the previous secret's validity after a rotation
  } webhooks;
  /// `log.format` / --log-format: text (the lines as they always were) or
  /// json (one object per line, for a log shipper).
  log::format log_format = log::format::text;
  /// `audit`: signed checkpoints of the journal (events/README.md, "Hash chain").
  struct audit_settings {
    std::uint64_t checkpoint_every = 1000;  ///< `checkpointEvery`: events between checkpoints; 0: only at shutdown
    std::string checkpoint_key_file;        ///< `checkpointKeyFile`; empty: "<dataDir>/audit.key" (created 0600)
  } audit;
  /// `provisiond kafka-dev`: partitions of each topic it creates.
  int dev_partitions = 4;
};

/// The embedded default: simulation clusters in eu-west-1 and us-east-1.
config default_config();

/// Parses a JSON config document on top of `base`. Unknown keys are errors
/// (they are usually typos); the error names the field.
result<config> parse_config(const std::string& json_text, config base);

/// Reads and parses a config file on top of `base`.
result<config> load_config_file(const std::string& path, config base);

/// "host:port" → host and port, or an error naming `field`.
result<std::pair<std::string, std::uint16_t>> parse_host_port(const std::string& s,
                                                             const std::string& field);

}  // namespace provisiond
