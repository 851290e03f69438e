#pragma once
/// One session per cluster for a REST provider (token, endpoints, HTTP
/// client), made again when the cluster's connection settings change.
/// Thread-safe.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "common/result.hpp"
#include "providers/provider.hpp"

namespace provisiond::providers::detail {

template <class Session>
class session_cache {
 public:
  using connection_source = std::function<result<std::string>(const std::string& cluster_id)>;
  using factory = std::function<result<std::shared_ptr<Session>>(const std::string& connection)>;

  session_cache(connection_source connection_of, factory make)
      : connection_of_(std::move(connection_of)), make_(std::move(make)) {}

  /// The cluster's session; errors are permanent "config" (bad settings).
  result<std::shared_ptr<Session>> get(const std::string& cluster_id) {
    auto conn = connection_of_(cluster_id);
    if (!conn) return permanent_error("config", "cluster " + cluster_id + ": " + conn.error().message);
    std::lock_guard lock{mutex_};
    auto& slot = sessions_[cluster_id];
    if (slot.first != *conn || !slot.second) {  // new, or the cluster's settings changed
      auto s = make_(*conn);
      if (!s) return s.error();
      slot = {*conn, *s};
    }
    return slot.second;
  }

  /// A session for settings not (yet) registered, e.g. a connectivity test.
  result<std::shared_ptr<Session>> make(const std::string& connection) { return make_(connection); }

 private:
  connection_source connection_of_;
  factory make_;
  std::mutex mutex_;
  std::map<std::string, std::pair<std::string, std::shared_ptr<Session>>> sessions_;  // by cluster id
};

}  // namespace provisiond::providers::detail
