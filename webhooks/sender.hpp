#pragma once
/// One webhook attempt on the wire: the URL checked again by the SSRF guard,
/// the connection made to the address it approved, the Standard Webhooks
/// headers signed with the endpoint's current secrets, the whole attempt
/// within the timeout, and what came back (2xx = success; a redirect is not
/// followed). Blocks; thread-safe. Internal to webhooks/.

#include <memory>
#include <string>

#include "common/clock.hpp"
#include "providers/http/http_client.hpp"
#include "webhooks/address_guard.hpp"
#include "webhooks/deliveries.hpp"
#include "webhooks/registry.hpp"

namespace provisiond::webhooks {

class sender {
 public:
  sender(std::shared_ptr<registry> endpoints, std::shared_ptr<address_guard> guard, time_ms timeout_ms);
  /// Sends `body` as delivery `id` to `ep`, signed for `now`; also counts
  /// the attempt in the metrics.
  attempt send(const events::webhook_endpoint& ep, const std::string& id, const std::string& body, time_ms now);

 private:
  std::shared_ptr<registry> endpoints_;
  std::shared_ptr<address_guard> guard_;
  std::unique_ptr<providers::http::client> http_;
};

}  // namespace provisiond::webhooks
