#pragma once
/// Tenants' webhook endpoints: admin state, event-sourced in the journal
/// stream `webhooks` (webhook_saved / webhook_deleted / webhook_deactivated)
/// and held in memory, like the approval rules. Signing secrets are
/// generated here and sealed in the secret store (`webhook/<id>/current`,
/// and `.../previous` during a rotation's overlap); the journal only names
/// the overlap's end. Thread-safe; writes block on the journal (call them
/// from request threads or the dispatcher's workers, never from an actor).
///
/// Scale-out: like every admin stream, written by the owner of the admin
/// partition (`share`); the others fold what the replica restores (`refresh`).

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "actors/governance/admin_stream.hpp"
#include "common/clock.hpp"
#include "common/result.hpp"
#include "events/domain_events.hpp"
#include "events/journal.hpp"
#include "events/secret_store.hpp"

namespace provisiond::webhooks {

/// An endpoint and the secret it signs with now, shown once (creation, rotation).
struct endpoint_with_secret {
  events::webhook_endpoint endpoint;
  std::string secret;
};

class registry {
 public:
  registry(std::shared_ptr<events::journal> journal, std::shared_ptr<events::secret_store> secrets,
           std::shared_ptr<clock> time);

  /// Replays the stream. Call once before use.
  status load();
  void share(std::function<std::optional<std::uint64_t>()> token);
  /// Folds another instance's writes.
  status refresh();

  /// Registers `draft` (url, events, enabled, description, tenant): a new
  /// id and secret.
  result<endpoint_with_secret> create(events::webhook_endpoint draft);
  /// Replaces url, events, enabled and description. `enabled: true` on a
  /// deactivated endpoint re-enables it.
  result<events::webhook_endpoint> update(const events::webhook_endpoint& changes);
  /// Deletes the endpoint and shreds its secrets.
  status remove(const std::string& id);
  /// A new secret; the current one stays valid (and also signs) for `overlap_ms`.
  result<endpoint_with_secret> rotate(const std::string& id, time_ms overlap_ms);
  /// Switches the endpoint off after failed deliveries (webhook_deactivated).
  /// A no-op when it is already off.
  status deactivate(const std::string& id, const std::string& reason, int consecutive_failures);

  std::optional<events::webhook_endpoint> get(const std::string& id) const;
  /// The endpoints of `tenant` (all when empty), in creation order.
  std::vector<events::webhook_endpoint> list(const std::string& tenant = {}) const;
  /// The secrets that sign at `now`: the current one, and the previous one
  /// during its overlap.
  result<std::vector<std::string>> signing_secrets(const std::string& id, time_ms now) const;

 private:
  status refresh_locked();
  void fold(const events::event& e);
  status append(const events::event& e);

  std::shared_ptr<events::secret_store> secrets_;
  std::shared_ptr<clock> clock_;
  mutable std::mutex mutex_;
  std::mutex rotate_mutex_;  ///< one rotation at a time (taken before mutex_)
  actors::admin_stream stream_;
  std::vector<events::webhook_endpoint> endpoints_;  ///< in creation order
};

/// The event types an endpoint may subscribe to: the product's lifecycle
/// events (`provisioning.started`, `provisioning.completed`, ... — the
/// Kafka lifecycle topics, whose CloudEvents the deliveries carry), then
/// every request event of the journal by its wire name (`request_submitted`,
/// `step_failed`, ... — the whole stream, for tenants who want it).
const std::vector<std::string>& subscribable_types();

/// True when `ep` wants events of `type`: listed, or "*" for a lifecycle
/// event ("*" is every lifecycle event; journal types are only sent when named).
bool subscribes(const events::webhook_endpoint& ep, const std::string& type);

}  // namespace provisiond::webhooks
