#include "providers/openstack/catalog.hpp"

#include <nlohmann/json.hpp>

#include "common/json.hpp"
#include "providers/openstack/detail/json_fields.hpp"

namespace provisiond::providers::openstack {

using detail::str_or;

std::string select_endpoint(const std::string& catalog_json, const std::vector<std::string>& types,
                            const std::string& interface, const std::string& region) {
  auto catalog = parse_json_lenient(catalog_json);
  if (!catalog.is_array()) return {};
  for (const auto& type : types)  // in order of preference
    for (auto& svc : catalog) {
      if (str_or(svc, "type") != type || !svc.contains("endpoints")) continue;
      for (auto& ep : svc["endpoints"]) {
        if (str_or(ep, "interface") != interface) continue;
        if (!region.empty() && str_or(ep, "region_id", str_or(ep, "region")) != region) continue;
        auto url = str_or(ep, "url");
        while (!url.empty() && url.back() == '/') url.pop_back();
        return url;
      }
    }
  return {};
}

const std::vector<std::string>& volume_service_types() {
  static const std::vector<std::string> types{"block-storage", "volumev3", "volume", "volumev2", "block-store"};
  return types;
}

}  // namespace provisiond::providers::openstack
