#pragma once
/// Which partition a tenant lives on: the same function for
/// `provisioning.commands` and `provisioning.journal`, so the instance that
/// holds partition p of the one holds the tenant's changelog in the other.
/// It is Kafka's Java default (murmur2 of the key, positive, modulo the
/// partition count; librdkafka's `partitioner=murmur2`), so an Order saga
/// that keys commands by tenant id with a Java client lands on the owner
/// directly.

#include <cstdint>
#include <string_view>

namespace provisiond::events::kafka {

/// The admin streams (clusters, quotas, approval rules) live on the partition
/// of this key, as if it were a tenant: its owner is their one writer.
inline constexpr std::string_view admin_partition_key = "provisiond-admin";

/// Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2).
inline std::uint32_t murmur2(std::string_view key) noexcept {
  constexpr std::uint32_t seed = 0x9747b28c;
  constexpr std::uint32_t m = 0x5bd1e995;
  const auto* data = reinterpret_cast<const unsigned char*>(key.data());
  const std::size_t length = key.size();
  std::uint32_t h = seed ^ static_cast<std::uint32_t>(length);
  const std::size_t blocks = length / 4;
  for (std::size_t i = 0; i < blocks; ++i) {
    std::uint32_t k = std::uint32_t{data[i * 4]} | std::uint32_t{data[i * 4 + 1]} << 8 |
                      std::uint32_t{data[i * 4 + 2]} << 16 | std::uint32_t{data[i * 4 + 3]} << 24;
    k *= m;
    k ^= k >> 24;
    k *= m;
    h *= m;
    h ^= k;
  }
  const std::size_t tail = length & ~std::size_t{3};
  switch (length % 4) {
    case 3: h ^= std::uint32_t{data[tail + 2]} << 16; [[fallthrough]];
    case 2: h ^= std::uint32_t{data[tail + 1]} << 8; [[fallthrough]];
    case 1:
      h ^= std::uint32_t{data[tail]};
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return h;
}

/// The partition of `tenant` among `partitions` (> 0).
inline std::int32_t partition_of(std::string_view tenant, std::int32_t partitions) noexcept {
  return static_cast<std::int32_t>((murmur2(tenant) & 0x7fffffff) % static_cast<std::uint32_t>(partitions));
}

}  // namespace provisiond::events::kafka
