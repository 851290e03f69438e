#include "app/config.hpp"
#include "common/detail/json_reader.hpp"

#include <regex>
#include "common/json.hpp"
#include "common/ids.hpp"
#include "common/names.hpp"
#include "gateway/cluster_body.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

namespace provisiond {

using nlohmann::json;
using detail::reader;

config default_config() {
  config c;
  for (auto [id, name, region] : {std::array<const char*, 3>{"sim-eu-west-1", "Simulation EU West 1", "eu-west-1"},
                                  std::array<const char*, 3>{"sim-us-east-1", "Simulation US East 1", "us-east-1"}}) {
    cluster_config cc;
    cc.id = id;
    cc.name = name;
    cc.type = "simulation";
    cc.region = region;
    cc.is_default = true;
    c.clusters.push_back(std::move(cc));
  }
  return c;
}

namespace {

void parse_faults(const json& j, const std::string& path, step_faults& out, std::optional<error>& err) {
  reader r{j, path};
  if (!r.check_object(err, {"retryable", "permanent", "responseLost"})) return;
  r.number("retryable", out.retryable, err, 0, 1);
  r.number("permanent", out.permanent, err, 0, 1);
  r.number("responseLost", out.response_lost, err, 0, 1);
}

void parse_steps(const json& j, const std::string& path, std::array<step_faults, 4>& out, std::optional<error>& err) {
  static const char* names[] = {"allocate", "configure", "activate", "verify"};
  reader st{j, path};
  if (!st.check_object(err, {"allocate", "configure", "activate", "verify"})) return;
  for (int i = 0; i < 4 && !err; ++i)
    if (j.contains(names[i])) parse_faults(j[names[i]], path + "." + names[i], out[i], err);
}

// "http://host[:port][/...]": plain HTTP only (the sim-cloud serves no TLS).
bool is_http_url(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0 || url.size() == scheme.size()) return false;
  if (url[scheme.size()] == '/' || url[scheme.size()] == ':') return false;  // no host
  return std::none_of(url.begin(), url.end(), [](unsigned char ch) { return ch <= ' ' || ch >= 0x7f; });
}

// An array of at most 256 strings of 1-253 characters each.
std::vector<std::string> string_list(const json& v, const std::string& path, std::optional<error>& err) {
  std::vector<std::string> out;
  if (!v.is_array() || v.size() > 256) {
    err = make_error(errc::invalid_argument, "expected an array of strings", path);
    return out;
  }
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string() || v[i].get<std::string>().empty() || v[i].get<std::string>().size() > 253) {
      err = make_error(errc::invalid_argument, "expected a non-empty string", path + "[" + std::to_string(i) + "]");
      return out;
    }
    out.push_back(v[i].get<std::string>());
  }
  return out;
}

void parse_webhooks(const json& j, config::webhook_settings& w, std::optional<error>& err) {
  reader r{j, "webhooks"};
  if (!r.check_object(err, {"allow", "hosts", "retryDelaysMs", "deactivateAfter", "threads", "perEndpoint",
                            "timeoutMs", "rotationOverlapSeconds"}))
    return;
  if (j.contains("allow")) w.allow = string_list(j["allow"], "webhooks.allow", err);
  if (!err && j.contains("hosts")) {
    if (!j["hosts"].is_object()) {
      err = make_error(errc::invalid_argument, "expected an object of host name -> [addresses]", "webhooks.hosts");
      return;
    }
    for (auto& [name, v] : j["hosts"].items()) {
      w.hosts[name] = string_list(v, "webhooks.hosts." + name, err);
      if (err) return;
    }
  }
  if (!err && j.contains("retryDelaysMs")) {
    const auto& d = j["retryDelaysMs"];
    if (!d.is_array() || d.size() > 20) {
      err = make_error(errc::invalid_argument, "expected an array of at most 20 delays in ms", "webhooks.retryDelaysMs");
      return;
    }
    w.retry_delays_ms.clear();
    for (std::size_t i = 0; i < d.size(); ++i) {
      if (!d[i].is_number_integer() || d[i].get<long long>() < 0 || d[i].get<long long>() > 86'400'000) {
        err = make_error(errc::invalid_argument, "expected a delay in ms from 0 to 86400000",
                         "webhooks.retryDelaysMs[" + std::to_string(i) + "]");
        return;
      }
      w.retry_delays_ms.push_back(d[i].get<long long>());
    }
  }
  r.number("deactivateAfter", w.deactivate_after, err, 1, 1000);
  r.number("threads", w.threads, err, 1, 256);
  r.number("perEndpoint", w.per_endpoint, err, 1, 64);
  r.number("timeoutMs", w.timeout_ms, err, 100, 60'000);
  time_ms overlap_s = w.rotation_overlap_ms / 1000;
  r.number("rotationOverlapSeconds", overlap_s, err, 0, 604'800);
  w.rotation_overlap_ms = overlap_s * 1000;
}

}  // namespace

result<std::pair<std::string, std::uint16_t>> parse_host_port(const std::string& s,
                                                             const std::string& field) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size())
    return make_error(errc::invalid_argument, "expected HOST:PORT, e.g. 127.0.0.1:8080", field);
  auto port_text = s.substr(colon + 1);
  if (port_text.find_first_not_of("0123456789") != std::string::npos || port_text.size() > 5)
    return make_error(errc::invalid_argument, "expected a port number 0-65535", field);
  auto port = std::stoul(port_text);
  if (port > 65535) return make_error(errc::invalid_argument, "expected a port number 0-65535", field);
  return std::pair{s.substr(0, colon), static_cast<std::uint16_t>(port)};
}

static void parse_auth(const json& j, auth::settings& a, std::optional<error>& err) {
  reader r{j, "auth"};
  if (!r.check_object(err, {"adminKeyFile", "bootstrapAdminKey", "publicMetrics", "jwt", "clientCertificates"})) return;
  r.string("adminKeyFile", a.admin_key_file, err);
  r.boolean("bootstrapAdminKey", a.bootstrap_admin_key, err);
  r.boolean("publicMetrics", a.public_metrics, err);
  if (!err && j.contains("jwt")) {
    reader jr{j["jwt"], "auth.jwt"};
    auth::jwt_settings s;
    if (!jr.check_object(err, {"issuer", "audience", "jwksFile", "jwksUrl", "jwksCaFile", "clockSkewSeconds",
                               "jwksRefreshSeconds", "tenantClaim", "rolesClaim", "roleMap"}))
      return;
    jr.string("issuer", s.issuer, err);
    jr.string("audience", s.audience, err);
    jr.string("jwksFile", s.jwks_file, err);
    jr.string("jwksUrl", s.jwks_url, err);
    jr.string("jwksCaFile", s.jwks_ca_file, err);
    jr.number("clockSkewSeconds", s.clock_skew_s, err, 0, 300);
    jr.number("jwksRefreshSeconds", s.jwks_refresh_s, err, 10, 86400);
    jr.string("tenantClaim", s.tenant_claim, err);
    jr.string("rolesClaim", s.roles_claim, err);
    if (err) return;
    if (s.issuer.empty()) err = make_error(errc::invalid_argument, "required", "auth.jwt.issuer");
    else if (s.audience.empty()) err = make_error(errc::invalid_argument, "required", "auth.jwt.audience");
    else if (s.jwks_file.empty() == s.jwks_url.empty())
      err = make_error(errc::invalid_argument, "expected exactly one of jwksFile and jwksUrl", "auth.jwt");
    else if (!s.jwks_url.empty() && !s.jwks_url.starts_with("https://") &&
             !std::regex_match(s.jwks_url, std::regex(R"(http://(127\.[0-9.]+|localhost|\[::1\])(:[0-9]+)?/.*)")))
      err = make_error(errc::invalid_argument, "expected an https URL (http only on loopback)", "auth.jwt.jwksUrl");
    if (err) return;
    if (j["jwt"].contains("roleMap")) {
      const auto& m = j["jwt"]["roleMap"];
      if (!m.is_object()) {
        err = make_error(errc::invalid_argument, "expected an object of claim value -> role", "auth.jwt.roleMap");
        return;
      }
      for (auto& [k, v] : m.items()) {
        if (!v.is_string() || !auth::parse_role(v.get<std::string>())) {
          err = make_error(errc::invalid_argument, "expected one of tenant, tenant-readonly, saga, admin",
                           "auth.jwt.roleMap." + k);
          return;
        }
        s.role_map[k] = v.get<std::string>();
      }
    }
    a.jwt = std::move(s);
  }
  if (!err && j.contains("clientCertificates")) {
    const auto& m = j["clientCertificates"];
    if (!m.is_object()) {
      err = make_error(errc::invalid_argument, "expected an object of certificate subject -> {role, tenantId}",
                       "auth.clientCertificates");
      return;
    }
    for (auto& [subject, v] : m.items()) {
      std::string field = "auth.clientCertificates." + subject;
      reader cr{v, field};
      std::string role_name, tenant;
      if (!cr.check_object(err, {"role", "tenantId"})) return;
      cr.string("role", role_name, err);
      cr.string("tenantId", tenant, err);
      if (err) return;
      auto role = auth::parse_role(role_name);
      if (!role) {
        err = make_error(errc::invalid_argument, "expected one of tenant, tenant-readonly, saga, admin", field + ".role");
        return;
      }
      bool tenant_role = *role == auth::role::tenant || *role == auth::role::tenant_readonly;
      if (tenant_role != !tenant.empty()) {
        err = make_error(errc::invalid_argument, "tenantId goes with the tenant roles, and only with them",
                         field + ".tenantId");
        return;
      }
      a.client_certificates[subject] = auth::certificate_identity{*role, tenant};
    }
  }
}

result<config> parse_config(const std::string& text, config c) {
  auto parsed = parse_json(text, "configuration");
  if (!parsed) return parsed.error();
  json j = std::move(*parsed);
  std::optional<error> err;
  reader r{j, ""};
  if (!r.check_object(err, {"dataDir", "listen", "durability", "retry", "simulation", "clusters",
                            "providerThreads", "httpThreads", "stuckAfterMs", "shutdownGraceMs", "kafka", "maxInFlightPerTenant",
                            "providerGate", "secretKeyFile", "http", "instanceId", "advertise", "redis", "webhooks", "log", "auth",
                            "audit"}))
    return *err;
  if (!err && j.contains("log")) {
    reader lr{j["log"], "log"};
    std::string f;
    if (lr.check_object(err, {"format"})) lr.string("format", f, err);
    if (!err && j["log"].contains("format")) {
      if (auto parsed = log::parse_format(f, "log.format")) c.log_format = *parsed;
      else err = parsed.error();
    }
  }
  if (!err && j.contains("webhooks")) parse_webhooks(j["webhooks"], c.webhooks, err);
  if (!err && j.contains("audit")) {
    reader ar{j["audit"], "audit"};
    if (ar.check_object(err, {"checkpointEvery", "checkpointKeyFile"})) {
      ar.number("checkpointEvery", c.audit.checkpoint_every, err, 0, 1e9);
      ar.string("checkpointKeyFile", c.audit.checkpoint_key_file, err);
    }
  }
  r.string("dataDir", c.data_dir, err);
  r.string("instanceId", c.instance_id, err);
  if (!err && j.contains("instanceId") && !is_valid_id(c.instance_id))
    err = make_error(errc::invalid_argument, "expected 1-64 letters, digits, '.', '_' or '-'", "instanceId");
  if (!err && j.contains("advertise")) {
    r.string("advertise", c.advertise, err);
    if (!err)
      if (auto hp = parse_host_port(c.advertise, "advertise"); !hp) err = hp.error();
  }
  if (!err && j.contains("redis")) {
    reader rr{j["redis"], "redis"};
    if (rr.check_object(err, {"url", "leaseTtlMs"})) {
      rr.string("url", c.redis_url, err);
      rr.number("leaseTtlMs", c.lease_ttl_ms, err, 500, 600'000);
      if (!err && c.redis_url.rfind("redis://", 0) != 0 && c.redis_url.rfind("unix://", 0) != 0)
        err = make_error(errc::invalid_argument, "expected redis://host:port or unix:///path", "redis.url");
    }
  }
  if (!err && j.contains("listen")) {
    std::string listen;
    r.string("listen", listen, err);
    if (!err) {
      auto hp = parse_host_port(listen, "listen");
      if (!hp) return hp.error();
      c.listen_host = hp->first;
      c.listen_port = hp->second;
    }
  }
  if (!err && j.contains("durability")) {
    std::string d;
    r.string("durability", d, err);
    if (d == "durable") c.journal_durability = durability::durable;
    else if (d == "fast") c.journal_durability = durability::fast;
    else if (!err) err = make_error(errc::invalid_argument, "expected \"durable\" or \"fast\"", "durability");
  }
  r.string("secretKeyFile", c.secret_key_file, err);
  r.number("providerThreads", c.provider_threads, err, 1, 1024);
  r.number("httpThreads", c.http_threads, err, 1, 64);
  r.number("stuckAfterMs", c.stuck_after_ms, err, 1, 1e12);
  r.number("shutdownGraceMs", c.shutdown_grace_ms, err, 0, 300'000);
  r.number("maxInFlightPerTenant", c.max_in_flight_per_tenant, err, 1, 10000);
  if (!err && j.contains("retry")) {
    reader rr{j["retry"], "retry"};
    if (rr.check_object(err, {"baseDelayMs", "maxDelayMs", "maxRetries"})) {
      rr.number("baseDelayMs", c.retry.base_delay_ms, err, 0, 1e9);
      rr.number("maxDelayMs", c.retry.max_delay_ms, err, 0, 1e9);
      rr.number("maxRetries", c.retry.max_retries, err, 0, 100);
    }
  }
  if (!err && j.contains("simulation")) {
    const auto& s = j["simulation"];
    reader sr{s, "simulation"};
    if (sr.check_object(err, {"seed", "steps", "releaseFailureRate", "minDelayMs", "maxDelayMs", "clusters",
                              "cloudUrl"})) {
      sr.number("seed", c.simulation.seed, err, 0, 1.8e19);
      sr.string("cloudUrl", c.simulation_cloud_url, err);
      if (!err && s.contains("cloudUrl") && !is_http_url(c.simulation_cloud_url))
        err = make_error(errc::invalid_argument, "expected an http:// URL of a sim-cloud, e.g. http://127.0.0.1:9300",
                         "simulation.cloudUrl");
      sr.number("releaseFailureRate", c.simulation.release_failure, err, 0, 1);
      sr.number("minDelayMs", c.simulation.min_delay_ms, err, 0, 3.6e6);
      sr.number("maxDelayMs", c.simulation.max_delay_ms, err, 0, 3.6e6);
      if (!err && c.simulation.max_delay_ms < c.simulation.min_delay_ms)
        err = make_error(errc::invalid_argument, "must be >= simulation.minDelayMs", "simulation.maxDelayMs");
      if (!err && s.contains("steps")) parse_steps(s["steps"], "simulation.steps", c.simulation.steps, err);
      if (!err && s.contains("clusters")) {
        if (s["clusters"].is_object()) {
          for (auto& [id, v] : s["clusters"].items()) {
            std::string path = "simulation.clusters." + id;
            reader one{v, path};
            if (!one.check_object(err, {"steps", "minDelayMs", "maxDelayMs", "reachable"})) break;
            simulated_cluster sc;
            one.boolean("reachable", sc.reachable, err);
            one.number("minDelayMs", sc.min_delay_ms, err, 0, 3.6e6);
            one.number("maxDelayMs", sc.max_delay_ms, err, 0, 3.6e6);
            if (!err && sc.max_delay_ms < sc.min_delay_ms)
              err = make_error(errc::invalid_argument, "must be >= minDelayMs", path + ".maxDelayMs");
            if (!err && v.contains("steps")) parse_steps(v["steps"], path + ".steps", sc.steps, err);
            if (err) break;
            c.simulation.clusters[id] = sc;
          }
        } else {
          err = make_error(errc::invalid_argument, "expected an object keyed by cluster id", "simulation.clusters");
        }
      }
    }
  }
  if (!err && j.contains("auth")) parse_auth(j["auth"], c.auth, err);
  if (!err && j.contains("http")) {
    reader hr{j["http"], "http"};
    if (hr.check_object(err, {"maxConnections", "maxConnectionsPerClient", "headerTimeoutMs", "bodyTimeoutMs",
                              "idleTimeoutMs", "streamHeartbeatMs", "streamSlowReaderMs", "streamPollMs", "tls"})) {
      hr.number("maxConnections", c.http.max_connections, err, 1, 1'000'000);
      hr.number("maxConnectionsPerClient", c.http.max_connections_per_client, err, 1, 1'000'000);
      hr.number("headerTimeoutMs", c.http.header_timeout_ms, err, 100, 3.6e6);
      hr.number("bodyTimeoutMs", c.http.body_timeout_ms, err, 100, 3.6e6);
      hr.number("idleTimeoutMs", c.http.idle_timeout_ms, err, 100, 3.6e6);
      hr.number("streamHeartbeatMs", c.http.stream_heartbeat_ms, err, 100, 3.6e6);
      hr.number("streamSlowReaderMs", c.http.stream_slow_reader_ms, err, 100, 3.6e6);
      hr.number("streamPollMs", c.http.stream_poll_ms, err, 10, 60'000);
    }
    if (!err && j["http"].contains("tls")) {
      reader tr{j["http"]["tls"], "http.tls"};
      if (tr.check_object(err, {"certFile", "keyFile", "clientCaFile", "requireClientCert"})) {
        tr.string("certFile", c.http_tls.cert_file, err);
        tr.string("keyFile", c.http_tls.key_file, err);
        tr.string("clientCaFile", c.http_tls.client_ca_file, err);
        tr.boolean("requireClientCert", c.http_tls.require_client_cert, err);
      }
      if (!err && c.http_tls.cert_file.empty() != c.http_tls.key_file.empty())
        err = make_error(errc::invalid_argument, "certFile and keyFile go together", "http.tls");
      if (!err && c.http_tls.require_client_cert && c.http_tls.client_ca_file.empty())
        err = make_error(errc::invalid_argument, "requireClientCert needs clientCaFile", "http.tls");
    }
  }
  if (!err && j.contains("providerGate")) {
    reader gr{j["providerGate"], "providerGate"};
    if (gr.check_object(err, {"maxConcurrentPerCluster", "breakerWindow", "breakerMinCalls", "breakerFailureRate",
                              "breakerOpenMs", "halfOpenProbes"})) {
      gr.number("maxConcurrentPerCluster", c.gate.max_concurrent, err, 1, 10000);
      gr.number("breakerWindow", c.gate.window, err, 1, 100000);
      gr.number("breakerMinCalls", c.gate.min_calls, err, 1, 100000);
      gr.number("breakerFailureRate", c.gate.failure_rate, err, 0.01, 1);
      gr.number("breakerOpenMs", c.gate.open_ms, err, 0, 1e9);
      gr.number("halfOpenProbes", c.gate.half_open_probes, err, 1, 1000);
    }
  }
  if (!err && j.contains("kafka")) {
    const auto& k = j["kafka"];
    reader kr{k, "kafka"};
    if (kr.check_object(err, {"enabled", "bootstrap", "properties", "topicPrefix", "commandsTopic", "groupId",
                              "source"})) {
      kr.boolean("enabled", c.kafka.enabled, err);
      kr.string("bootstrap", c.kafka.bootstrap, err);
      kr.string("commandsTopic", c.kafka.commands_topic, err);
      kr.string("groupId", c.kafka.group_id, err);
      kr.string("source", c.kafka.source, err);
      if (!err && k.contains("topicPrefix")) {
        if (!k["topicPrefix"].is_string()) err = make_error(errc::invalid_argument, "expected a string", "kafka.topicPrefix");
        else c.kafka.topic_prefix = k["topicPrefix"].get<std::string>();
      }
      if (!err && k.contains("properties")) {
        if (!k["properties"].is_object()) {
          err = make_error(errc::invalid_argument, "expected an object of librdkafka properties", "kafka.properties");
        } else {
          for (auto& [name, v] : k["properties"].items()) {
            if (!v.is_string()) {
              err = make_error(errc::invalid_argument, "expected a string value", "kafka.properties." + name);
              break;
            }
            c.kafka.properties.emplace_back(name, v.get<std::string>());
          }
        }
      }
    }
  }
  if (!err && j.contains("clusters")) {
    const auto& arr = j["clusters"];
    if (!arr.is_array()) return make_error(errc::invalid_argument, "expected an array", "clusters");
    c.clusters.clear();
    for (std::size_t i = 0; i < arr.size() && !err; ++i) {
      std::string path = "clusters[" + std::to_string(i) + "]";
      auto parsed = gateway::parse_cluster_value(arr[i], path, false);
      if (!parsed) {
        err = parsed.error();
        break;
      }
      auto& d = *parsed;
      if (d.cluster.id.empty()) err = make_error(errc::invalid_argument, "required", path + ".id");
      if (err) break;
      if (!d.secrets.empty()) c.cluster_secrets[d.cluster.id] = d.secrets;
      c.clusters.push_back(std::move(d.cluster));
    }
  }
  if (err) return *err;
  return c;
}

result<config> load_config_file(const std::string& path, config base) {
  std::ifstream in{path};
  if (!in) return make_error(errc::invalid_argument, "cannot read configuration file " + path, "--config");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_config(ss.str(), std::move(base));
}

}  // namespace provisiond
