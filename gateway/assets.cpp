#include "gateway/assets.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace provisiond::gateway {

namespace {

constexpr std::string_view console_prefix = "console/";

bool is_safe_name(std::string_view name) {
  if (name.empty() || name.front() == '/' || name.back() == '/') return false;
  if (name.find("..") != std::string_view::npos || name.find('\\') != std::string_view::npos ||
      name.find("//") != std::string_view::npos || name.find('\0') != std::string_view::npos)
    return false;
  return true;
}

std::optional<std::string> read_dev_file(std::string_view name) {
  const char* dir = std::getenv("PROVISIOND_CONSOLE_DIR");
  if (!dir || !*dir || !name.starts_with(console_prefix)) return std::nullopt;
  std::ifstream in{std::string(dir) + "/" + std::string(name.substr(console_prefix.size())), std::ios::binary};
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

std::string content_type_of(std::string_view name) {
  auto dot = name.rfind('.');
  auto ext = dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "json") return "application/json";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "ico") return "image/x-icon";
  return "application/octet-stream";
}

std::optional<asset> find_asset(std::string_view name) {
  if (!is_safe_name(name)) return std::nullopt;
  if (auto dev = read_dev_file(name)) return asset{std::move(*dev), content_type_of(name)};
  for (const auto& f : embedded_assets())
    if (f.name == name) return asset{std::string(f.data), content_type_of(name)};
  return std::nullopt;
}

}  // namespace provisiond::gateway
