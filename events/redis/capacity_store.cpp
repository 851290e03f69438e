#include "events/redis/capacity_store.hpp"

namespace provisiond::events::redis {

namespace {

const char* const dims[4] = {"cpu", "memoryGb", "storageGb", "vmSlots"};

// KEYS[1] used (hash), KEYS[2] holders (hash request → "c,m,s,v"), KEYS[3]
// known (the marker); ARGV[1] request, ARGV[2..5] want, ARGV[6..9] total.
// Returns "\1" when the counters are not known.
const std::string reserve_script = R"lua(
if redis.call('EXISTS', KEYS[3]) == 0 then return '\1' end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return '' end
local dims = {'cpu', 'memoryGb', 'storageGb', 'vmSlots'}
for i = 1, 4 do
  local used = tonumber(redis.call('HGET', KEYS[1], dims[i]) or '0')
  local want = tonumber(ARGV[1 + i])
  local total = tonumber(ARGV[5 + i])
  if used + want > total then
    return dims[i] .. ' needs ' .. want .. ', ' .. math.max(0, total - used) .. ' free'
  end
end
for i = 1, 4 do redis.call('HINCRBY', KEYS[1], dims[i], ARGV[1 + i]) end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. ',' .. ARGV[3] .. ',' .. ARGV[4] .. ',' .. ARGV[5])
return ''
)lua";

// KEYS[1] used, KEYS[2] holders; ARGV[1] request.
const std::string release_script = R"lua(
local held = redis.call('HGET', KEYS[2], ARGV[1])
if not held then return 0 end
local dims = {'cpu', 'memoryGb', 'storageGb', 'vmSlots'}
local i = 1
for v in string.gmatch(held, '[^,]+') do
  redis.call('HINCRBY', KEYS[1], dims[i], -tonumber(v))
  i = i + 1
end
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
)lua";

// KEYS[1] used, KEYS[2] holders, KEYS[3] known; ARGV: request, c, m, s, v, request, c, m, s, v, ...
const std::string rebuild_script = R"lua(
redis.call('DEL', KEYS[1], KEYS[2])
local dims = {'cpu', 'memoryGb', 'storageGb', 'vmSlots'}
for i = 1, 4 do redis.call('HSET', KEYS[1], dims[i], 0) end
for j = 1, #ARGV, 5 do
  for i = 1, 4 do redis.call('HINCRBY', KEYS[1], dims[i], ARGV[j + i]) end
  redis.call('HSET', KEYS[2], ARGV[j], ARGV[j + 1] .. ',' .. ARGV[j + 2] .. ',' .. ARGV[j + 3] .. ',' .. ARGV[j + 4])
end
redis.call('SET', KEYS[3], '1')
return 1
)lua";

// The same keys and arguments: only when the marker is missing, and holders
// Redis has already (reserved since the loss) are kept as they are.
const std::string restore_script = R"lua(
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
local dims = {'cpu', 'memoryGb', 'storageGb', 'vmSlots'}
for i = 1, 4 do redis.call('HINCRBY', KEYS[1], dims[i], 0) end
for j = 1, #ARGV, 5 do
  if redis.call('HEXISTS', KEYS[2], ARGV[j]) == 0 then
    for i = 1, 4 do redis.call('HINCRBY', KEYS[1], dims[i], ARGV[j + i]) end
    redis.call('HSET', KEYS[2], ARGV[j], ARGV[j + 1] .. ',' .. ARGV[j + 2] .. ',' .. ARGV[j + 3] .. ',' .. ARGV[j + 4])
  end
end
redis.call('SET', KEYS[3], '1')
return 1
)lua";

std::vector<std::string> holder_args(const std::vector<std::pair<std::string, amounts>>& holders) {
  std::vector<std::string> args;
  for (auto& [id, a] : holders) {
    args.push_back(id);
    for (auto v : a) args.push_back(std::to_string(v));
  }
  return args;
}

}  // namespace

capacity_store::capacity_store(std::shared_ptr<client> redis, std::string prefix)
    : redis_(std::move(redis)), prefix_(std::move(prefix)) {}

result<std::optional<std::string>> capacity_store::reserve(const std::string& cluster, const std::string& request_id,
                                                           const amounts& want, const amounts& total) {
  std::vector<std::string> args{request_id};
  for (auto v : want) args.push_back(std::to_string(v));
  for (auto v : total) args.push_back(std::to_string(v));
  auto r = redis_->eval(reserve_script, {used_key(cluster), holders_key(cluster), known_key(cluster)}, args);
  if (!r) return r.error();
  if (r->str == "\1") return std::optional<std::string>{};
  return std::optional<std::string>{r->str};
}

result<bool> capacity_store::release(const std::string& cluster, const std::string& request_id) {
  auto r = redis_->eval(release_script, {used_key(cluster), holders_key(cluster)}, {request_id});
  if (!r) return r.error();
  return r->integer == 1;
}

result<std::pair<amounts, long long>> capacity_store::used(const std::string& cluster) {
  amounts out{};
  for (int i = 0; i < 4; ++i) {
    auto r = redis_->command({"HGET", used_key(cluster), dims[i]});
    if (!r) return r.error();
    out[i] = r->is_nil() ? 0 : std::stoll(r->str);
  }
  auto n = redis_->command({"HLEN", holders_key(cluster)});
  if (!n) return n.error();
  return std::pair{out, n->integer};
}

status capacity_store::rebuild(const std::string& cluster,
                               const std::vector<std::pair<std::string, amounts>>& holders) {
  auto r = redis_->eval(rebuild_script, {used_key(cluster), holders_key(cluster), known_key(cluster)},
                        holder_args(holders));
  if (!r) return r.error();
  return ok();
}

result<bool> capacity_store::restore(const std::string& cluster,
                                     const std::vector<std::pair<std::string, amounts>>& holders) {
  auto r = redis_->eval(restore_script, {used_key(cluster), holders_key(cluster), known_key(cluster)},
                        holder_args(holders));
  if (!r) return r.error();
  return r->integer == 1;
}

}  // namespace provisiond::events::redis
