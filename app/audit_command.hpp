#pragma once
/// `provisiond audit verify`: checks a stopped instance's journal (every
/// chain or one request's, the global order and every checkpoint) and prints
/// the report (events/audit.hpp).

#include <string>

#include "app/config.hpp"

namespace provisiond::app {

/// The checkpoint key file of `cfg` (`audit.checkpointKeyFile`, or
/// "<dataDir>/audit.key").
std::string checkpoint_key_path(const config& cfg);

/// Prints the report on stdout. 0: everything holds; 1: a broken link
/// (named on the last line); 2: the journal or the key could not be read.
int audit_verify(const config& cfg, const std::string& request_id);

}  // namespace provisiond::app
