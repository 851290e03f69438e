#include "events/redis/lease.hpp"

namespace provisiond::events::redis {

namespace {

// KEYS[1] lease, KEYS[2] token counter; ARGV[1] owner, ARGV[2] ttl ms, ARGV[3] floor.
const std::string acquire_script = R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local t = redis.call('INCR', KEYS[2])
local floor = tonumber(ARGV[3])
if t <= floor then
  t = floor + 1
  redis.call('SET', KEYS[2], t)
end
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. t, 'PX', ARGV[2])
return t
)lua";

// KEYS[1] lease; ARGV[1] expected value, ARGV[2] ttl ms.
const std::string renew_script = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
)lua";

// KEYS[1] lease; ARGV[1] expected value.
const std::string release_script = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua";

std::string value_of(const lease& l) {
  return l.owner + ":" + std::to_string(l.token);
}

}  // namespace

lease_store::lease_store(std::shared_ptr<client> redis, std::string prefix)
    : redis_(std::move(redis)), prefix_(std::move(prefix)) {}

result<std::optional<lease>> lease_store::acquire(const std::string& name, const std::string& owner,
                                                  std::uint64_t ttl_ms, std::uint64_t floor) {
  auto r = redis_->eval(acquire_script, {key(name), prefix_ + "token:" + name},
                        {owner, std::to_string(ttl_ms), std::to_string(floor)});
  if (!r) return r.error();
  if (r->type != reply::kind::integer) return std::optional<lease>{};
  return std::optional<lease>{lease{key(name), owner, static_cast<std::uint64_t>(r->integer)}};
}

result<bool> lease_store::renew(const lease& l, std::uint64_t ttl_ms) {
  auto r = redis_->eval(renew_script, {l.key}, {value_of(l), std::to_string(ttl_ms)});
  if (!r) return r.error();
  return r->integer == 1;
}

result<bool> lease_store::release(const lease& l) {
  auto r = redis_->eval(release_script, {l.key}, {value_of(l)});
  if (!r) return r.error();
  return r->integer == 1;
}

result<std::optional<std::string>> lease_store::holder(const std::string& name) {
  auto r = redis_->command({"GET", key(name)});
  if (!r) return r.error();
  if (r->is_nil()) return std::optional<std::string>{};
  return std::optional<std::string>{r->str};
}

}  // namespace provisiond::events::redis
