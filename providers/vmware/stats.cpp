// Live metrics of the request's VM: summary.quickStats and the hardware
// from the property collector, rates from PerformanceManager.QueryPerf
// (the latest 20 s real-time sample). A figure vCenter does not report
// stays empty.
#include <nlohmann/json.hpp>

#include "providers/vmware/detail/provider.hpp"
#include "providers/vmware/envelopes.hpp"

namespace provisiond::providers::vmware::detail {

using nlohmann::json;

namespace {

std::optional<double> number(const object_view& v, const std::string& path) {
  auto text = v.value(path);
  if (text.empty()) return std::nullopt;
  try {
    return std::stod(text);
  } catch (...) {
    return std::nullopt;
  }
}

// The counters asked for, by vCenter's names; rates are KB/s, cpu.usage is
// hundredths of a percent.
const char* const wanted[] = {"cpu.usage.average",  "mem.usage.average",    "disk.read.average",
                              "disk.write.average", "net.received.average", "net.transmitted.average"};

}  // namespace

result<service_metrics> vmware_provider::metrics(const provisiond::request_id& request,
                                                 const provisiond::cluster_id& cluster) {
  auto found = request_vm(
      request, cluster, errc::not_found,
      {"runtime.powerState", "runtime.maxCpuUsage", "summary.quickStats", "summary.config", "config.hardware.device"});
  if (!found) return found.error();
  auto& [s, vm] = *found;
  service_metrics m;
  m.provider = "vmware";
  m.resource_id = vm.ref.value;
  m.source = "quickStats";
  auto& v = vm.view;
  m.power_state = v.value("runtime.powerState");
  m.cpu_count = number(v, "summary.config.numCpu");
  m.memory_total_mib = number(v, "summary.config.memorySizeMB");
  m.memory_used_mib = number(v, "summary.quickStats.guestMemoryUsage");
  m.uptime_seconds = number(v, "summary.quickStats.uptimeSeconds");
  auto cpu_mhz = number(v, "summary.quickStats.overallCpuUsage");
  auto max_mhz = number(v, "runtime.maxCpuUsage");
  if (cpu_mhz && max_mhz && *max_mhz > 0) m.cpu_usage_percent = 100.0 * *cpu_mhz / *max_mhz;
  double disk_kb = 0;
  bool any_disk = false;
  for (auto& d : v.devices)
    if (d.is_disk()) {
      disk_kb += static_cast<double>(d.capacity_kb);
      any_disk = true;
    }
  if (any_disk) m.disk_total_gib = disk_kb / (1024.0 * 1024.0);
  json details{{"quickStats", json::object()}};
  for (auto& [k, val] : v.values)
    if (k.rfind("summary.quickStats.", 0) == 0) details["quickStats"][k.substr(19)] = val;

  // QueryPerf by counter id; the ids differ between vCenters, so they are
  // read once per cluster from perfCounter.
  std::map<std::string, int> ids;
  {
    std::lock_guard lock{counters_mutex_};
    ids = counters_[cluster.str()];
  }
  auto pm = s->content().perf_manager;
  if (ids.empty() && !pm.empty()) {
    auto r = s->call(retrieve_properties(s->content().property_collector, pm, {"perfCounter"}),
                     "vCenter PerformanceManager.perfCounter");
    if (!r) return r.error();
    ids = parse_perf_counters(*r);
    std::lock_guard lock{counters_mutex_};
    counters_[cluster.str()] = ids;
  }
  std::vector<int> query;
  for (auto* name : wanted)
    if (auto it = ids.find(name); it != ids.end()) query.push_back(it->second);
  if (!query.empty() && m.power_state == "poweredOn") {
    auto r = s->call(query_perf(pm, vm.ref, query), "vCenter QueryPerf of " + vm.ref.value);
    if (!r) return r.error();
    auto values = parse_perf_values(*r);
    auto at = [&](const char* name) -> std::optional<double> {
      auto id = ids.find(name);
      if (id == ids.end()) return std::nullopt;
      auto val = values.find(id->second);
      return val == values.end() ? std::nullopt : std::optional<double>(val->second);
    };
    m.source = "quickStats, QueryPerf";
    json perf = json::object();
    for (auto* name : wanted)
      if (auto x = at(name)) perf[name] = *x;
    details["queryPerf"] = perf;
    if (auto x = at("cpu.usage.average")) m.cpu_usage_percent = *x / 100.0;
    if (!m.memory_used_mib && m.memory_total_mib)
      if (auto x = at("mem.usage.average")) m.memory_used_mib = *m.memory_total_mib * (*x / 10000.0);
    if (auto x = at("disk.read.average")) m.disk_read_bytes_per_sec = *x * 1024;
    if (auto x = at("disk.write.average")) m.disk_write_bytes_per_sec = *x * 1024;
    if (auto x = at("net.received.average")) m.net_rx_bytes_per_sec = *x * 1024;
    if (auto x = at("net.transmitted.average")) m.net_tx_bytes_per_sec = *x * 1024;
  }
  m.details_json = details.dump();
  return m;
}

}  // namespace provisiond::providers::vmware::detail
