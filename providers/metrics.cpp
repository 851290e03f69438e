#include "providers/metrics.hpp"

#include <nlohmann/json.hpp>

#include "common/json.hpp"

namespace provisiond::providers {

namespace {

nlohmann::json figure(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

}  // namespace

std::string to_json(const service_metrics& m) {
  nlohmann::json details = m.details_json.empty() ? nlohmann::json(nullptr) : parse_json_lenient(m.details_json);
  nlohmann::json j{
      {"provider", m.provider},
      {"resourceId", m.resource_id},
      {"source", m.source},
      {"powerState", m.power_state.empty() ? nlohmann::json(nullptr) : nlohmann::json(m.power_state)},
      {"cpu", {{"count", figure(m.cpu_count)}, {"usagePercent", figure(m.cpu_usage_percent)}}},
      {"memory", {{"totalMiB", figure(m.memory_total_mib)}, {"usedMiB", figure(m.memory_used_mib)}}},
      {"disk",
       {{"totalGiB", figure(m.disk_total_gib)},
        {"readBytesPerSec", figure(m.disk_read_bytes_per_sec)},
        {"writeBytesPerSec", figure(m.disk_write_bytes_per_sec)},
        {"readBytes", figure(m.disk_read_bytes)},
        {"writeBytes", figure(m.disk_write_bytes)}}},
      {"network",
       {{"rxBytesPerSec", figure(m.net_rx_bytes_per_sec)},
        {"txBytesPerSec", figure(m.net_tx_bytes_per_sec)},
        {"rxBytes", figure(m.net_rx_bytes)},
        {"txBytes", figure(m.net_tx_bytes)}}},
      {"uptimeSeconds", figure(m.uptime_seconds)},
      {"details", std::move(details)}};
  return dump_json(j);
}

}  // namespace provisiond::providers
