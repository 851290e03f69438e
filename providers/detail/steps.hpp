#pragma once
/// What the VM providers (OpenStack, VMware, Proxmox) do alike around a
/// step: the login before it, a create step's answer, the root password.

#include <optional>
#include <string>

#include "common/result.hpp"
#include "events/secret_store.hpp"
#include "providers/provider.hpp"

namespace provisiond::providers::detail {

/// A login refused before the step's first call (the session's error with
/// field "auth") becomes permanent "unauthenticated": nothing was sent, so
/// the engine fails the step without retrying; other errors pass as they are.
status refused_login_is_permanent(status login);

/// A lookup-or-create step's answer as an outcome; "nothing" after a create
/// is a bug, said so.
result<step_outcome> created_outcome(result<std::optional<step_outcome>> r);

/// The root password of a request's service: generated once (24 characters,
/// no look-alikes, from OpenSSL's RAND_bytes) and sealed in `secrets` before
/// anything uses it, so a retried step sets the same one; `/credentials`
/// delivers it once.
result<std::string> root_password(events::secret_store& secrets, const std::string& request_id);

}  // namespace provisiond::providers::detail
