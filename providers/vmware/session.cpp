// The vCenter SOAP session: login with the cookie vCenter hands out, one
// re-login on NotAuthenticated, and tasks polled on the injected clock.
#include "providers/vmware/detail/session.hpp"

#include "providers/detail/rest_session.hpp"

#include "providers/provider.hpp"
#include "providers/vmware/envelopes.hpp"
#include "providers/vmware/errors.hpp"

namespace provisiond::providers::vmware::detail {

namespace {

constexpr time_ms poll_interval_ms = 250;
// The vim25 release whose WSDL the envelopes follow; newer vCenters accept it.
constexpr const char* soap_action = "urn:vim25/6.5";

}  // namespace

status session::login_locked() {
  auto post = [&](const std::string& body, const std::string& cookie) {
    http::request req{
        "POST", cfg.url, {{"Content-Type", "text/xml; charset=utf-8"}, {"SOAPAction", soap_action}}, envelope(body)};
    if (!cookie.empty()) req.headers.emplace_back("Cookie", cookie);
    return http->send(req);
  };
  if (!content_) {
    auto r = post(retrieve_service_content(), "");
    if (!r) return r.error();
    if (auto f = fault_of(r->body)) return classify(*f, "vCenter RetrieveServiceContent");
    auto sc = parse_service_content(r->body);
    if (!sc) return classify_http(r->status, r->body, "vCenter RetrieveServiceContent (no service content)");
    content_ = *sc;
  }
  auto r = post(login(content_->session_manager, cfg.username, cfg.password), "");
  if (!r) return r.error();
  if (auto f = fault_of(r->body)) {
    auto e = classify(*f, "vCenter Login");
    if (f->type == "InvalidLogin" || f->type == "NoPermission")
      e.message = "vCenter rejected the credentials of this cluster (user " + cfg.username + "): " + f->describe();
    return e;
  }
  auto set_cookie = r->header("set-cookie");
  if (r->status != 200 || set_cookie.empty())
    return classify_http(r->status, r->body, "vCenter Login (no session cookie)");
  cookie_ = set_cookie.substr(0, set_cookie.find(';'));
  return ok();
}

status session::ensure_login() {
  std::lock_guard lock{mutex_};
  if (!cookie_.empty() && content_) return ok();
  return login_locked();
}

service_content session::content() {
  std::lock_guard lock{mutex_};
  return content_ ? *content_ : service_content{};
}

result<std::string> session::call(const std::string& body, const std::string& what) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (auto st = ensure_login(); !st) return st.error();
    http::request req{
        "POST", cfg.url, {{"Content-Type", "text/xml; charset=utf-8"}, {"SOAPAction", soap_action}}, envelope(body)};
    {
      std::lock_guard lock{mutex_};
      req.headers.emplace_back("Cookie", cookie_);
    }
    auto r = http->send(req);
    if (!r) return r.error();  // nothing answered: a task may still have started (callers look up first)
    auto fault = fault_of(r->body);
    if (fault && fault->type == "NotAuthenticated" && attempt == 0) {
      std::lock_guard lock{mutex_};
      cookie_.clear();
      continue;
    }
    if (fault) return classify(*fault, what);
    if (r->status != 200) return classify_http(r->status, r->body, what);
    return std::move(r->body);
  }
  return permanent_error("auth", what + ": vCenter refused a fresh session");
}

result<std::optional<moref>> session::find(const std::string& path) {
  if (auto st = ensure_login(); !st) return st.error();
  auto r = call(find_by_inventory_path(content().search_index, path), "vCenter FindByInventoryPath " + path);
  if (!r) return r.error();
  return returned_moref(*r);
}

result<moref> session::require(const std::string& path, const std::string& what) {
  auto found = find(path);
  if (!found) return found.error();
  if (!*found) return permanent_error("not_found", what + " not found: no " + path + " in the inventory");
  return **found;
}

result<object_view> session::properties(const moref& obj, const std::vector<std::string>& paths) {
  if (auto st = ensure_login(); !st) return st.error();
  auto what = "vCenter RetrieveProperties of " + obj.type + " " + obj.value;
  auto r = call(retrieve_properties(content().property_collector, obj, paths), what);
  if (!r) return r.error();
  auto v = parse_object(*r);
  if (!v) return permanent_error("not_found", what + ": no such object");
  return *v;
}

result<moref> session::start_task(const std::string& body, const std::string& what) {
  auto r = call(body, what);
  if (!r) return r.error();
  auto task = returned_moref(*r);
  if (!task) return permanent_error("unexpected", what + ": vCenter returned no task");
  return *task;
}

result<std::optional<moref>> session::wait_task(const moref& task, const std::string& what) {
  auto deadline = clk->now() + time_ms{cfg.task_timeout_s} * 1000;
  for (;;) {
    auto r =
        call(retrieve_properties(content().property_collector, task, {"info"}), what + " (task " + task.value + ")");
    if (!r) return r.error();
    auto info = parse_task_info(*r);
    if (!info) return permanent_error("unexpected", what + ": unreadable task info of " + task.value);
    if (info->state == "success") return info->result;
    if (info->state == "error")
      return classify(info->error.value_or(vim_fault{"TaskError", "no fault reported", {}}),
                      what + " (task " + task.value + ")");
    if (clk->now() >= deadline)
      return retryable_error("timeout", what + ": task " + task.value + " still " + info->state + " after " +
                                            std::to_string(cfg.task_timeout_s) + " s");
    clk->sleep_for(poll_interval_ms);
  }
}

result<std::optional<moref>> session::run_task(const std::string& body, const std::string& what) {
  auto task = start_task(body, what);
  if (!task) return task.error();
  return wait_task(*task, what);
}

result<std::shared_ptr<session>> make_session(const std::string& connection, std::shared_ptr<clock> clk) {
  http::client_options o;
  o.io_timeout = std::chrono::milliseconds(120'000);  // a synchronous vCenter call can be slow under load
  return providers::detail::make_rest_session<session>(parse_settings(connection), std::move(clk), o);
}

}  // namespace provisiond::providers::vmware::detail
