// The libFuzzer entry of one target; FUZZ_ENTRY names its function in
// entries.hpp. A finding aborts, so libFuzzer keeps the input as a crash.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "fuzz/entries.hpp"

namespace {

// libFuzzer ends a run with exit(0). The backend's threads (CAF, RocksDB)
// cannot be torn down once static destructors have begun, so a target that
// built one removes its files and ends here, before them.
void end_without_teardown() {
  if (provisiond::fuzz::abandon_backend()) {
    std::fflush(nullptr);
    std::_Exit(0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool registered = std::atexit(end_without_teardown) == 0;
  (void)registered;
  auto found = provisiond::fuzz::FUZZ_ENTRY(std::string_view(reinterpret_cast<const char*>(data), size));
  if (found) {
    std::fprintf(stderr, "fuzz finding: %s\n", found->c_str());
    std::abort();
  }
  return 0;
}
