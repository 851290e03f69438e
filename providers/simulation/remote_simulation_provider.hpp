#pragma once
/// The simulation provider of a shared simulation cloud (`provisiond
/// sim-cloud`): every call is forwarded over HTTP, so several provisiond
/// instances see one ledger, one set of seeded faults and one adopt-by-key
/// lookup. Wire format: providers/simulation/wire.hpp.

#include <memory>
#include <string>

#include "common/clock.hpp"
#include "providers/simulation/simulation_provider.hpp"

namespace provisiond::providers::simulation {

/// A provider of kind "simulation" talking to the sim-cloud at `base_url`
/// ("http://127.0.0.1:PORT"). The server's verdicts come back as they were
/// (errc and provider code in `field`); a transport failure (refused, timed
/// out, a 5xx without an error body) is errc::retryable with code
/// "sim_cloud_unreachable", so the engine backs off and retries. Every call
/// is safe to repeat: the server adopts what exists for (request, step).
/// Thread-safe (one HTTP client, connections per calling thread). `clk` is
/// accepted for symmetry with `simulation_provider::open`; time is the
/// server's (it stamps the ledger).
std::shared_ptr<simulation_provider> make_remote_simulation_provider(std::string base_url, std::shared_ptr<clock> clk);

}  // namespace provisiond::providers::simulation
