#pragma once
/// One vCenter's SOAP session: the service content, the session cookie and
/// the HTTP client, with the lookups every step needs (inventory paths,
/// properties, tasks polled on the injected clock). Thread-safe: the cookie
/// is guarded; calls from several I/O threads may share a session.

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "providers/http/http_client.hpp"
#include "providers/vmware/replies.hpp"
#include "providers/vmware/settings.hpp"

namespace provisiond::providers::vmware::detail {

struct session {
  settings cfg;
  std::shared_ptr<clock> clk;
  std::unique_ptr<http::client> http;

  /// Reads the service content once and logs in when there is no session
  /// cookie. Refused credentials: permanent "auth", vCenter's words quoted.
  status ensure_login();
  /// The service content (valid after ensure_login succeeded).
  service_content content();

  /// One SOAP call (the method element; the envelope is added). On
  /// NotAuthenticated (the session expired) logs in again and resends once.
  /// Returns the reply without a fault, or the classified error.
  result<std::string> call(const std::string& body, const std::string& what);

  /// SearchIndex.FindByInventoryPath; nullopt when nothing is there.
  result<std::optional<moref>> find(const std::string& path);
  /// Like find, but a missing object is permanent "not_found" naming `what`.
  result<moref> require(const std::string& path, const std::string& what);
  /// RetrieveProperties of `paths` on `obj`.
  result<object_view> properties(const moref& obj, const std::vector<std::string>& paths);

  /// Starts a *_Task method; returns the task.
  result<moref> start_task(const std::string& body, const std::string& what);
  /// Polls the task on the clock until success (its result, if any) or
  /// error (the fault, classified and quoted); a task still running after
  /// cfg.task_timeout_s is retryable "timeout".
  result<std::optional<moref>> wait_task(const moref& task, const std::string& what);
  /// start_task then wait_task.
  result<std::optional<moref>> run_task(const std::string& body, const std::string& what);

 private:
  status login_locked();

  std::mutex mutex_;  // guards the cookie and the service content
  std::string cookie_;
  std::optional<service_content> content_;
};

/// A session for a connection JSON; bad settings are permanent "config".
result<std::shared_ptr<session>> make_session(const std::string& connection, std::shared_ptr<clock> clk);

}  // namespace provisiond::providers::vmware::detail
