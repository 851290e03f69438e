#pragma once
/// The manual (vendor-managed) provider: a person does the work. Allocate and
/// configure record the work order; activate waits in AwaitingManualInput
/// until an operator posts the access details (POST /v1/requests/{id}/complete);
/// verify checks that a host was delivered. Nothing is created by this
/// process, so release, power and lookup have nothing to undo or find: the
/// vendor acts on the lifecycle events it receives (Kafka, webhooks).

#include <memory>

#include "providers/provider.hpp"

namespace provisiond::providers::manual {

std::shared_ptr<provider> make_manual_provider();

}  // namespace provisiond::providers::manual
