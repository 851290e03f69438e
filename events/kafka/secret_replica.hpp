#pragma once
/// Scale-out: secrets (cluster passwords, delivered service credentials)
/// shared by every instance without ever being plaintext on Kafka. A
/// secret_store in front of the local (RocksDB) one:
///
/// - put: stores locally, then publishes the value sealed (AES-256-GCM with
///   the shared key file, the secret's name bound as associated data) on
///   the compacted topic `provisioning.secrets`, keyed by name, and waits
///   until the brokers have it;
/// - erase: erases locally, then publishes a tombstone (compaction shreds
///   the sealed value);
/// - get: local only;
/// - a consumer of every partition applies what the others publish (from the
///   beginning at each start: the compacted topic holds one record per live
///   secret). A value this instance's key cannot open is counted and skipped.
///
/// Every instance must use the same `secretKeyFile`.

#include <chrono>
#include <memory>
#include <string>

#include "common/result.hpp"
#include "common/secret_box.hpp"
#include "common/settings.hpp"
#include "events/secret_store.hpp"

namespace provisiond::events::kafka {

/// `provisioning.secrets` with the prefix.
std::string secrets_topic(const kafka_config& cfg);

class secret_replica final : public secret_store {
 public:
  secret_replica(std::shared_ptr<secret_store> local, secret_box box, std::string bootstrap, kafka_config cfg);
  ~secret_replica() override;
  secret_replica(const secret_replica&) = delete;
  secret_replica& operator=(const secret_replica&) = delete;

  /// Connects, applies everything the topic holds now (within `timeout`)
  /// and keeps applying in the background. Registers
  /// `provisiond_secret_replica_records_total{result}`.
  status start(std::chrono::milliseconds timeout);
  void stop();

  status put(const std::string& name, const std::string& plaintext) override;
  result<std::optional<std::string>> get(const std::string& name) override;
  status erase(const std::string& name) override;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace provisiond::events::kafka
