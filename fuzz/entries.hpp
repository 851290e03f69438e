#pragma once
/// The bodies of the fuzz targets, one function per target, called both by
/// the libFuzzer mains (fuzz/main.cpp) and by the regression test that
/// replays fuzz/corpus and fuzz/regressions in the normal build
/// (tests/unit/fuzz_regressions_test.cpp).
///
/// Each takes one input and returns a finding: the invariant the code under
/// test broke, or nullopt. An exception thrown by the code under test is not
/// caught here: it escapes (libFuzzer reports it as a crash; gtest as a
/// failure). Not thread-safe: one input at a time.

#include <optional>
#include <string>
#include <string_view>

namespace provisiond::fuzz {

using finding = std::optional<std::string>;

/// Raw bytes as they come off a socket: Beast's request parser with the
/// server's limits, the target and header checks, then the route table's
/// `dispatch` against an in-process backend (fuzz/backend.hpp). Up to 4
/// pipelined requests per input.
finding http_request_input(std::string_view bytes);

/// The first byte picks a JSON body parser of the API (json_bodies.cpp
/// lists them); the rest is the body.
finding json_body_input(std::string_view bytes);

/// One record value of provisioning.commands through `parse_command`.
finding kafka_command_input(std::string_view bytes);

/// The first byte picks the form: a stored envelope (RocksDB bytes), a
/// `provisioning.journal` record, or a payload of the event type the second
/// byte picks; decoded, then re-encoded and decoded again.
finding stored_event_input(std::string_view bytes);

/// Tears down what http_request_input and json_body_input built (the
/// backend's threads); the regression test calls it at the end.
void release_backend();
/// For the fuzzer's exit: removes the backend's files without stopping its
/// threads (which static destruction would break); false if none was built.
bool abandon_backend();

}  // namespace provisiond::fuzz
