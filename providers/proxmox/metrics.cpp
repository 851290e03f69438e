// The Proxmox provider's live metrics: the latest rrddata sample (rates and
// CPU share over the last minute) and status/current (sizes and totals).
#include "providers/proxmox/detail/provider.hpp"

namespace provisiond::providers::proxmox::detail {

using nlohmann::json;

result<service_metrics> proxmox_provider::metrics(const provisiond::request_id& request,
                                                  const provisiond::cluster_id& cluster) {
  auto found = request_vm(request, cluster, errc::not_found);
  if (!found) return found.error();
  auto& [s, vm] = *found;
  auto base = "/nodes/" + percent_encode(vm.node) + "/qemu/" + std::to_string(vm.vmid);
  auto current = vm_status(*s, vm);
  if (!current) return current.error();
  auto rrd = s->data("GET", base + "/rrddata", {{"timeframe", "hour"}, {"cf", "AVERAGE"}},
                     "Proxmox rrddata of VM " + std::to_string(vm.vmid));
  if (!rrd) return rrd.error();
  // The newest sample that has figures (the last slots are often empty).
  json sample = json::object();
  if (rrd->is_array())
    for (auto it = rrd->rbegin(); it != rrd->rend(); ++it)
      if (num_of(*it, "cpu")) {
        sample = *it;
        break;
      }
  constexpr double mib = 1024.0 * 1024, gib = mib * 1024;
  auto scaled = [](std::optional<double> v, double by) { return v ? std::optional<double>(*v / by) : std::nullopt; };
  auto& c = *current;
  service_metrics m;
  m.provider = "proxmox";
  m.resource_id = std::to_string(vm.vmid);
  m.source = "rrddata+status/current";
  m.power_state = str_of(c, "status");
  m.cpu_count = num_of(c, "cpus") ? num_of(c, "cpus") : num_of(sample, "maxcpu");
  auto cpu = num_of(sample, "cpu") ? num_of(sample, "cpu") : num_of(c, "cpu");
  m.cpu_usage_percent = cpu ? std::optional<double>(*cpu * 100) : std::nullopt;
  m.memory_total_mib = scaled(num_of(c, "maxmem") ? num_of(c, "maxmem") : num_of(sample, "maxmem"), mib);
  m.memory_used_mib = scaled(num_of(sample, "mem") ? num_of(sample, "mem") : num_of(c, "mem"), mib);
  m.disk_total_gib = scaled(num_of(c, "maxdisk") ? num_of(c, "maxdisk") : num_of(sample, "maxdisk"), gib);
  m.disk_read_bytes_per_sec = num_of(sample, "diskread");
  m.disk_write_bytes_per_sec = num_of(sample, "diskwrite");
  m.net_rx_bytes_per_sec = num_of(sample, "netin");
  m.net_tx_bytes_per_sec = num_of(sample, "netout");
  m.disk_read_bytes = num_of(c, "diskread");
  m.disk_write_bytes = num_of(c, "diskwrite");
  m.net_rx_bytes = num_of(c, "netin");
  m.net_tx_bytes = num_of(c, "netout");
  m.uptime_seconds = num_of(c, "uptime");
  m.details_json = json{{"vmid", vm.vmid}, {"node", vm.node}, {"statusCurrent", c}, {"rrddata", sample}}.dump();
  return m;
}

}  // namespace provisiond::providers::proxmox::detail
