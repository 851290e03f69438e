#include "providers/proxmox/errors.hpp"

#include <array>

#include <nlohmann/json.hpp>

#include "common/json.hpp"
#include "providers/provider.hpp"

namespace provisiond::providers::proxmox {

namespace {

constexpr std::array<classification_rule, 15> table{{
    {500, 599, "got timeout", action::retry, "timeout"},  // a config lock wait
    {500, 599, "got no worker upid", action::retry, "no_worker"},
    {500, 599, "is locked", action::wait_unlock, "locked"},  // "VM 100 is locked (clone)"
    {500, 599, "already exists", action::already_exists, "already_exists"},
    {500, 599, "is running - destroy failed", action::stop_first, "running"},
    {500, 599, "does not exist", action::gone, "not_found"},
    {500, 599, "no such resource", action::gone, "not_found"},
    {404, 404, "", action::gone, "not_found"},
    {400, 400, "", action::fail, "bad_request"},  // Parameter verification failed.
    {401, 401, "", action::reauth, "auth"},
    {403, 403, "", action::fail, "forbidden"},          // a token's privsep ACLs
    {500, 599, "", action::reconcile, "server_error"},  // 59x: the proxy to another node
    {408, 408, "", action::retry, "timeout"},
    {429, 429, "", action::retry, "rate_limited"},
    {409, 409, "", action::retry, "busy"},
}};

bool contains(const std::string& hay, const char* needle) {
  return *needle == '\0' || hay.find(needle) != std::string::npos;
}

}  // namespace

std::span<const classification_rule> classification_table() {
  return table;
}

std::string pve_message(int status, const std::string& body) {
  auto j = parse_json_lenient(body);
  std::string msg;
  if (j.is_object()) {
    if (j.contains("message") && j["message"].is_string()) msg = j["message"].get<std::string>();
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    if (j.contains("errors") && j["errors"].is_object())
      for (auto& [k, v] : j["errors"].items())
        msg += (msg.empty() ? "" : " ") + k + ": " + (v.is_string() ? v.get<std::string>() : v.dump());
  }
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  if (!msg.empty()) return msg;
  if (j.is_object()) return "HTTP " + std::to_string(status) + " without a message";
  return body.substr(0, 300);
}

const classification_rule& classify_reply(int status, const std::string& message) {
  for (const auto& r : table)
    if (status >= r.status_min && status <= r.status_max && contains(message, r.contains)) return r;
  static constexpr classification_rule unexpected{0, 0, "", action::fail, "unexpected"};
  return unexpected;
}

error to_error(int status, const std::string& body, const std::string& what) {
  auto msg = pve_message(status, body);
  const auto& r = classify_reply(status, msg);
  auto text = what + ": HTTP " + std::to_string(status) + ": " + msg;
  switch (r.what) {
    case action::retry:
    case action::wait_unlock:
    case action::reconcile: return retryable_error(r.field, std::move(text));
    default: return permanent_error(r.field, std::move(text));
  }
}

}  // namespace provisiond::providers::proxmox
