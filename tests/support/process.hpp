#pragma once
/// Starts and kills the real provisiond binary for integration tests.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/http_client.hpp"

namespace provisiond::testing {

class provisiond_process {
 public:
  /// Starts `PROVISIOND_BINARY args...` with output in `log_file` (use a new
  /// file per start), and waits until it prints its port and answers /readyz.
  bool start(const std::vector<std::string>& args, const std::string& log_file) {
    log_ = log_file;
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      std::vector<char*> argv;
      std::string bin = PROVISIOND_BINARY;
      argv.push_back(bin.data());
      std::vector<std::string> copy = args;
      for (auto& a : copy) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(bin.c_str(), argv.data());
      ::_exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      if (auto p = last_port(); p && http_call(p, "GET", "/readyz").status == 200) {
        port_ = p;
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  /// kill -9, then reap.
  void crash() { stop_with(SIGKILL); }
  /// SIGTERM; returns the exit status (or -1).
  int terminate() { return stop_with(SIGTERM); }
  std::uint16_t port() const { return port_; }
  bool running() const { return pid_ > 0; }
  ~provisiond_process() {
    if (pid_ > 0) crash();
  }

 private:
  int stop_with(int sig) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  // The port of the last "listening on http://H:P" line in the log.
  std::uint16_t last_port() const {
    std::ifstream in{log_};
    std::string line;
    std::uint16_t port = 0;
    static const std::regex re{R"(listening on http://[^:]+:(\d+))"};
    while (std::getline(in, line)) {
      std::smatch m;
      if (std::regex_search(line, m, re)) port = static_cast<std::uint16_t>(std::stoi(m[1]));
    }
    return port;
  }

  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::string log_;
};

}  // namespace provisiond::testing
