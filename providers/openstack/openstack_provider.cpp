#include "providers/openstack/openstack_provider.hpp"
#include "common/json.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <map>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/base64.hpp"
#include "common/failpoint.hpp"
#include "providers/detail/session_cache.hpp"
#include "providers/detail/json_reply.hpp"
#include "providers/http/http_client.hpp"

namespace provisiond::providers::openstack {

using nlohmann::json;
using events::step_kind;
using steady = std::chrono::steady_clock;

namespace {

constexpr const char* nova_version = "compute 2.67";  // tags at create (2.52), BDM volume_type (2.67)

std::string str_or(const json& j, const char* k, std::string fallback = {}) {
  return j.contains(k) && j.at(k).is_string() ? j.at(k).get<std::string>() : fallback;
}

// The message inside any of OpenStack's error shapes (A.2).
std::string cloud_message(const std::string& body) {
  auto j = parse_json_lenient(body);
  if (!j.is_object() || j.empty()) return body.substr(0, 300);
  if (j.contains("NeutronError") && j["NeutronError"].is_object()) {
    auto& e = j["NeutronError"];
    return str_or(e, "type") + ": " + str_or(e, "message");
  }
  for (auto& [k, v] : j.items())
    if (v.is_object() && v.contains("message")) return str_or(v, "message");
  return body.substr(0, 300);
}

std::string neutron_type(const std::string& body) {
  auto j = parse_json_lenient(body);
  if (j.is_object() && j.contains("NeutronError") && j["NeutronError"].is_object()) return str_or(j["NeutronError"], "type");
  return {};
}

std::string generate_password() {
  static constexpr char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  unsigned char raw[24];
  if (RAND_bytes(raw, sizeof raw) != 1) throw std::runtime_error("no randomness for a root password");
  std::string pw;
  for (unsigned char c : raw) pw += alphabet[c % (sizeof alphabet - 1)];
  return pw;
}

// "2026-11-25T18:14:19.000000Z" → system_clock time point.
std::chrono::system_clock::time_point parse_time(const std::string& s) {
  std::tm tm{};
  if (std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                  &tm.tm_sec) != 6)
    return std::chrono::system_clock::now() + std::chrono::minutes(10);
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string tag_of(const std::string& request_id) { return "prov-" + request_id; }

// Plain TCP probe: connects and reads the first bytes (an SSH banner).
result<std::string> tcp_banner(const std::string& host, int port, int timeout_ms) {
  addrinfo hints{}, *res = nullptr;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || !res)
    return retryable_error("probe", "cannot resolve " + host);
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
  ::connect(fd, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  pollfd p{fd, POLLIN, 0};
  std::string got;
  if (::poll(&p, 1, timeout_ms) > 0 && (p.revents & POLLIN)) {
    char buf[256];
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) got.assign(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (got.empty()) return retryable_error("probe", "nothing answered on " + host + ":" + std::to_string(port));
  return got;
}

}  // namespace

result<settings> parse_settings(const std::string& connection_json) {
  auto j = parse_json_lenient(connection_json);
  if (!j.is_object()) return make_error(errc::invalid_argument, "expected an object", "connection");
  settings s;
  auto text = [&](const char* k, std::string& out) -> status {
    if (!j.contains(k)) return ok();
    if (!j[k].is_string()) return make_error(errc::invalid_argument, "expected a string", std::string("connection.") + k);
    out = j[k].get<std::string>();
    return ok();
  };
  for (auto [k, out] : std::initializer_list<std::pair<const char*, std::string*>>{
           {"authUrl", &s.auth_url}, {"username", &s.username}, {"password", &s.password},
           {"userDomain", &s.user_domain}, {"projectName", &s.project_name}, {"projectDomain", &s.project_domain},
           {"applicationCredentialId", &s.application_credential_id},
           {"applicationCredentialSecret", &s.application_credential_secret}, {"region", &s.region},
           {"interface", &s.interface}, {"flavor", &s.flavor}, {"image", &s.image}, {"network", &s.network},
           {"externalNetwork", &s.external_network}, {"volumeType", &s.volume_type},
           {"healthCheck", &s.health_check}, {"powerMode", &s.power_mode}, {"caFile", &s.ca_file}})
    if (auto st = text(k, *out); !st) return st.error();
  if (j.contains("volumeSizeGb")) {
    if (!j["volumeSizeGb"].is_number_integer() || j["volumeSizeGb"].get<int>() < 1)
      return make_error(errc::invalid_argument, "expected a positive integer", "connection.volumeSizeGb");
    s.volume_size_gb = j["volumeSizeGb"].get<int>();
  }
  if (j.contains("activeTimeoutSec")) {
    if (!j["activeTimeoutSec"].is_number_integer() || j["activeTimeoutSec"].get<int>() < 1)
      return make_error(errc::invalid_argument, "expected a positive integer", "connection.activeTimeoutSec");
    s.active_timeout_s = j["activeTimeoutSec"].get<int>();
  }
  if (j.contains("insecure")) {
    if (!j["insecure"].is_boolean()) return make_error(errc::invalid_argument, "expected true or false", "connection.insecure");
    s.insecure = j["insecure"].get<bool>();
  }
  while (!s.auth_url.empty() && s.auth_url.back() == '/') s.auth_url.pop_back();
  if (s.auth_url.empty()) return make_error(errc::invalid_argument, "required (Keystone v3 URL)", "connection.authUrl");
  bool app = !s.application_credential_id.empty();
  if (app && s.application_credential_secret.empty())
    return make_error(errc::invalid_argument, "required with applicationCredentialId", "connection.applicationCredentialSecret");
  if (!app && (s.username.empty() || s.password.empty() || s.project_name.empty()))
    return make_error(errc::invalid_argument,
                      "username, password and projectName are required (or applicationCredentialId and -Secret)",
                      s.username.empty() ? "connection.username" : s.password.empty() ? "connection.password"
                                                                                      : "connection.projectName");
  for (auto [k, v] : {std::pair<const char*, std::string*>{"flavor", &s.flavor}, {"image", &s.image}, {"network", &s.network}})
    if (v->empty()) return make_error(errc::invalid_argument, "required", std::string("connection.") + k);
  if (s.health_check != "api" && s.health_check != "probe")
    return make_error(errc::invalid_argument, "expected api or probe", "connection.healthCheck");
  if (s.power_mode != "stop" && s.power_mode != "suspend")
    return make_error(errc::invalid_argument, "expected stop or suspend", "connection.powerMode");
  return s;
}

error classify(int status, const std::string& body, const std::string& retry_after, const std::string& what) {
  auto msg = what + ": HTTP " + std::to_string(status) + ": " + cloud_message(body);
  auto type = neutron_type(body);
  switch (status) {
    case 400: return permanent_error("bad_request", msg);
    case 401: return permanent_error("auth", msg);
    case 403:
      if (msg.find("uota") != std::string::npos) return permanent_error("quota", msg);
      return permanent_error("forbidden", msg);
    case 404: return permanent_error("not_found", msg);
    case 409:
      if (type == "OverQuota") return permanent_error("quota", msg);
      if (type == "IpAddressGenerationFailure") return permanent_error("subnet_full", msg);
      if (type == "SecurityGroupInUse" || msg.find("task_state") != std::string::npos)
        return retryable_error("busy", msg);
      return permanent_error("conflict", msg);
    case 412: return retryable_error("stale", msg);
    case 413:
      // Cinder's quota overrun carries Retry-After: 0 — permanent, never a rate limit.
      if (!retry_after.empty() && retry_after != "0") return retryable_error("rate_limited", msg);
      return permanent_error("quota", msg);
    case 429: return retryable_error("rate_limited", msg);
    default:
      if (status >= 500) return retryable_error("server_error", msg);
      return permanent_error("unexpected", msg);
  }
}

std::string select_endpoint(const std::string& catalog_json, const std::vector<std::string>& types,
                            const std::string& interface, const std::string& region) {
  auto catalog = parse_json_lenient(catalog_json);
  if (!catalog.is_array()) return {};
  for (const auto& type : types)  // in order of preference
    for (auto& svc : catalog) {
      if (str_or(svc, "type") != type || !svc.contains("endpoints")) continue;
      for (auto& ep : svc["endpoints"]) {
        if (str_or(ep, "interface") != interface) continue;
        if (!region.empty() && str_or(ep, "region_id", str_or(ep, "region")) != region) continue;
        auto url = str_or(ep, "url");
        while (!url.empty() && url.back() == '/') url.pop_back();
        return url;
      }
    }
  return {};
}

std::string server_create_body(const settings& cfg, const step_call& call, const server_refs& refs,
                               const std::string& password) {
  std::string hostname = "vps-" + call.request_id;
  // cloud-init names the host; the password goes only in adminPass, never in
  // user data (which the project can read back from the metadata service).
  std::string user_data =
      "#cloud-config\nhostname: " + hostname + "\nfqdn: " + hostname + "\nssh_pwauth: true\npackage_update: true\n";
  json bdm{{"boot_index", 0},           {"uuid", refs.image_id},
           {"source_type", "image"},    {"destination_type", "volume"},
           {"volume_size", cfg.volume_size_gb}, {"delete_on_termination", true}};
  if (!cfg.volume_type.empty()) bdm["volume_type"] = cfg.volume_type;
  json server{{"name", hostname},
              {"flavorRef", refs.flavor_id},
              {"imageRef", ""},
              {"block_device_mapping_v2", json::array({bdm})},
              {"networks", json::array({{{"uuid", refs.network_id}}})},
              {"security_groups", json::array({{{"name", refs.security_group_id}}})},
              {"user_data", base64_encode(user_data)},
              {"adminPass", password},
              {"tags", json::array({tag_of(call.request_id)})},
              // Keys: [a-zA-Z0-9-_:. ] only; values at most 255 characters.
              {"metadata",
               {{"provisiond_request_id", call.request_id.substr(0, 255)},
                {"provisiond_order_id", call.order_id.substr(0, 255)},
                {"provisiond_tenant_id", call.tenant_id.substr(0, 255)}}}};
  return json{{"server", server}}.dump();
}

namespace {

using reply = detail::json_reply;

// One cluster's authenticated session: token, catalog endpoints, HTTP client.
struct session {
  settings cfg;
  std::unique_ptr<http::client> http;
  std::mutex mutex;  // guards the token and endpoints
  std::string token;
  std::chrono::system_clock::time_point expires{};
  std::string compute, network, image, volume;

  status authenticate_locked() {
    json auth;
    if (!cfg.application_credential_id.empty()) {
      // No scope with an application credential: Keystone refuses it (401).
      auth["identity"]["methods"] = json::array({"application_credential"});
      auth["identity"]["application_credential"] = {{"id", cfg.application_credential_id},
                                                    {"secret", cfg.application_credential_secret}};
    } else {
      auth["identity"]["methods"] = json::array({"password"});
      auth["identity"]["password"]["user"] = {
          {"name", cfg.username}, {"domain", {{"name", cfg.user_domain}}}, {"password", cfg.password}};
      auth["scope"]["project"] = {{"name", cfg.project_name}, {"domain", {{"name", cfg.project_domain}}}};
    }
    json body{{"auth", auth}};
    auto r = http->send({"POST", cfg.auth_url + "/auth/tokens", {{"Content-Type", "application/json"}}, body.dump()});
    if (!r) return r.error();
    if (r->status != 201) {
      auto e = classify(r->status, r->body, r->header("retry-after"), "Keystone authentication");
      if (r->status == 401) e.message = "Keystone rejected the credentials of this cluster: " + cloud_message(r->body);
      return e;
    }
    auto j = parse_json_lenient(r->body);
    token = r->header("x-subject-token");
    if (token.empty() || !j.is_object() || !j.contains("token"))
      return retryable_error("auth", "Keystone answered 201 without a token");
    auto& t = j["token"];
    expires = parse_time(str_or(t, "expires_at"));
    auto catalog = t.value("catalog", json::array()).dump();
    compute = select_endpoint(catalog, {"compute"}, cfg.interface, cfg.region);
    network = select_endpoint(catalog, {"network"}, cfg.interface, cfg.region);
    image = select_endpoint(catalog, {"image"}, cfg.interface, cfg.region);
    volume = select_endpoint(catalog, {"block-storage", "volumev3", "volume", "volumev2", "block-store"}, cfg.interface,
                             cfg.region);
    if (compute.empty() || network.empty() || image.empty())
      return permanent_error("catalog", "the service catalog lacks compute, network or image for interface " +
                                            cfg.interface + (cfg.region.empty() ? "" : " in region " + cfg.region));
    // Neutron's catalog URL has no version; every path below is under /v2.0.
    if (network.size() < 5 || network.substr(network.size() - 5) != "/v2.0") network += "/v2.0";
    if (image.size() < 3 || image.substr(image.size() - 3) != "/v2") image += "/v2";
    return ok();
  }

  // Re-authenticates when less than 120 s remain, like keystoneauth.
  status ensure_token() {
    std::lock_guard lock{mutex};
    if (!token.empty() && std::chrono::system_clock::now() + std::chrono::seconds(120) < expires) return ok();
    return authenticate_locked();
  }

  enum class svc { compute, network, image, volume };

  // One call; on a 401 authenticates again and resends once.
  result<reply> call(const std::string& method, svc s, const std::string& path, const json& body = nullptr) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (auto st = ensure_token(); !st) return st.error();
      http::request req;
      {
        std::lock_guard lock{mutex};
        req.url = (s == svc::compute ? compute : s == svc::network ? network : s == svc::image ? image : volume) + path;
        req.headers = {{"X-Auth-Token", token}, {"Accept", "application/json"}};
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
        std::lock_guard lock{mutex};
        token.clear();
        continue;
      }
      return detail::to_json_reply(std::move(*r));
    }
    return permanent_error("auth", "the cloud rejected a fresh token");
  }
};

// A reply with an expected status, or the classified error.
result<json> expect(result<reply> r, std::initializer_list<int> ok_codes, const std::string& what) {
  if (!r) return r.error();
  for (int c : ok_codes)
    if (r->status == c) return r->body.is_discarded() ? json::object() : r->body;
  return classify(r->status, r->raw, r->retry_after, what);
}

class openstack_provider final : public provider {
 public:
  openstack_provider(std::function<result<std::string>(const std::string&)> connection_of,
                     std::shared_ptr<events::secret_store> secrets)
      : sessions_(std::move(connection_of), [](const std::string& c) { return make_session(c); }),
        secrets_(std::move(secrets)) {}

  std::string kind() const override { return "openstack"; }

  result<step_outcome> execute(const step_call& call) override {
    auto s = session_for(call.cluster_id);
    if (!s) return s.error();
    if (auto st = begin(**s); !st) return st.error();
    switch (call.step) {
      case step_kind::allocate: return created(allocate(**s, call, true));
      case step_kind::configure: {
        auto r = created(configure(**s, call, true));
        // A server that failed its build loses its port under our feet: the
        // real cause is Nova's fault, not Neutron's 404 on the port.
        if (!r)
          if (auto id = server_id_of(**s, call); !id.empty())
            if (auto fault = server_fault(**s, id); !fault && fault.error().field == "server_error") return fault.error();
        return r;
      }
      case step_kind::activate: return activate(**s, call);
      case step_kind::verify: return verify(**s, call);
    }
    return permanent_error("bug", "unknown step");
  }

  result<std::optional<step_outcome>> lookup(const step_call& call) override {
    auto s = session_for(call.cluster_id);
    if (!s) return s.error();
    switch (call.step) {
      case step_kind::allocate: return allocate(**s, call, false);
      case step_kind::configure: return configure(**s, call, false);
      default: return std::optional<step_outcome>{};  // polling and checks create nothing
    }
  }

  result<std::vector<std::string>> release(const release_call& call) override {
    auto s = session_for(call.cluster_id);
    if (!s) return s.error();
    if (call.step == step_kind::configure) return release_floating_ips(**s, call);
    if (call.step == step_kind::allocate) return release_server(**s, call);
    std::vector<std::string> ids;
    for (auto& r : call.known) ids.push_back(r.id);
    return ids;
  }

  status set_power(const std::string& request_id, const std::string& cluster_id, bool on) override {
    auto s = session_for(cluster_id);
    if (!s) return s.error();
    auto servers = find_servers(**s, request_id);
    if (!servers) return servers.error();
    if (servers->empty()) return permanent_error("not_found", "no server tagged " + tag_of(request_id));
    auto id = str_or((*servers)[0], "id");
    bool suspend = (*s)->cfg.power_mode == "suspend";
    std::string action = on ? (suspend ? "resume" : "os-start") : (suspend ? "suspend" : "os-stop");
    std::string target = on ? "ACTIVE" : (suspend ? "SUSPENDED" : "SHUTOFF");
    auto cur = server_status(**s, id);
    if (!cur) return cur.error();
    if (*cur != target) {
      auto r = (*s)->call("POST", session::svc::compute, "/servers/" + id + "/action", json{{action, nullptr}});
      if (!r) return r.error();
      // 409 "... while it is in vm_state stopped": already there.
      if (r->status != 202 && !(r->status == 409 && r->raw.find("vm_state") != std::string::npos))
        return classify(r->status, r->raw, r->retry_after, "Nova " + action);
    }
    return wait_status(**s, id, target, 120);
  }

  // Nova's server diagnostics (2.48: the standard format). Admin-only under
  // Nova's default policy: a 403 says so in the cloud's words.
  result<std::string> metrics(const std::string& request_id, const std::string& cluster_id) override {
    auto s = session_for(cluster_id);
    if (!s) return s.error();
    auto servers = find_servers(**s, request_id);
    if (!servers) return servers.error();
    if (servers->empty()) return make_error(errc::not_found, "no server tagged " + tag_of(request_id));
    auto id = str_or((*servers)[0], "id");
    auto d = expect((*s)->call("GET", session::svc::compute, "/servers/" + id + "/diagnostics"), {200},
                    "Nova server diagnostics");
    if (!d) return d.error();
    json out{{"serverId", id}, {"source", "nova diagnostics"}, {"diagnostics", *d}};
    return out.dump();
  }

  status check(const cluster_config& cluster) override {
    auto s = make_session(cluster.connection);
    if (!s) return s.error();
    auto flavors = expect((*s)->call("GET", session::svc::compute, "/flavors"), {200}, "Nova flavors");
    if (!flavors) return flavors.error();
    return ok();
  }

 private:
  // Authenticates before the step's first call: refused credentials become
  // "unauthenticated", which tells the engine that nothing was sent.
  static status begin(session& s) {
    auto st = s.ensure_token();
    if (!st && st.error().field == "auth") return permanent_error("unauthenticated", st.error().message);
    return st;
  }

  static result<step_outcome> created(result<std::optional<step_outcome>> r) {
    if (!r) return r.error();
    if (!*r) return permanent_error("bug", "a create step produced nothing");
    return std::move(**r);
  }

  // --- sessions ------------------------------------------------------------
  static result<std::shared_ptr<session>> make_session(const std::string& connection) {
    auto cfg = parse_settings(connection);
    if (!cfg) return permanent_error("config", cfg.error().field + ": " + cfg.error().message);
    auto s = std::make_shared<session>();
    s->cfg = *cfg;
    http::client_options o;
    o.ca_file = cfg->ca_file;
    o.verify_peer = !cfg->insecure;
    s->http = std::make_unique<http::client>(o);
    return s;
  }

  result<std::shared_ptr<session>> session_for(const std::string& cluster_id) { return sessions_.get(cluster_id); }

  // --- lookups -------------------------------------------------------------
  result<json> find_servers(session& s, const std::string& request_id) {
    auto j = expect(s.call("GET", session::svc::compute, "/servers/detail?tags=" + tag_of(request_id)), {200},
                    "Nova list servers");
    if (!j) return j.error();
    return j->value("servers", json::array());
  }

  result<std::string> server_status(session& s, const std::string& id) {
    auto j = expect(s.call("GET", session::svc::compute, "/servers/" + id), {200}, "Nova get server");
    if (!j) return j.error();
    return str_or((*j)["server"], "status");
  }

  // An error when the server went to ERROR (with Nova's fault), else ok.
  status server_fault(session& s, const std::string& id) {
    auto j = expect(s.call("GET", session::svc::compute, "/servers/" + id), {200}, "Nova get server");
    if (!j) return j.error();
    auto& srv = (*j)["server"];
    if (str_or(srv, "status") != "ERROR") return ok();
    auto fault = srv.contains("fault") ? str_or(srv["fault"], "message") : std::string("no fault message");
    return permanent_error("server_error", "server " + id + " went to ERROR: " + fault);
  }

  status wait_status(session& s, const std::string& id, const std::string& target, int seconds) {
    auto deadline = steady::now() + std::chrono::seconds(seconds);
    for (;;) {
      auto j = expect(s.call("GET", session::svc::compute, "/servers/" + id), {200}, "Nova get server");
      if (!j) return j.error();
      auto& srv = (*j)["server"];
      auto st = str_or(srv, "status");
      if (st == target) return ok();
      if (st == "ERROR") {
        auto fault = srv.contains("fault") ? str_or(srv["fault"], "message") : std::string("no fault message");
        return permanent_error("server_error", "server " + id + " went to ERROR: " + fault);
      }
      if (steady::now() > deadline)
        return permanent_error("timeout", "server " + id + " still " + st + " after " + std::to_string(seconds) +
                                              " s (waiting for " + target + ")");
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }

  result<std::string> id_by_name(session& s, session::svc svc, const std::string& path, const char* list,
                                 const std::string& name, const std::string& what) {
    auto j = expect(s.call("GET", svc, path), {200}, what);
    if (!j) return j.error();
    for (auto& x : j->value(list, json::array()))
      if (str_or(x, "name") == name) return str_or(x, "id");
    return permanent_error("not_found", what + ": no " + name);
  }

  // --- allocate: security group and server --------------------------------
  result<std::string> security_group(session& s, const std::string& request_id, bool create) {
    auto name = tag_of(request_id);
    auto found = expect(s.call("GET", session::svc::network, "/security-groups?name=" + name), {200},
                        "Neutron list security groups");
    if (!found) return found.error();
    auto groups = found->value("security_groups", json::array());
    std::string id;
    if (!groups.empty()) id = str_or(groups[0], "id");
    if (id.empty()) {
      if (!create) return std::string{};
      auto made = expect(s.call("POST", session::svc::network, "/security-groups",
                                json{{"security_group", {{"name", name}, {"description", "provisiond " + request_id}}}}),
                         {201}, "Neutron create security group");
      if (!made) return made.error();
      id = str_or((*made)["security_group"], "id");
    }
    if (!create) return id;
    for (int port : {22, 80, 443}) {
      auto r = s.call("POST", session::svc::network, "/security-group-rules",
                      json{{"security_group_rule",
                            {{"security_group_id", id}, {"direction", "ingress"}, {"ethertype", "IPv4"},
                             {"protocol", "tcp"}, {"port_range_min", port}, {"port_range_max", port},
                             {"remote_ip_prefix", "0.0.0.0/0"}}}});
      if (!r) return r.error();
      if (r->status != 201 && !(r->status == 409 && neutron_type(r->raw) == "SecurityGroupRuleExists"))
        return classify(r->status, r->raw, r->retry_after, "Neutron create security group rule");
    }
    return id;
  }

  step_outcome server_outcome(const json& srv, const std::string& sg) {
    step_outcome out;
    auto id = str_or(srv, "id");
    out.resources.push_back({id, "server", step_kind::allocate, {{"name", str_or(srv, "name")}}});
    if (!sg.empty()) out.resources.push_back({sg, "security_group", step_kind::allocate, {}});
    out.outputs["serverId"] = id;
    out.outputs["hostname"] = str_or(srv, "name");
    if (!sg.empty()) out.outputs["securityGroupId"] = sg;
    return out;
  }

  result<std::optional<step_outcome>> allocate(session& s, const step_call& call, bool create) {
    auto sg = security_group(s, call.request_id, create);
    if (!sg) return sg.error();
    auto servers = find_servers(s, call.request_id);
    if (!servers) return servers.error();
    if (servers->size() > 1)
      return permanent_error("duplicate", std::to_string(servers->size()) + " servers carry tag " + tag_of(call.request_id));
    if (servers->size() == 1) return std::optional<step_outcome>{server_outcome((*servers)[0], *sg)};
    // No server yet: running the step is safe (it adopts the group by name).
    if (!create) return std::optional<step_outcome>{};
    auto flavor = id_by_name(s, session::svc::compute, "/flavors/detail", "flavors", s.cfg.flavor, "Nova flavor");
    if (!flavor) return flavor.error();
    auto images = expect(s.call("GET", session::svc::image, "/images?status=active&name=" + s.cfg.image), {200},
                         "Glance list images");
    if (!images) return images.error();
    auto img = images->value("images", json::array());
    if (img.empty()) return permanent_error("not_found", "Glance image: no active image named " + s.cfg.image);
    auto net = expect(s.call("GET", session::svc::network, "/networks?name=" + s.cfg.network), {200},
                      "Neutron list networks");
    if (!net) return net.error();
    auto nets = net->value("networks", json::array());
    if (nets.empty()) return permanent_error("not_found", "Neutron network: no network named " + s.cfg.network);

    // The root password: generated once per request and sealed before the
    // server exists, so a retried create sets the same one.
    auto name = events::request_secret_name(call.request_id);
    auto stored = secrets_->get(name);
    if (!stored) return stored.error();
    std::string password;
    if (*stored) {
      password = parse_json_lenient(**stored).value("value", "");
    } else {
      password = generate_password();
      if (auto st = secrets_->put(name, json{{"kind", "password"}, {"value", password}}.dump()); !st) return st.error();
    }
    std::string hostname = "vps-" + call.request_id;
    auto server = parse_json_lenient(server_create_body(s.cfg, call, {*flavor, str_or(img[0], "id"), str_or(nets[0], "id"), *sg},
                                                 password));
    auto made = s.call("POST", session::svc::compute, "/servers", server);
    failpoint("openstack-after-server-create");  // tests: die right after the create was sent
    if (!made) return made.error();  // ambiguous: the next attempt looks the server up by tag first
    if (made->status != 202) return classify(made->status, made->raw, made->retry_after, "Nova create server");
    auto srv = made->body.value("server", json::object());
    srv["name"] = hostname;
    return std::optional<step_outcome>{server_outcome(srv, *sg)};
  }

  // --- configure: floating IP ---------------------------------------------
  // The server's port with an address; waits up to `wait_s` for Nova to make it.
  result<json> server_port(session& s, const std::string& server_id, int wait_s = 60) {
    auto deadline = steady::now() + std::chrono::seconds(wait_s);
    for (;;) {
      auto j = expect(s.call("GET", session::svc::network, "/ports?device_id=" + server_id), {200}, "Neutron list ports");
      if (!j) return j.error();
      for (auto& p : j->value("ports", json::array()))
        if (!p.value("fixed_ips", json::array()).empty()) return p;
      // A build that failed never gets a port: say why instead of waiting.
      if (auto failed = server_fault(s, server_id); !failed && failed.error().field == "server_error") return failed.error();
      if (steady::now() > deadline)
        return retryable_error("no_port", "server " + server_id + " has no port with an address yet");
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }

  std::string server_id_of(session& s, const step_call& call) {
    if (auto it = call.inputs.find("serverId"); it != call.inputs.end()) return it->second;
    auto servers = find_servers(s, call.request_id);
    return servers && !servers->empty() ? str_or((*servers)[0], "id") : std::string{};
  }

  result<std::optional<step_outcome>> configure(session& s, const step_call& call, bool create) {
    auto server_id = server_id_of(s, call);
    if (server_id.empty()) return permanent_error("not_found", "no server tagged " + tag_of(call.request_id));
    auto port = server_port(s, server_id, create ? 60 : 0);  // a lookup does not wait
    if (!port) return create ? result<std::optional<step_outcome>>{port.error()} : std::optional<step_outcome>{};
    auto port_id = str_or(*port, "id");
    auto fixed = str_or(port->value("fixed_ips", json::array())[0], "ip_address");
    auto found = expect(s.call("GET", session::svc::network, "/floatingips?port_id=" + port_id), {200},
                        "Neutron list floating IPs");
    if (!found) return found.error();
    auto fips = found->value("floatingips", json::array());
    json fip;
    if (!fips.empty()) {
      fip = fips[0];
    } else {
      if (!create) return std::optional<step_outcome>{};
      std::string ext;
      if (s.cfg.external_network.empty()) {
        auto nets = expect(s.call("GET", session::svc::network, "/networks?router:external=true"), {200},
                           "Neutron list external networks");
        if (!nets) return nets.error();
        auto list = nets->value("networks", json::array());
        if (list.empty()) return permanent_error("not_found", "Neutron: no external network for floating IPs");
        ext = str_or(list[0], "id");
      } else {
        auto id = id_by_name(s, session::svc::network, "/networks?name=" + s.cfg.external_network, "networks",
                             s.cfg.external_network, "Neutron external network");
        if (!id) return id.error();
        ext = *id;
      }
      // Created on the port in one call: it either exists on the port (and is
      // found by port next time) or not at all.
      auto made = expect(s.call("POST", session::svc::network, "/floatingips",
                                json{{"floatingip", {{"floating_network_id", ext}, {"port_id", port_id},
                                                     {"description", tag_of(call.request_id)}}}}),
                         {201}, "Neutron create floating IP");
      if (!made) return made.error();
      fip = (*made)["floatingip"];
    }
    step_outcome out;
    auto address = str_or(fip, "floating_ip_address");
    out.resources.push_back({str_or(fip, "id"), "floating_ip", step_kind::configure, {{"address", address}}});
    out.outputs["floatingIp"] = address;
    out.outputs["ipv4"] = address;
    out.outputs["fixedIp"] = fixed;
    out.outputs["portId"] = port_id;
    out.outputs["firewall"] = "tcp/22,80,443 from 0.0.0.0/0";
    return std::optional<step_outcome>{out};
  }

  // --- activate and verify --------------------------------------------------
  result<step_outcome> activate(session& s, const step_call& call) {
    auto id = server_id_of(s, call);
    if (id.empty()) return permanent_error("not_found", "no server tagged " + tag_of(call.request_id));
    if (auto st = wait_status(s, id, "ACTIVE", s.cfg.active_timeout_s); !st) return st.error();
    step_outcome out;
    out.outputs["status"] = "ACTIVE";
    // The boot volume Nova made belongs to the server's step: released with it.
    auto j = expect(s.call("GET", session::svc::compute, "/servers/" + id), {200}, "Nova get server");
    if (j)
      for (auto& v : (*j)["server"].value("os-extended-volumes:volumes_attached", json::array()))
        out.resources.push_back({str_or(v, "id"), "volume", step_kind::allocate, {{"server", id}}});
    return out;
  }

  result<step_outcome> verify(session& s, const step_call& call) {
    auto id = server_id_of(s, call);
    auto ip = call.inputs.count("floatingIp") ? call.inputs.at("floatingIp") : std::string{};
    if (id.empty() || ip.empty()) return permanent_error("not_found", "nothing to verify: no server or floating IP");
    step_outcome out;
    if (s.cfg.health_check == "probe") {
      auto banner = tcp_banner(ip, 22, 5000);
      if (!banner || banner->rfind("SSH-", 0) != 0)
        return retryable_error("probe", "no SSH banner on " + ip + ":22");
      auto web = s.http->send({"GET", "http://" + ip + "/", {}, ""});
      if (!web) return web.error();
      out.outputs["check"] = "ssh banner, http " + std::to_string(web->status);
    } else {
      auto st = server_status(s, id);
      if (!st) return st.error();
      if (*st != "ACTIVE") return retryable_error("not_active", "server " + id + " is " + *st);
      auto port = server_port(s, id);
      if (!port) return port.error();
      auto binding = str_or(*port, "binding:vif_type");
      if (binding == "unbound" || binding == "binding_failed")
        return retryable_error("port_unbound", "port " + str_or(*port, "id") + " is " + binding);
      auto fips = expect(s.call("GET", session::svc::network, "/floatingips?port_id=" + str_or(*port, "id")), {200},
                         "Neutron list floating IPs");
      if (!fips) return fips.error();
      if (fips->value("floatingips", json::array()).empty())
        return permanent_error("no_floating_ip", "the floating IP is not on the server's port");
      out.outputs["check"] = "api: server ACTIVE, port bound, floating IP on the port";
    }
    out.outputs["ssh"] = "ssh://root@" + ip + ":22";
    out.outputs["http"] = "http://" + ip + "/";
    out.outputs["https"] = "https://" + ip + "/";
    return out;
  }

  // --- releases --------------------------------------------------------------
  // DELETE that counts 404 as done.
  status remove(session& s, session::svc svc, const std::string& path, const std::string& what) {
    auto r = s.call("DELETE", svc, path);
    if (!r) return r.error();
    if (r->status == 204 || r->status == 202 || r->status == 404) return ok();
    return classify(r->status, r->raw, r->retry_after, what);
  }

  result<std::vector<std::string>> release_floating_ips(session& s, const release_call& call) {
    std::vector<std::string> ids;
    for (auto& r : call.known)
      if (r.kind == "floating_ip") ids.push_back(r.id);
    // Also whatever carries this request's mark (an interrupted create).
    auto tagged = expect(s.call("GET", session::svc::network, "/floatingips?description=" + tag_of(call.request_id)),
                         {200}, "Neutron list floating IPs");
    if (!tagged) return tagged.error();
    for (auto& f : tagged->value("floatingips", json::array()))
      if (str_or(f, "description") == tag_of(call.request_id) &&
          std::find(ids.begin(), ids.end(), str_or(f, "id")) == ids.end())
        ids.push_back(str_or(f, "id"));
    for (auto& id : ids)
      if (auto st = remove(s, session::svc::network, "/floatingips/" + id, "Neutron delete floating IP"); !st)
        return st.error();
    return ids;
  }

  result<std::vector<std::string>> release_server(session& s, const release_call& call) {
    std::vector<std::string> servers, volumes, groups, released;
    for (auto& r : call.known) {
      if (r.kind == "server") servers.push_back(r.id);
      if (r.kind == "volume") volumes.push_back(r.id);
      if (r.kind == "security_group") groups.push_back(r.id);
    }
    auto tagged = find_servers(s, call.request_id);
    if (!tagged) return tagged.error();
    for (auto& srv : *tagged) {
      auto id = str_or(srv, "id");
      if (std::find(servers.begin(), servers.end(), id) == servers.end()) servers.push_back(id);
      for (auto& v : srv.value("os-extended-volumes:volumes_attached", json::array()))
        if (std::find(volumes.begin(), volumes.end(), str_or(v, "id")) == volumes.end()) volumes.push_back(str_or(v, "id"));
    }
    auto sg = security_group(s, call.request_id, false);
    if (!sg) return sg.error();
    if (!sg->empty() && std::find(groups.begin(), groups.end(), *sg) == groups.end()) groups.push_back(*sg);

    for (auto& id : servers) {
      if (auto st = remove(s, session::svc::compute, "/servers/" + id, "Nova delete server"); !st) return st.error();
      auto deadline = steady::now() + std::chrono::seconds(120);
      for (;;) {  // deleted means 404
        auto r = s.call("GET", session::svc::compute, "/servers/" + id);
        if (!r) return r.error();
        if (r->status == 404 || (r->status == 200 && str_or(r->body["server"], "status") == "DELETED")) break;
        if (steady::now() > deadline) return retryable_error("busy", "server " + id + " is not gone yet");
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
      }
      released.push_back(id);
    }
    for (auto& id : volumes) {
      // delete_on_termination normally takes it with the server; make sure.
      auto deadline = steady::now() + std::chrono::seconds(60);
      for (;;) {
        if (s.volume.empty()) break;  // no block-storage service: Nova alone owns the volume
        auto r = s.call("GET", session::svc::volume, "/volumes/" + id);
        if (!r) return r.error();
        if (r->status == 404) break;
        auto st = r->body.is_object() ? str_or(r->body.value("volume", json::object()), "status") : std::string{};
        if (st == "available" || st == "error") {
          auto d = s.call("DELETE", session::svc::volume, "/volumes/" + id);
          if (!d) return d.error();
          if (d->status != 202 && d->status != 404 && !(d->status == 400 && st == "deleting"))
            return classify(d->status, d->raw, d->retry_after, "Cinder delete volume");
        }
        if (steady::now() > deadline) return retryable_error("busy", "volume " + id + " is not gone yet (" + st + ")");
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
      }
      released.push_back(id);
    }
    for (auto& id : groups) {
      auto deadline = steady::now() + std::chrono::seconds(30);
      for (;;) {  // SecurityGroupInUse clears once the server's ports are gone
        auto st = remove(s, session::svc::network, "/security-groups/" + id, "Neutron delete security group");
        if (st) break;
        if (st.error().code != errc::retryable || steady::now() > deadline) return st.error();
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
      }
      released.push_back(id);
    }
    (void)secrets_->erase(events::request_secret_name(call.request_id));  // the server it opened is gone
    return released;
  }

  detail::session_cache<session> sessions_;
  std::shared_ptr<events::secret_store> secrets_;
};

}  // namespace

std::shared_ptr<provider> make_openstack_provider(std::function<result<std::string>(const std::string&)> connection_of,
                                                  std::shared_ptr<events::secret_store> secrets) {
  return std::make_shared<openstack_provider>(std::move(connection_of), std::move(secrets));
}

}  // namespace provisiond::providers::openstack
