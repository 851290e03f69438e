// What operators do to a request: approve or reject it, deliver a manual
// request's access details, and the service lifecycle (suspend, reactivate,
// deprovision, retry); plus the two work lists (approvals, manual).
#include <fstream>
#include <sstream>

#include "cli/commands.hpp"
#include "cli/views.hpp"

namespace provisiond::cli {

namespace {

std::string request_path(const std::string& id) {
  return "/v1/requests/" + encode_component(id);
}

// POST /v1/requests/{id}/{decision} with {field: text} when the flag is given.
int decide(context& c, const invocation& inv, const char* decision, const char* flag, const char* field) {
  std::optional<std::string> body;
  if (auto text = inv.value(flag)) body = json{{field, *text}}.dump();
  auto r = c.client.call("POST", request_path(inv.arg(0)) + "/" + decision, body);
  return c.finish(r, [&](const json& j) { print_id_state(c.out, j); });
}

// A secret's text from FILE or stdin ("-"); a password loses one trailing newline.
result<std::string> read_secret(context& c, const std::string& flag, const std::string& file, bool trim_newline) {
  std::stringstream text;
  if (file == "-") {
    text << c.in.rdbuf();
  } else {
    std::ifstream f{file};
    if (!f) return make_error(errc::invalid_argument, flag + ": " + file + " cannot be read", flag);
    text << f.rdbuf();
  }
  std::string s = text.str();
  if (trim_newline && !s.empty() && s.back() == '\n') s.pop_back();
  if (trim_newline && !s.empty() && s.back() == '\r') s.pop_back();
  return s;
}

}  // namespace

int run_approve(context& c, const invocation& inv) {
  return decide(c, inv, "approve", "--comment", "comment");
}
int run_reject(context& c, const invocation& inv) {
  return decide(c, inv, "reject", "--reason", "reason");
}

int run_approvals(context& c, const invocation& inv) {
  std::string target = "/v1/approvals?state=pending";
  if (auto t = inv.value("--tenant")) target += "&tenantId=" + encode_component(*t);
  auto r = c.client.get(target);
  return c.finish(r, [&](const json& j) { print_approvals(c.out, j); });
}

int run_manual(context& c, const invocation&) {
  auto r = c.client.get("/v1/manual-requests");
  return c.finish(r, [&](const json& j) { print_manual(c.out, j); });
}

int run_complete(context& c, const invocation& inv) {
  json body = json::object();
  if (auto f = inv.value("-f")) {
    auto j = read_json_file(c, *f);
    if (!j) return c.usage(inv, j.error().message);
    body = std::move(*j);
  }
  int from_stdin = 0;
  for (const char* flag : {"-f", "--password-file", "--private-key-file"})
    if (inv.value(flag) == "-") ++from_stdin;
  if (from_stdin > 1) return c.usage(inv, "only one of -f, --password-file, --private-key-file can read stdin");
  for (auto [flag, key] : {std::pair{"--host", "host"}, {"--username", "username"}, {"--note", "note"}})
    if (auto v = inv.value(flag)) body[key] = *v;
  for (auto [flag, key] : {std::pair{"--password-file", "password"}, {"--private-key-file", "privateKey"}}) {
    auto file = inv.value(flag);
    if (!file) continue;
    auto secret = read_secret(c, flag, *file, std::string_view(key) == "password");
    if (!secret) return c.usage(inv, secret.error().message);
    body[key] = std::move(*secret);
  }
  for (const auto& kv : inv.values("--endpoint")) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) return c.usage(inv, "--endpoint: expected NAME=URL, got '" + kv + "'");
    if (!body["endpoints"].is_object()) body["endpoints"] = json::object();
    body["endpoints"][kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  if (body.empty())
    return c.usage(inv, "complete needs -f FILE or --host, --username and a --password-file or --private-key-file");
  auto r = c.client.call("POST", request_path(inv.arg(0)) + "/complete", body.dump());
  return c.finish(r, [&](const json& j) { print_id_state(c.out, j); });
}

// suspend, reactivate, deprovision, retry: the command's name is the action.
int run_lifecycle(context& c, const invocation& inv) {
  auto r = c.client.call("POST", request_path(inv.arg(0)) + "/" + std::string(inv.command->path), std::nullopt);
  return c.finish(r, [&](const json& j) { print_id_state(c.out, j); });
}

}  // namespace provisiond::cli
