#pragma once
/// The OpenStack provider class, declared once for the files that implement
/// it: provider.cpp (the provider interface and the four steps), lookups.cpp
/// (reads of Nova and Neutron and the waits on the clock), release.cpp.
/// Thread-safe: state is the session cache and the secret store, both
/// thread-safe; calls block and run on the engine's I/O pool.

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "events/secret_store.hpp"
#include "providers/detail/session_cache.hpp"
#include "providers/openstack/detail/session.hpp"
#include "providers/provider.hpp"

namespace provisiond::providers::openstack::detail {

class openstack_provider final : public provider {
 public:
  openstack_provider(std::function<result<std::string>(const std::string&)> connection_of,
                     std::shared_ptr<events::secret_store> secrets, std::shared_ptr<clock> clk);

  std::string kind() const override { return "openstack"; }
  result<step_outcome> execute(const step_call& call) override;
  result<std::optional<step_outcome>> lookup(const step_call& call) override;
  result<std::vector<std::string>> release(const release_call& call) override;
  status set_power(const provisiond::request_id& request, const provisiond::cluster_id& cluster, bool on) override;
  result<service_metrics> metrics(const provisiond::request_id& request, const provisiond::cluster_id& cluster) override;
  status check(const cluster_config& cluster) override;
  status validate_connection(const std::string& connection_json) const override;

 private:
  using json = nlohmann::json;
  using svc = session::svc;

  static constexpr time_ms poll_interval_ms = 500;

  // provider.cpp
  static status begin(session& s);
  result<std::shared_ptr<session>> session_for(const std::string& cluster_id) { return sessions_.get(cluster_id); }
  result<std::string> security_group(session& s, const std::string& request_id, bool create);
  result<std::optional<step_outcome>> allocate(session& s, const step_call& call, bool create);
  result<std::optional<step_outcome>> configure(session& s, const step_call& call, bool create);
  result<step_outcome> activate(session& s, const step_call& call);
  result<step_outcome> verify(session& s, const step_call& call);

  // lookups.cpp
  result<json> find_servers(session& s, const std::string& request_id);
  /// The cluster's session and the id of the request's server; `missing` is
  /// the error class when no server carries the request's tag.
  result<std::pair<std::shared_ptr<session>, std::string>> request_server(const provisiond::request_id& request,
                                                                         const provisiond::cluster_id& cluster,
                                                                         errc missing);
  result<std::string> server_status(session& s, const std::string& id);
  status server_fault(session& s, const std::string& id);
  status wait_status(session& s, const std::string& id, const std::string& target, int seconds);
  result<std::string> id_by_name(session& s, svc service, const std::string& path, const char* list,
                                 const std::string& name, const std::string& what);
  result<json> server_port(session& s, const std::string& server_id, int wait_s = 60);
  std::string server_id_of(session& s, const step_call& call);

  // release.cpp
  status remove(session& s, svc service, const std::string& path, const std::string& what);
  result<std::vector<std::string>> release_floating_ips(session& s, const release_call& call);
  result<std::vector<std::string>> release_server(session& s, const release_call& call);

  std::shared_ptr<clock> clk_;
  providers::detail::session_cache<session> sessions_;
  std::shared_ptr<events::secret_store> secrets_;
};

}  // namespace provisiond::providers::openstack::detail
