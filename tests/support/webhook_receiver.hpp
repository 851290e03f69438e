#pragma once
/// The webhook receiver of the tests (tests/webhooks/receiver.mjs): a Node
/// HTTP server that records every delivery and verifies them with the
/// reference Standard Webhooks library (`standardwebhooks` from npm), not
/// with provisiond's own code. Needs `node` and `npm ci` in tests/webhooks
/// (./dev does it).

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <utility>
#include <vector>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/support/http_client.hpp"

namespace provisiond::testing {

/// The journal types a simulated request goes through on its way to
/// Completed (a webhook that names them gets the whole stream).
inline const std::vector<std::string> completed_request_types = {
    "request_submitted", "quota_reserved",     "request_admitted", "cluster_placed",
    "step_started",      "resource_allocated", "step_completed",   "request_completed"};

class webhook_receiver {
 public:
  /// Starts it; false (and `why`) when node or the library is missing.
  bool start(std::string* why) {
    std::string dir = std::string(PROVISIOND_SOURCE_DIR) + "/tests/webhooks";
    if (!std::filesystem::exists(dir + "/node_modules/standardwebhooks")) {
      *why = "the standardwebhooks library is not installed: run `npm ci --prefix tests/webhooks` (./dev does)";
      return false;
    }
    int out[2];
    if (::pipe(out) != 0) return false;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      ::close(out[0]);
      int devnull = ::open("/dev/null", O_WRONLY);
      ::dup2(devnull, 2);
      ::execlp("node", "node", (dir + "/receiver.mjs").c_str(), nullptr);
      ::_exit(127);
    }
    ::close(out[1]);
    FILE* f = ::fdopen(out[0], "r");
    char line[256];
    while (std::fgets(line, sizeof line, f)) {
      std::string s = line;
      if (s.rfind("RECEIVER_PORT=", 0) == 0) {
        port_ = static_cast<std::uint16_t>(std::stoi(s.substr(14)));
        break;
      }
    }
    std::fclose(f);
    if (port_ == 0) *why = "the receiver did not start (is node installed?)";
    return port_ != 0;
  }
  ~webhook_receiver() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }

  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

  /// Every delivery recorded (optionally only at `path`), in arrival order:
  /// {seq, path, headers: {webhook-id, webhook-timestamp, webhook-signature, ...}, body, receivedAtMs}.
  nlohmann::json log(const std::string& path = {}) const {
    auto r = http_call(port_, "GET", "/_control/log" + (path.empty() ? "" : "?path=" + path));
    return nlohmann::json::parse(r.body, nullptr, false);
  }
  /// {total, verified, failures} of the recorded deliveries (at `path`), verified with `secret`.
  nlohmann::json verify_all(const std::string& secret, const std::string& path = {}) const {
    nlohmann::json body{{"secret", secret}};
    if (!path.empty()) body["path"] = path;
    auto r = http_call(port_, "POST", "/_control/verify-all", body.dump());
    return nlohmann::json::parse(r.body, nullptr, false);
  }
  /// The library's verdict on one message: {ok, error?}.
  nlohmann::json verify(const std::string& secret, const std::string& id, const std::string& timestamp,
                        const std::string& signature, const std::string& body) const {
    nlohmann::json req{{"secret", secret},
                       {"headers", {{"webhook-id", id}, {"webhook-timestamp", timestamp}, {"webhook-signature", signature}}},
                       {"body", body}};
    auto r = http_call(port_, "POST", "/_control/verify", req.dump());
    return nlohmann::json::parse(r.body, nullptr, false);
  }
  void reset() const { http_call(port_, "POST", "/_control/reset", "{}"); }

  /// What arrived (at `path`) per (event id, CloudEvent type): the
  /// webhook-ids it came under and how many times it came.
  std::map<std::pair<std::string, std::string>, std::pair<std::set<std::string>, int>> by_event(
      const std::string& path = {}) const {
    std::map<std::pair<std::string, std::string>, std::pair<std::set<std::string>, int>> out;
    auto l = log(path);
    if (!l.is_array()) return out;
    for (auto& d : l) {
      auto ce = nlohmann::json::parse(d["body"].get<std::string>(), nullptr, false);
      if (!ce.is_object() || !ce["id"].is_string() || !ce["type"].is_string()) continue;
      auto& slot = out[{ce["id"].get<std::string>(), ce["type"].get<std::string>()}];
      if (d["headers"]["webhook-id"].is_string()) slot.first.insert(d["headers"]["webhook-id"].get<std::string>());
      ++slot.second;
    }
    return out;
  }

  /// Waits until at least `n` deliveries are recorded (at `path`); the log.
  nlohmann::json wait_for(std::size_t n, const std::string& path = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(20)) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto l = log(path);
      if ((l.is_array() && l.size() >= n) || std::chrono::steady_clock::now() > deadline) return l;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

 private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace provisiond::testing
