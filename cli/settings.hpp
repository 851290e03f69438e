#pragma once
/// Where provisionctl talks to and as whom: the base URL and the bearer
/// token, from the flags, the environment and the config file
/// (`{"url": …, "token": …}`). The token is never printed, not even in an
/// error message.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cli/args.hpp"
#include "common/result.hpp"

namespace provisiond::cli {

struct settings {
  std::string url;    ///< base URL without a trailing '/'
  std::string token;  ///< empty: no Authorization header
  std::chrono::milliseconds timeout{30000};
  std::optional<std::chrono::milliseconds> watch_deadline;  ///< --timeout given to watch
  std::vector<std::string> warnings;                        ///< e.g. a config file with a token that others may read
};

/// Reads an environment variable (std::getenv in main; a map in tests).
using env_lookup = std::function<std::optional<std::string>(const std::string&)>;

/// The config file's default place: $XDG_CONFIG_HOME/provisionctl/config.json,
/// else $HOME/.config/provisionctl/config.json; empty if neither is set.
std::string default_config_path(const env_lookup& env);

/// URL: --url, else $PROVISIOND_URL, else the config file's url, else
/// http://127.0.0.1:8080. Token: $PROVISIOND_TOKEN, else the config file's
/// token. A missing default config file is fine; a missing --config file, a
/// file that is not such an object, a URL that is not http(s) or a token
/// with control characters is an error naming where it came from.
result<settings> resolve_settings(const global_options& g, const env_lookup& env);

}  // namespace provisiond::cli
