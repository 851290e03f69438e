#include "providers/simulation/wire.hpp"

#include <cstdio>
#include <ctime>
#include <exception>

#include <nlohmann/json.hpp>

#include "common/ids.hpp"
#include "events/json_mapping.hpp"

namespace provisiond::providers::simulation::wire {

using nlohmann::json;

namespace {

// Reads the fields of one object, remembering the first that is missing or
// mistyped, so the caller can answer with its name instead of throwing.
class fields {
 public:
  fields(const json& j, std::string path) : j_(j), path_(std::move(path)) {
    if (!j_.is_object()) fail(path_.empty() ? "$" : path_, "expected an object");
  }

  template <class T>
  T get(const char* key) {
    if (err || !j_.contains(key)) {
      if (!err) fail(name(key), "required");
      return T{};
    }
    return convert<T>(key, j_.at(key));
  }

  template <class T>
  T get_or(const char* key, T fallback) {
    if (err || !j_.contains(key)) return fallback;
    return convert<T>(key, j_.at(key));
  }

  // A value decoded by `fn` (a json_mapping from_json, which throws).
  template <class F>
  auto mapped(const char* key, F fn) -> decltype(fn(json{})) {
    if (err || !j_.contains(key)) {
      if (!err) fail(name(key), "required");
      return {};
    }
    try {
      return fn(j_.at(key));
    } catch (const std::exception&) {
      fail(name(key), "malformed");
      return {};
    }
  }

  std::string id(const char* key) {
    auto v = get<std::string>(key);
    if (!err && !is_valid_id(v)) fail(name(key), "expected an id (1-64 characters of [A-Za-z0-9._-])");
    return v;
  }

  events::step_kind step(const char* key) {
    auto v = get<std::string>(key);
    auto s = events::parse_step(v);
    if (!err && !s) fail(name(key), "expected allocate, configure, activate or verify");
    return s.value_or(events::step_kind::allocate);
  }

  std::vector<events::resource_ref> refs(const char* key, bool required = true) {
    if (!required && !j_.contains(key)) return {};
    return mapped(key, [](const json& a) {
      std::vector<events::resource_ref> out;
      for (auto& r : a.get_ref<const json::array_t&>()) out.push_back(events::from_json<events::resource_ref>(r));
      return out;
    });
  }

  // An attempt number: an integer from 1 (what the engine sends), not a
  // negative or a value nlohmann would silently wrap into an int.
  int attempt(const char* key) {
    if (err) return 1;
    if (!j_.contains(key) || !j_[key].is_number_integer() || j_[key].get<long long>() < 1 ||
        j_[key].get<long long>() > 1'000'000) {
      fail(name(key), "expected an integer from 1 to 1000000");
      return 1;
    }
    return j_[key].get<int>();
  }

  std::optional<error> err;

 private:
  template <class T>
  T convert(const char* key, const json& v) {
    try {
      return v.get<T>();
    } catch (const std::exception&) {
      fail(name(key), "wrong type");
      return T{};
    }
  }
  std::string name(const char* key) const { return path_.empty() ? key : path_ + "." + key; }
  void fail(std::string field, std::string message) {
    if (!err) err = make_error(errc::invalid_argument, std::move(message), std::move(field));
  }

  const json& j_;
  std::string path_;
};

json refs_json(const std::vector<events::resource_ref>& refs) {
  json a = json::array();
  for (auto& r : refs) a.push_back(events::to_json(r));
  return a;
}

// Reads format_time's "2026-11-25T14:26:17.123Z" back into milliseconds.
std::optional<time_ms> parse_time(const std::string& s) {
  std::tm tm{};
  int ms = 0;
  char z = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &ms, &z) != 8 || z != 'Z')
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<time_ms>(::timegm(&tm)) * 1000 + ms;
}

std::optional<errc> parse_errc(const std::string& s) {
  for (int i = 0; i <= static_cast<int>(errc::internal); ++i)
    if (s == to_string(static_cast<errc>(i))) return static_cast<errc>(i);
  return std::nullopt;
}

}  // namespace

json to_json(const step_call& c) {
  return json{{"requestId", c.request_id.str()},
              {"tenantId", c.tenant_id.str()},
              {"orderId", c.order_id},
              {"type", c.type},
              {"region", c.region},
              {"clusterId", c.cluster_id.str()},
              {"resources", events::to_json(c.resources)},
              {"step", events::to_json(c.step)},
              {"attempt", c.attempt},
              {"idempotencyKey", c.idempotency_key},
              {"inputs", c.inputs}};
}

result<step_call> step_call_from(const json& j) {
  fields f{j, ""};
  step_call c;
  c.request_id = provisiond::request_id{f.id("requestId")};
  c.tenant_id = provisiond::tenant_id{f.get_or<std::string>("tenantId", "")};
  c.order_id = f.get_or<std::string>("orderId", "");
  c.type = f.get_or<std::string>("type", "");
  c.region = f.get_or<std::string>("region", "");
  c.cluster_id = provisiond::cluster_id{f.id("clusterId")};
  c.resources = f.mapped("resources", [](const json& r) { return events::from_json<events::resource_spec>(r); });
  c.step = f.step("step");
  c.attempt = f.attempt("attempt");
  // The draw of faults and delays is keyed by it: without one every call would draw alike.
  c.idempotency_key = f.get<std::string>("idempotencyKey");
  c.inputs = f.get_or<events::string_map>("inputs", {});
  if (f.err) return *f.err;
  return c;
}

json to_json(const step_outcome& o) {
  return json{{"resources", refs_json(o.resources)}, {"outputs", o.outputs}, {"awaitingInput", o.awaiting_input}};
}

result<step_outcome> step_outcome_from(const json& j) {
  fields f{j, "outcome"};
  step_outcome o;
  o.resources = f.refs("resources");
  o.outputs = f.get_or<events::string_map>("outputs", {});
  o.awaiting_input = f.get_or<bool>("awaitingInput", false);
  if (f.err) return *f.err;
  return o;
}

json to_json(const release_call& c) {
  return json{{"requestId", c.request_id.str()},
              {"clusterId", c.cluster_id.str()},
              {"step", events::to_json(c.step)},
              {"attempt", c.attempt},
              {"known", refs_json(c.known)}};
}

result<release_call> release_call_from(const json& j) {
  fields f{j, ""};
  release_call c;
  c.request_id = provisiond::request_id{f.id("requestId")};
  c.cluster_id = provisiond::cluster_id{f.id("clusterId")};
  c.step = f.step("step");
  c.attempt = f.attempt("attempt");
  c.known = f.refs("known", false);
  if (f.err) return *f.err;
  return c;
}

json to_json(const power_call& c) {
  return json{{"requestId", c.request_id.str()}, {"clusterId", c.cluster_id.str()}, {"on", c.on}};
}

result<power_call> power_call_from(const json& j) {
  fields f{j, ""};
  power_call c;
  c.request_id = provisiond::request_id{f.id("requestId")};
  c.cluster_id = provisiond::cluster_id{f.id("clusterId")};
  c.on = f.get<bool>("on");
  if (f.err) return *f.err;
  return c;
}

json error_to_json(const error& e) {
  return json{{"error", {{"code", to_string(e.code)}, {"field", e.field}, {"message", e.message}}}};
}

std::optional<error> error_from_json(const json& j) {
  if (!j.is_object() || !j.contains("error") || !j["error"].is_object()) return std::nullopt;
  fields f{j["error"], "error"};
  auto code = f.get<std::string>("code");
  error e;
  e.field = f.get_or<std::string>("field", "");
  e.message = f.get_or<std::string>("message", "");
  // An unknown code is still a verdict of the server: keep its message, never guess "permanent".
  e.code = parse_errc(code).value_or(errc::retryable);
  return e;
}

result<std::vector<ledger_entry>> ledger_from_json(const json& j) {
  if (!j.is_array()) return make_error(errc::invalid_argument, "expected an array", "ledger");
  std::vector<ledger_entry> out;
  for (std::size_t i = 0; i < j.size(); ++i) {
    fields f{j[i], "ledger[" + std::to_string(i) + "]"};
    ledger_entry e;
    e.resource_id = f.get<std::string>("resourceId");
    e.request_id = f.get<std::string>("requestId");
    e.step = f.step("step");
    e.kind = f.get<std::string>("kind");
    e.cluster_id = f.get_or<std::string>("clusterId", "");
    e.idempotency_key = f.get_or<std::string>("idempotencyKey", "");
    e.created_at = parse_time(f.get_or<std::string>("createdAt", "")).value_or(0);
    e.attributes = f.get_or<events::string_map>("attributes", {});
    if (f.err) return *f.err;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace provisiond::providers::simulation::wire
