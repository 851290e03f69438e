#pragma once
/// Key-value storage for read models. A commit writes view rows together
/// with the projection's checkpoint, atomically.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace provisiond::projections {

struct view_write {
  std::vector<std::pair<std::string, std::string>> puts;
  std::vector<std::string> deletes;
};

/// Thread-safe.
class view_store {
 public:
  virtual ~view_store() = default;
  virtual result<std::optional<std::string>> get(const std::string& key) = 0;
  /// Writes rows and sets checkpoint `name` to `position` in one atomic batch.
  virtual status commit(const view_write& w, const std::string& name, std::uint64_t position) = 0;
  virtual result<std::uint64_t> checkpoint(const std::string& name) = 0;
  /// Rows whose key starts with `prefix` and sorts after `after` (or from the
  /// start of the prefix when `after` is empty), at most `limit`.
  virtual result<std::vector<std::pair<std::string, std::string>>> scan(const std::string& prefix,
                                                                         const std::string& after,
                                                                         std::size_t limit) = 0;
  /// Deletes every row and checkpoint (for a rebuild from zero).
  virtual status clear() = 0;
};

}  // namespace provisiond::projections
