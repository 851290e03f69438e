#pragma once
/// One Proxmox VE cluster's authenticated session: an API token, or a
/// ticket with its CSRF token (renewed before its 2 h run out, and once
/// more on a 401), and the HTTP client. Thread-safe: the ticket is
/// guarded; calls from several I/O threads may share the session.

#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "providers/detail/json_reply.hpp"
#include "providers/http/http_client.hpp"
#include "providers/proxmox/settings.hpp"
#include "providers/proxmox/wire.hpp"

namespace provisiond::providers::proxmox::detail {

using reply = providers::detail::json_reply;

struct session {
  settings cfg;
  std::shared_ptr<clock> clk;  ///< ticket age and task deadlines are judged by it
  std::unique_ptr<http::client> http;

  /// A ticket when there is none or it is older than an hour (it lives 2 h);
  /// with a token, one cheap authenticated read. Refused credentials are
  /// permanent "auth", quoting Proxmox.
  status authenticate();

  /// One call under /api2/json: `f` is the query of a GET or DELETE and the
  /// form body of a POST or PUT. A ticket refused with 401 is renewed and
  /// the call sent once more.
  result<reply> call(const std::string& method, const std::string& path, const form& f = {});

  /// A call whose answer must be 200: its `data`, or the classified error.
  result<nlohmann::json> data(const std::string& method, const std::string& path, const form& f,
                              const std::string& what);

  /// Polls the task of `upid` on the node the UPID names until it is
  /// `stopped`: ok for exitstatus OK (or WARNINGS), else permanent
  /// "task_failed" quoting it; a 400 right after dispatch is polled again.
  status wait_task(const std::string& upid, const std::string& what);

 private:
  status login_locked(const std::string& password);

  std::mutex mutex_;  // guards the ticket
  std::string ticket_, csrf_;
  time_ms ticket_at_ = 0;
};

/// A session for a connection JSON; bad settings are permanent "config".
result<std::shared_ptr<session>> make_session(const std::string& connection, std::shared_ptr<clock> clk);

/// `data` of a reply as an integer, from a number or a numeric string
/// (/cluster/nextid gives either).
std::optional<long long> as_integer(const nlohmann::json& j);

}  // namespace provisiond::providers::proxmox::detail
