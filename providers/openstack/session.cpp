#include "providers/openstack/detail/session.hpp"

#include "providers/detail/rest_session.hpp"

#include <cstdio>
#include <ctime>

#include "common/json.hpp"
#include "providers/openstack/bodies.hpp"
#include "providers/openstack/catalog.hpp"
#include "providers/openstack/detail/error_body.hpp"
#include "providers/openstack/detail/json_fields.hpp"
#include "providers/openstack/errors.hpp"
#include "providers/provider.hpp"

namespace provisiond::providers::openstack::detail {

using nlohmann::json;

namespace {

constexpr const char* nova_version = "compute 2.67";  // tags at create (2.52), BDM volume_type (2.67)
constexpr time_ms renew_before_ms = 120'000;

// "2026-11-25T18:14:19.000000Z" → ms since the epoch (the ISO string is UTC
// wall time); unreadable: 10 minutes from the clock's now.
time_ms parse_time(const std::string& s, const clock& clk) {
  std::tm tm{};
  if (std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                  &tm.tm_sec) != 6)
    return clk.now() + 10 * 60'000;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<time_ms>(timegm(&tm)) * 1000;
}

}  // namespace

status session::authenticate_locked() {
  auto r = http->send(
      {"POST", cfg.auth_url + "/auth/tokens", {{"Content-Type", "application/json"}}, auth_body(cfg).dump()});
  if (!r) return r.error();
  if (r->status != 201) {
    auto e = classify(r->status, r->body, r->header("retry-after"), "Keystone authentication");
    if (r->status == 401) e.message = "Keystone rejected the credentials of this cluster: " + cloud_message(r->body);
    return e;
  }
  auto j = parse_json_lenient(r->body);
  token_ = r->header("x-subject-token");
  if (token_.empty() || !j.is_object() || !j.contains("token"))
    return retryable_error("auth", "Keystone answered 201 without a token");
  auto& t = j["token"];
  expires_ = parse_time(str_or(t, "expires_at"), *clk);
  auto catalog = t.value("catalog", json::array()).dump();
  compute_ = select_endpoint(catalog, {"compute"}, cfg.interface, cfg.region);
  network_ = select_endpoint(catalog, {"network"}, cfg.interface, cfg.region);
  image_ = select_endpoint(catalog, {"image"}, cfg.interface, cfg.region);
  volume_ = select_endpoint(catalog, volume_service_types(), cfg.interface, cfg.region);
  if (compute_.empty() || network_.empty() || image_.empty())
    return permanent_error("catalog", "the service catalog lacks compute, network or image for interface " +
                                          cfg.interface + (cfg.region.empty() ? "" : " in region " + cfg.region));
  // Neutron's catalog URL has no version; every path below is under /v2.0.
  if (network_.size() < 5 || network_.substr(network_.size() - 5) != "/v2.0") network_ += "/v2.0";
  if (image_.size() < 3 || image_.substr(image_.size() - 3) != "/v2") image_ += "/v2";
  return ok();
}

status session::ensure_token() {
  std::lock_guard lock{mutex_};
  if (!token_.empty() && clk->now() + renew_before_ms < expires_) return ok();
  return authenticate_locked();
}

std::string session::volume_endpoint() {
  std::lock_guard lock{mutex_};
  return volume_;
}

result<reply> session::call(const std::string& method, svc s, const std::string& path, const json& body) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (auto st = ensure_token(); !st) return st.error();
    http::request req;
    {
      std::lock_guard lock{mutex_};
      req.url = (s == svc::compute   ? compute_
                 : s == svc::network ? network_
                 : s == svc::image   ? image_
                                     : volume_) +
                path;
      req.headers = {{"X-Auth-Token", token_}, {"Accept", "application/json"}};
    }
    req.method = method;
    if (s == svc::compute) req.headers.emplace_back("OpenStack-API-Version", nova_version);
    // Cinder's header names the service "volume", not "block-storage".
    if (s == svc::volume) req.headers.emplace_back("OpenStack-API-Version", "volume 3.60");
    if (!body.is_null()) {
      req.headers.emplace_back("Content-Type", "application/json");
      req.body = body.dump();
    }
    auto r = http->send(req);
    if (!r) return r.error();
    if (r->status == 401 && attempt == 0) {
      std::lock_guard lock{mutex_};
      token_.clear();
      continue;
    }
    return providers::detail::to_json_reply(std::move(*r));
  }
  return permanent_error("auth", "the cloud rejected a fresh token");
}

result<std::shared_ptr<session>> make_session(const std::string& connection, std::shared_ptr<clock> clk) {
  return providers::detail::make_rest_session<session>(parse_settings(connection), std::move(clk));
}

result<json> expect(result<reply> r, std::initializer_list<int> ok_codes, const std::string& what) {
  if (!r) return r.error();
  for (int c : ok_codes)
    if (r->status == c) return r->body.is_discarded() ? json::object() : r->body;
  return classify(r->status, r->raw, r->retry_after, what);
}

}  // namespace provisiond::providers::openstack::detail
