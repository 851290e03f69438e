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

/// Sends `sig` to `pid` and reaps it: its exit status, or -1 (killed by a
/// signal, or nothing to stop). `pid` is -1 afterwards.
inline int signal_and_reap(pid_t& pid, int sig) {
  if (pid <= 0) return -1;
  ::kill(pid, sig);
  int status = 0;
  ::waitpid(pid, &status, 0);
  pid = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// Forks `PROVISIOND_BINARY args...` with stdout and stderr in `log`
/// (appended or truncated); the child's pid.
inline pid_t spawn_provisiond(const std::vector<std::string>& args, const std::string& log, bool append) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::string bin = PROVISIOND_BINARY;
    std::vector<std::string> copy = args;
    std::vector<char*> argv{bin.data()};
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

class provisiond_process {
 public:
  /// Starts `PROVISIOND_BINARY args...` with output in `log_file` (use a new
  /// file per start), and waits until it prints its port and answers /readyz.
  bool start(const std::vector<std::string>& args, const std::string& log_file) {
    log_ = log_file;
    pid_ = spawn_provisiond(args, log_file, true);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      if (auto p = last_port(); p && http_call(p, "GET", "/readyz").status == 200) {
        port_ = p;
        admin_authorization_ = default_credentials::from_key_file(last_match(key_file_re()));
        default_credentials::set(p, admin_authorization_);
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
  /// "Bearer <the bootstrap admin key>" ("" if the process has none).
  const std::string& admin_authorization() const { return admin_authorization_; }
  bool running() const { return pid_ > 0; }
  /// Sends a signal without reaping (SIGSTOP, SIGCONT).
  void signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
  }
  /// True while the process has not exited (a stopped one counts as alive).
  bool alive() const {
    int status = 0;
    return pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == 0;
  }
  ~provisiond_process() {
    if (pid_ > 0) crash();
  }

 private:
  int stop_with(int sig) { return signal_and_reap(pid_, sig); }

  // The first group of the last line of the log matching `re`, or "".
  std::string last_match(const std::regex& re) const {
    std::ifstream in{log_};
    std::string line, found;
    while (std::getline(in, line)) {
      std::smatch m;
      if (std::regex_search(line, m, re)) found = m[1];
    }
    return found;
  }
  static const std::regex& key_file_re() {
    static const std::regex re{R"(the admin API key is in ([^"\s]+))"};
    return re;
  }
  // The port of the last "listening on http(s)://H:P" line in the log.
  std::uint16_t last_port() const {
    static const std::regex re{R"(listening on https?://[^ ]+:(\d+))"};
    auto p = last_match(re);
    return p.empty() ? 0 : static_cast<std::uint16_t>(std::stoi(p));
  }

  pid_t pid_ = -1;
  std::string admin_authorization_;
  std::uint16_t port_ = 0;
  std::string log_;
};

}  // namespace provisiond::testing

namespace provisiond::testing {

/// A `provisiond` subcommand that prints "<PREFIX>=<value>" once it serves
/// (`kafka-dev` prints BOOTSTRAP=…, `sim-cloud` SIM_CLOUD=http://…);
/// SIGTERM on destruction.
class announced_process {
 public:
  /// Starts `PROVISIOND_BINARY args...` with output in `log` and waits for
  /// the line; false if the process exits first or 30 s pass.
  bool start(const std::vector<std::string>& args, const std::string& log, const std::string& prefix) {
    pid_ = spawn_provisiond(args, log, false);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::ifstream in{log};
      std::string line;
      while (std::getline(in, line))
        if (line.rfind(prefix + "=", 0) == 0) {
          value_ = line.substr(prefix.size() + 1);
          return true;
        }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  /// SIGTERM, then reap; the exit status (or -1).
  int terminate() { return signal_and_reap(pid_, SIGTERM); }
  const std::string& value() const { return value_; }
  ~announced_process() { terminate(); }

 private:
  pid_t pid_ = -1;
  std::string value_;
};

/// `provisiond kafka-dev`: a mock Kafka cluster in its own process, so it
/// outlives the provisiond processes a test kills.
class kafka_dev_process {
 public:
  /// `args` follow `kafka-dev` (e.g. {"--partitions", "8"}).
  bool start(const std::string& log_file, std::vector<std::string> args = {}) {
    args.insert(args.begin(), "kafka-dev");
    return process_.start(args, log_file, "BOOTSTRAP");
  }
  const std::string& bootstrap() const { return process_.value(); }

 private:
  announced_process process_;
};

struct command_result {
  int rc = -1;      ///< the exit code; -1 if it could not run or was killed
  std::string out;  ///< standard output and error, together
};

/// Runs a shell command; its exit code and everything it printed.
inline command_result run_command(const std::string& cmd) {
  command_result r;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = ::pclose(p);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

/// Runs a shell command; returns its standard output.
inline std::string shell(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

}  // namespace provisiond::testing
