#pragma once
/// Secrets at rest, outside the event log: cluster connection passwords and
/// tokens, delivered service credentials. Values are sealed (AES-256-GCM)
/// before they are stored, so the journal, Kafka and the read models never
/// hold them, and deleting a record shreds it. Thread-safe.

#include <optional>
#include <string>

#include "common/result.hpp"

namespace provisiond::events {

class secret_store {
 public:
  virtual ~secret_store() = default;
  /// Seals and stores `plaintext` under `name` (durably).
  virtual status put(const std::string& name, const std::string& plaintext) = 0;
  /// The plaintext, or nullopt when there is none.
  virtual result<std::optional<std::string>> get(const std::string& name) = 0;
  virtual status erase(const std::string& name) = 0;
};

/// "cluster/<id>/<field>", "request/<id>/credential".
inline std::string cluster_secret_name(const std::string& cluster_id, const std::string& field) {
  return "cluster/" + cluster_id + "/" + field;
}
inline std::string request_secret_name(const std::string& request_id) { return "request/" + request_id + "/credential"; }
/// "webhook/<id>/current" and "webhook/<id>/previous" (the signing secrets, `whsec_...`).
inline std::string webhook_secret_name(const std::string& webhook_id, bool previous = false) {
  return "webhook/" + webhook_id + (previous ? "/previous" : "/current");
}

}  // namespace provisiond::events
