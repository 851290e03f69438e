#pragma once
/// One OpenStack cluster's authenticated session: the Keystone v3 token, the
/// catalog endpoints and the HTTP client. Thread-safe: the token and
/// endpoints are guarded; calls from several I/O threads may share it.

#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "providers/detail/json_reply.hpp"
#include "providers/http/http_client.hpp"
#include "providers/openstack/settings.hpp"

namespace provisiond::providers::openstack::detail {

using reply = providers::detail::json_reply;

struct session {
  enum class svc { compute, network, image, volume };

  settings cfg;
  std::shared_ptr<clock> clk;  ///< token expiry is compared against its now()
  std::unique_ptr<http::client> http;

  /// Authenticates when there is no token or less than 120 s of it remain
  /// (like keystoneauth). Errors: Keystone's, classified; 401 is "auth".
  status ensure_token();

  /// One call to a service; on a 401 authenticates again and resends once.
  result<reply> call(const std::string& method, svc s, const std::string& path, const nlohmann::json& body = nullptr);

  /// The endpoint of Cinder, empty when the catalog has none.
  std::string volume_endpoint();

 private:
  status authenticate_locked();

  std::mutex mutex_;  // guards the token and endpoints
  std::string token_;
  time_ms expires_ = 0;
  std::string compute_, network_, image_, volume_;
};

/// A session for a connection JSON; bad settings are permanent "config".
result<std::shared_ptr<session>> make_session(const std::string& connection, std::shared_ptr<clock> clk);

/// A reply with an expected status (its body, `{}` when not JSON), or the
/// classified error.
result<nlohmann::json> expect(result<reply> r, std::initializer_list<int> ok_codes, const std::string& what);

}  // namespace provisiond::providers::openstack::detail
