#pragma once
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

namespace provisiond::testing {

/// A fresh directory under /tmp, removed on destruction (kept when
/// PROVISIOND_KEEP_TEST_DIRS is set, to read the logs of a failed run).
class temp_dir {
 public:
  temp_dir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("provisiond-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~temp_dir() {
    if (std::getenv("PROVISIOND_KEEP_TEST_DIRS")) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string str() const { return path_.string(); }
  std::string operator/(const std::string& sub) const { return (path_ / sub).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace provisiond::testing
