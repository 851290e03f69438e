// Proxmox VE sessions: token or ticket auth, form-encoded calls, and the
// polling of UPID tasks on the node each UPID names.
#include "providers/proxmox/detail/session.hpp"

#include "providers/detail/rest_session.hpp"

#include "common/json.hpp"
#include "providers/provider.hpp"
#include "providers/proxmox/errors.hpp"

namespace provisiond::providers::proxmox::detail {

using nlohmann::json;

namespace {

constexpr time_ms renew_after_ms = 3'600'000;  // proxmoxer's renew_age; tickets live 2 h

std::string str_or(const json& j, const char* k) {
  return j.is_object() && j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string{};
}

}  // namespace

std::optional<long long> as_integer(const json& j) {
  if (j.is_number_integer()) return j.get<long long>();
  if (j.is_string()) {
    auto s = j.get<std::string>();
    if (!s.empty() && s.size() < 12 && s.find_first_not_of("0123456789") == std::string::npos) return std::stoll(s);
  }
  return std::nullopt;
}

status session::login_locked(const std::string& password) {
  auto r = http->send({"POST",
                       cfg.url + "/api2/json/access/ticket",
                       {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}},
                       form_encode({{"username", cfg.username}, {"password", password}})});
  if (!r) return r.error();
  auto j = parse_json_lenient(r->body);
  auto d = j.is_object() && j.contains("data") ? j["data"] : json();
  if (r->status == 401 || (r->status == 200 && d.is_null()))
    return permanent_error("auth", "Proxmox rejected the credentials of this cluster (user " + cfg.username +
                                       "): HTTP " + std::to_string(r->status) + ": " + pve_message(r->status, r->body));
  if (r->status != 200) return to_error(r->status, r->body, "Proxmox login");
  ticket_ = str_or(d, "ticket");
  csrf_ = str_or(d, "CSRFPreventionToken");
  if (ticket_.empty() || csrf_.empty()) return retryable_error("auth", "Proxmox login answered without a ticket");
  ticket_at_ = clk->now();
  return ok();
}

status session::authenticate() {
  if (!cfg.token_id.empty()) {
    auto r = call("GET", "/version");
    if (!r) return r.error();
    if (r->status == 401)
      return permanent_error(
          "auth", "Proxmox rejected the API token " + cfg.token_id + ": HTTP 401: " + pve_message(r->status, r->raw));
    if (r->status != 200) return to_error(r->status, r->raw, "Proxmox version");
    return ok();
  }
  std::lock_guard lock{mutex_};
  if (!ticket_.empty() && clk->now() - ticket_at_ < renew_after_ms) return ok();
  // Renewal: the current ticket stands in for the password; if it is
  // refused (expired), the password itself.
  if (!ticket_.empty())
    if (login_locked(ticket_)) return ok();
  return login_locked(cfg.password);
}

result<reply> session::call(const std::string& method, const std::string& path, const form& f) {
  bool token = !cfg.token_id.empty();
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!token)
      if (auto st = authenticate(); !st) return st.error();
    http::request req;
    req.method = method;
    req.url = cfg.url + "/api2/json" + path;
    req.headers = {{"Accept", "application/json"}};
    bool has_body = method == "POST" || method == "PUT";
    if (has_body) {
      req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
      req.body = form_encode(f);
    } else if (!f.empty()) {
      req.url += (path.find('?') == std::string::npos ? "?" : "&") + form_encode(f);
    }
    if (token) {
      // Tokens skip the CSRF check.
      req.headers.emplace_back("Authorization", "PVEAPIToken=" + cfg.token_id + "=" + cfg.token_secret);
    } else {
      std::lock_guard lock{mutex_};
      req.headers.emplace_back("Cookie", "PVEAuthCookie=" + ticket_);
      if (method != "GET") req.headers.emplace_back("CSRFPreventionToken", csrf_);
    }
    auto r = http->send(req);
    if (!r) return r.error();
    if (r->status == 401 && !token && attempt == 0) {
      std::lock_guard lock{mutex_};
      ticket_.clear();
      continue;
    }
    return providers::detail::to_json_reply(std::move(*r));
  }
  return permanent_error("auth", "Proxmox rejected a fresh ticket");
}

result<json> session::data(const std::string& method, const std::string& path, const form& f, const std::string& what) {
  auto r = call(method, path, f);
  if (!r) return r.error();
  if (r->status != 200) return to_error(r->status, r->raw, what);
  if (!r->body.is_object()) return retryable_error("bad_reply", what + ": the answer is not {\"data\": ...}");
  return r->body.contains("data") ? r->body["data"] : json();
}

status session::wait_task(const std::string& upid_text, const std::string& what) {
  auto u = parse_upid(upid_text);
  if (!u) return retryable_error("bad_reply", what + ": expected a UPID, got " + upid_text.substr(0, 100));
  auto deadline = clk->now() + time_ms{cfg.task_timeout_s} * 1000;
  auto path = "/nodes/" + percent_encode(u->node) + "/tasks/" + percent_encode(u->text) + "/status";
  for (;;) {
    auto r = call("GET", path);
    if (r && r->status == 200 && r->body.is_object() && r->body["data"].is_object()) {
      auto& d = r->body["data"];
      if (str_or(d, "status") == "stopped") {
        auto exit = str_or(d, "exitstatus");
        if (exit == "OK" || exit.rfind("WARNINGS", 0) == 0) return ok();
        return permanent_error("task_failed", what + ": task " + u->type + " on " + u->node +
                                                  " failed: " + (exit.empty() ? "no exit status" : exit));
      }
    } else if (r && r->status != 400 && r->status < 500) {
      // 400 right after dispatch is the task not being visible yet; 5xx and
      // a dropped connection are transient for a read.
      return to_error(r->status, r->raw, what + " (task status)");
    }
    if (clk->now() >= deadline)
      return permanent_error(
          "timeout", what + ": task " + u->text + " still running after " + std::to_string(cfg.task_timeout_s) + " s");
    clk->sleep_for(cfg.poll_interval_ms);
  }
}

result<std::shared_ptr<session>> make_session(const std::string& connection, std::shared_ptr<clock> clk) {
  return providers::detail::make_rest_session<session>(parse_settings(connection), std::move(clk));
}

}  // namespace provisiond::providers::proxmox::detail
