#pragma once
/// A raw TCP probe for the `probe` health check: connect, read the first
/// bytes (an SSH banner). Blocking; safe from any thread.

#include <string>

#include "common/result.hpp"

namespace provisiond::providers::openstack::detail {

/// The first bytes `host:port` sends within `timeout_ms`; retryable "probe"
/// when it cannot be resolved or says nothing.
result<std::string> tcp_banner(const std::string& host, int port, int timeout_ms);

}  // namespace provisiond::providers::openstack::detail
