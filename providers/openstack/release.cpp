// The OpenStack provider's releases: DELETEs that count 404 as done, and
// waits (on the injected clock) until the cloud has really let go.
#include <algorithm>

#include "providers/openstack/bodies.hpp"
#include "providers/openstack/detail/json_fields.hpp"
#include "providers/openstack/detail/provider.hpp"
#include "providers/openstack/errors.hpp"

namespace provisiond::providers::openstack::detail {

using events::step_kind;
using nlohmann::json;

result<std::vector<std::string>> openstack_provider::release(const release_call& call) {
  auto s = session_for(call.cluster_id.str());
  if (!s) return s.error();
  if (call.step == step_kind::configure) return release_floating_ips(**s, call);
  if (call.step == step_kind::allocate) return release_server(**s, call);
  std::vector<std::string> ids;
  for (auto& r : call.known) ids.push_back(r.id);
  return ids;
}

// DELETE that counts 404 as done.
status openstack_provider::remove(session& s, svc service, const std::string& path, const std::string& what) {
  auto r = s.call("DELETE", service, path);
  if (!r) return r.error();
  if (r->status == 204 || r->status == 202 || r->status == 404) return ok();
  return classify(r->status, r->raw, r->retry_after, what);
}

result<std::vector<std::string>> openstack_provider::release_floating_ips(session& s, const release_call& call) {
  std::vector<std::string> ids;
  for (auto& r : call.known)
    if (r.kind == "floating_ip") ids.push_back(r.id);
  // Also whatever carries this request's mark (an interrupted create).
  auto tagged = expect(s.call("GET", svc::network, "/floatingips?description=" + tag_of(call.request_id.str())), {200},
                       "Neutron list floating IPs");
  if (!tagged) return tagged.error();
  for (auto& f : tagged->value("floatingips", json::array()))
    if (str_or(f, "description") == tag_of(call.request_id.str()) &&
        std::find(ids.begin(), ids.end(), str_or(f, "id")) == ids.end())
      ids.push_back(str_or(f, "id"));
  for (auto& id : ids)
    if (auto st = remove(s, svc::network, "/floatingips/" + id, "Neutron delete floating IP"); !st) return st.error();
  return ids;
}

result<std::vector<std::string>> openstack_provider::release_server(session& s, const release_call& call) {
  std::vector<std::string> servers, volumes, groups, released;
  for (auto& r : call.known) {
    if (r.kind == "server") servers.push_back(r.id);
    if (r.kind == "volume") volumes.push_back(r.id);
    if (r.kind == "security_group") groups.push_back(r.id);
  }
  auto tagged = find_servers(s, call.request_id.str());
  if (!tagged) return tagged.error();
  for (auto& srv : *tagged) {
    auto id = str_or(srv, "id");
    if (std::find(servers.begin(), servers.end(), id) == servers.end()) servers.push_back(id);
    for (auto& v : srv.value("os-extended-volumes:volumes_attached", json::array()))
      if (std::find(volumes.begin(), volumes.end(), str_or(v, "id")) == volumes.end())
        volumes.push_back(str_or(v, "id"));
  }
  auto sg = security_group(s, call.request_id.str(), false);
  if (!sg) return sg.error();
  if (!sg->empty() && std::find(groups.begin(), groups.end(), *sg) == groups.end()) groups.push_back(*sg);

  for (auto& id : servers) {
    if (auto st = remove(s, svc::compute, "/servers/" + id, "Nova delete server"); !st) return st.error();
    auto deadline = clk_->now() + 120'000;
    for (;;) {  // deleted means 404
      auto r = s.call("GET", svc::compute, "/servers/" + id);
      if (!r) return r.error();
      if (r->status == 404 || (r->status == 200 && str_or(r->body["server"], "status") == "DELETED")) break;
      if (clk_->now() >= deadline) return retryable_error("busy", "server " + id + " is not gone yet");
      clk_->sleep_for(poll_interval_ms);
    }
    released.push_back(id);
  }
  for (auto& id : volumes) {
    // delete_on_termination normally takes it with the server; make sure.
    auto deadline = clk_->now() + 60'000;
    for (;;) {
      if (s.volume_endpoint().empty()) break;  // no block-storage service: Nova alone owns the volume
      auto r = s.call("GET", svc::volume, "/volumes/" + id);
      if (!r) return r.error();
      if (r->status == 404) break;
      auto st = r->body.is_object() ? str_or(r->body.value("volume", json::object()), "status") : std::string{};
      if (st == "available" || st == "error") {
        auto d = s.call("DELETE", svc::volume, "/volumes/" + id);
        if (!d) return d.error();
        if (d->status != 202 && d->status != 404 && !(d->status == 400 && st == "deleting"))
          return classify(d->status, d->raw, d->retry_after, "Cinder delete volume");
      }
      if (clk_->now() >= deadline) return retryable_error("busy", "volume " + id + " is not gone yet (" + st + ")");
      clk_->sleep_for(poll_interval_ms);
    }
    released.push_back(id);
  }
  for (auto& id : groups) {
    auto deadline = clk_->now() + 30'000;
    for (;;) {  // SecurityGroupInUse clears once the server's ports are gone
      auto st = remove(s, svc::network, "/security-groups/" + id, "Neutron delete security group");
      if (st) break;
      if (st.error().code != errc::retryable || clk_->now() >= deadline) return st.error();
      clk_->sleep_for(poll_interval_ms);
    }
    released.push_back(id);
  }
  (void)secrets_->erase(events::request_secret_name(call.request_id.str()));  // the server it opened is gone
  return released;
}

}  // namespace provisiond::providers::openstack::detail
