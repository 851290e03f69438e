#include "providers/detail/steps.hpp"

#include <openssl/rand.h>

#include <nlohmann/json.hpp>

#include "common/json.hpp"

namespace provisiond::providers::detail {

status refused_login_is_permanent(status login) {
  if (!login && login.error().field == "auth") return permanent_error("unauthenticated", login.error().message);
  return login;
}

result<step_outcome> created_outcome(result<std::optional<step_outcome>> r) {
  if (!r) return r.error();
  if (!*r) return permanent_error("bug", "a create step produced nothing");
  return std::move(**r);
}

result<std::string> root_password(events::secret_store& secrets, const std::string& request_id) {
  auto name = events::request_secret_name(request_id);
  auto stored = secrets.get(name);
  if (!stored) return stored.error();
  if (*stored) {
    auto j = parse_json_lenient(**stored);
    if (j.is_object() && j.contains("value") && j["value"].is_string()) return j["value"].get<std::string>();
  }
  static constexpr char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  unsigned char raw[24];
  if (RAND_bytes(raw, sizeof raw) != 1) return make_error(errc::retryable, "no randomness for a root password", "rand");
  std::string password;
  for (unsigned char c : raw) password += alphabet[c % (sizeof alphabet - 1)];
  if (auto st = secrets.put(name, nlohmann::json{{"kind", "password"}, {"value", password}}.dump()); !st)
    return st.error();
  return password;
}

}  // namespace provisiond::providers::detail
