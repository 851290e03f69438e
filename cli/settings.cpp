#include "cli/settings.hpp"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "providers/http/http_client.hpp"

namespace provisiond::cli {

namespace {

using nlohmann::json;

struct config_file {
  std::optional<std::string> url;
  std::optional<std::string> token;
};

error config_error(const std::string& path, const std::string& what, const std::string& field = {}) {
  return make_error(errc::invalid_argument, "config file " + path + ": " + what, field);
}

result<config_file> read_config(const std::string& path, bool required, std::vector<std::string>& warnings) {
  std::ifstream in{path};
  if (!in) {
    if (required) return config_error(path, "cannot be read");
    return config_file{};
  }
  std::stringstream text;
  text << in.rdbuf();
  auto j = json::parse(text.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return config_error(path, "expected a JSON object {\"url\":…,\"token\":…}");
  config_file c;
  for (auto& [k, v] : j.items()) {
    if (k != "url" && k != "token") return config_error(path, "unknown field " + k + "; expected url, token", k);
    if (!v.is_string()) return config_error(path, k + " must be a string", k);
    (k == "url" ? c.url : c.token) = v.get<std::string>();
  }
  // Like ssh with its keys: a token others can read is worth a word.
  struct stat st {};
  if (c.token && ::stat(path.c_str(), &st) == 0 && (st.st_mode & (S_IRGRP | S_IROTH)))
    warnings.push_back("config file " + path + " holds a token and is readable by others (chmod 600 it)");
  return c;
}

status check_url(const std::string& url, const std::string& source) {
  auto parts = providers::http::parse_url(url);
  if (!parts) return make_error(errc::invalid_argument, source + ": " + parts.error().message, "url");
  return ok();
}

// JWTs and API keys are far shorter; a header this long no server takes.
constexpr std::size_t max_token_bytes = 8192;

status check_token(const std::string& token, const std::string& source) {
  if (token.size() > max_token_bytes)
    return make_error(errc::invalid_argument,
                      "the token from " + source + " is over " + std::to_string(max_token_bytes) + " bytes", "token");
  for (unsigned char ch : token)
    if (ch < 0x20 || ch == 0x7f)
      return make_error(errc::invalid_argument, "the token from " + source + " contains control characters", "token");
  return ok();
}

}  // namespace

std::string default_config_path(const env_lookup& env) {
  if (auto xdg = env("XDG_CONFIG_HOME"); xdg && !xdg->empty()) return *xdg + "/provisionctl/config.json";
  if (auto home = env("HOME"); home && !home->empty()) return *home + "/.config/provisionctl/config.json";
  return {};
}

result<settings> resolve_settings(const global_options& g, const env_lookup& env) {
  settings s;
  std::string path = g.config ? *g.config : default_config_path(env);
  config_file file;
  if (!path.empty()) {
    auto c = read_config(path, g.config.has_value(), s.warnings);
    if (!c) return c.error();
    file = *c;
  }
  std::string source;
  if (g.url) {
    s.url = *g.url;
    source = "--url";
  } else if (auto e = env("PROVISIOND_URL"); e && !e->empty()) {
    s.url = *e;
    source = "$PROVISIOND_URL";
  } else if (file.url) {
    s.url = *file.url;
    source = "config file " + path;
  } else {
    s.url = "http://127.0.0.1:8080";
    source = "the default URL";
  }
  if (auto st = check_url(s.url, source); !st) return st.error();
  while (!s.url.empty() && s.url.back() == '/') s.url.pop_back();

  if (auto e = env("PROVISIOND_TOKEN"); e && !e->empty()) {
    s.token = *e;
    source = "$PROVISIOND_TOKEN";
  } else if (file.token) {
    s.token = *file.token;
    source = "config file " + path;
  }
  if (auto st = check_token(s.token, source); !st) return st.error();

  if (g.timeout_seconds) {
    s.timeout = std::chrono::milliseconds(static_cast<long long>(*g.timeout_seconds * 1000));
    if (s.timeout.count() < 1) s.timeout = std::chrono::milliseconds(1);
    s.watch_deadline = s.timeout;
  }
  return s;
}

}  // namespace provisiond::cli
