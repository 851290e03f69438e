#pragma once
/// `provisiond sim-cloud`: one simulation provider (its ledger, seeded
/// faults, delays and per-cluster overrides) served over HTTP, so several
/// provisiond instances configured with `simulation.cloudUrl` share one
/// simulated cloud (scale-out and failover tests). The protocol is
/// providers/simulation/wire.hpp; the client is
/// providers/simulation/remote_simulation_provider.hpp.

#include <cstdint>
#include <string>

#include "common/settings.hpp"

namespace provisiond {

/// Opens the ledger in `<data_dir>/simulation-ledger`, serves it on
/// `listen_host:port` (0: a free port) and prints `SIM_CLOUD=http://HOST:PORT`
/// to stdout once it accepts calls. Blocks until SIGTERM or SIGINT, which it
/// blocks in the calling thread first (call it before starting any thread).
/// Returns the process exit code: 0 after a signal, 2 when it cannot start.
/// Routes: POST /v1/sim/{execute,lookup,release,power,check}, GET
/// /v1/simulation/ledger. No authentication: bind it to loopback.
int run_sim_cloud(const std::string& listen_host, std::uint16_t port, const std::string& data_dir,
                  const simulation_config& cfg);

}  // namespace provisiond
