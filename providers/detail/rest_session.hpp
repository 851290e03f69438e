#pragma once
/// The start of every REST provider's per-cluster session (OpenStack,
/// VMware, Proxmox): parsed settings, the clock, an HTTP client.

#include <memory>
#include <utility>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "providers/http/http_client.hpp"
#include "providers/provider.hpp"

namespace provisiond::providers::detail {

/// A `Session` (with `cfg`, `clk` and `http`) for parsed settings: a bad
/// setting is a permanent "config" error naming its field; the client trusts
/// the settings' `ca_file` (or nothing is checked, when `insecure`).
template <class Session, class Settings>
result<std::shared_ptr<Session>> make_rest_session(result<Settings> cfg, std::shared_ptr<clock> clk,
                                                   http::client_options options = {}) {
  if (!cfg) return permanent_error("config", cfg.error().field + ": " + cfg.error().message);
  auto s = std::make_shared<Session>();
  s->cfg = std::move(*cfg);
  s->clk = std::move(clk);
  options.ca_file = s->cfg.ca_file;
  options.verify_peer = !s->cfg.insecure;
  s->http = std::make_unique<http::client>(options);
  return s;
}

}  // namespace provisiond::providers::detail
