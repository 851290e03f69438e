#include "cli/api.hpp"

#include <algorithm>
#include <cctype>

#include "cli/table.hpp"

namespace provisiond::cli {

namespace {

providers::http::client_options client_options_for(const settings& s) {
  providers::http::client_options o;
  o.connect_timeout = std::min(s.timeout, std::chrono::milliseconds(10000));
  o.io_timeout = s.timeout;
  o.total_timeout = s.timeout;
  o.max_response_bytes = 64 << 20;  // a long event history is still one document
  return o;
}

}  // namespace

api::api(settings s) : settings_(std::move(s)), client_(client_options_for(settings_)) {}

header_list api::common_headers() const {
  header_list h{{"User-Agent", "provisionctl/0.1"}, {"Accept", "application/json"}};
  if (!settings_.token.empty()) h.emplace_back("Authorization", "Bearer " + settings_.token);
  return h;
}

reply api::call(const std::string& method, const std::string& target, const std::optional<std::string>& body,
                const header_list& extra) {
  providers::http::request req;
  req.method = method;
  req.url = settings_.url + target;
  req.headers = common_headers();
  if (body) {
    req.headers.emplace_back("Content-Type", "application/json");
    req.body = *body;
  }
  for (const auto& h : extra) req.headers.push_back(h);
  reply out;
  auto r = client_.send(req);
  if (!r) {
    out.failure = r.error().message;
    return out;
  }
  out.status = r->status;
  out.body = std::move(r->body);
  out.json = nlohmann::json::parse(out.body, nullptr, false);
  return out;
}

std::string encode_component(std::string_view text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : text) {
    if (std::isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += hex[ch >> 4];
      out += hex[ch & 15];
    }
  }
  return out;
}

std::string describe_failure(const reply& r, const std::string& url) {
  if (r.status == 0) return "no answer from " + url + ": " + printable(r.failure);
  const auto& j = r.json;
  if (!j.is_discarded() && j.is_object() && j.contains("error") && j["error"].is_object()) {
    const auto& e = j["error"];
    std::string msg = e.contains("message") && e["message"].is_string() ? e["message"].get<std::string>() : "";
    std::string out = "HTTP " + std::to_string(r.status) + ": " + printable(msg.empty() ? r.body : msg);
    if (e.contains("field") && e["field"].is_string() && !e["field"].get<std::string>().empty())
      out += " (field " + printable(e["field"].get<std::string>()) + ")";
    return out;
  }
  std::string start = r.body.substr(0, 200);
  return "HTTP " + std::to_string(r.status) + (start.empty() ? std::string{} : ": " + printable(start));
}

}  // namespace provisiond::cli
