#pragma once
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace provisiond::testing {

/// A data directory, a config file and the real provisiond binary on a free port.
struct server_fixture : ::testing::Test {
  temp_dir dir;
  provisiond_process proc;
  int starts = 0;

  void write_config(const nlohmann::json& cfg) { std::ofstream{dir / "config.json"} << cfg.dump(2); }

  void start_server() {
    std::vector<std::string> args = {"--data-dir", dir / "data", "--listen", "127.0.0.1:0"};
    if (std::ifstream{dir / "config.json"}) args.insert(args.begin(), {"--config", dir / "config.json"});
    auto log = dir / ("provisiond-" + std::to_string(++starts) + ".log");
    ASSERT_TRUE(proc.start(args, log)) << "provisiond did not start; see " << log;
  }

  http_reply get(const std::string& target) { return http_call(proc.port(), "GET", target); }
  http_reply post(const std::string& target, const std::string& body,
                  const std::map<std::string, std::string>& headers = {}) {
    return http_call(proc.port(), "POST", target, body, headers);
  }

  static nlohmann::json body(const http_reply& r) { return nlohmann::json::parse(r.body, nullptr, false); }

  /// Every request of a tenant, following the pages.
  std::vector<nlohmann::json> list(const std::string& tenant) {
    std::vector<nlohmann::json> items;
    std::string cursor;
    do {
      auto page = body(get("/v1/requests?limit=500&tenantId=" + tenant + (cursor.empty() ? "" : "&cursor=" + cursor)));
      for (auto& it : page["items"]) items.push_back(it);
      cursor = page["nextCursor"].is_string() ? page["nextCursor"].get<std::string>() : "";
    } while (!cursor.empty());
    return items;
  }

  /// Polls GET /v1/requests/{id} until its state is one of `states`.
  std::string wait_state(const std::string& id, std::initializer_list<std::string> states,
                         std::chrono::seconds timeout = std::chrono::seconds(20)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string state;
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = get("/v1/requests/" + id);
      if (r.status == 200) {
        state = body(r)["state"];
        for (auto& s : states)
          if (s == state) return state;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return state;
  }
};

inline std::string vps_body(const std::string& tenant, const std::string& order, const std::string& region = "eu-west-1") {
  return nlohmann::json{{"tenantId", tenant},
                        {"orderId", order},
                        {"type", "vps"},
                        {"region", region},
                        {"resources", {{"cpu", 2}, {"memoryGb", 4}, {"storageGb", 40}}},
                        {"metadata", {{"plan", "vps-m"}}}}
      .dump();
}

}  // namespace provisiond::testing
