#pragma once
/// Wires the engine's read-side lookups (one request, a tenant's requests,
/// a cluster's holders, "wait until the read side has caught up") to the
/// request-summary projection, so every process and test that builds an
/// engine does it the same way.

#include <memory>

#include "actors/engine.hpp"
#include "events/journal.hpp"
#include "projections/request_summary.hpp"

namespace provisiond::actors {

/// `summaries` and `journal` must outlive the engine.
void use_read_side(engine_options& o, projections::request_summary_projection* summaries,
                   std::shared_ptr<events::journal> journal);

}  // namespace provisiond::actors
