#pragma once
/// Files built into the binary: the operator console (`console/**`, served
/// at /console/) and the OpenAPI document (`docs/openapi.json`, at
/// /openapi.json). cmake/embed_assets.cmake generates the table at build
/// time, so the binary needs no files beside it.
///
/// Development: with PROVISIOND_CONSOLE_DIR set, console files are read from
/// that folder on each request instead (edit, reload, no rebuild).

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace provisiond::gateway {

struct embedded_file {
  std::string_view name;  ///< "console/index.html", "openapi.json"
  std::string_view data;
};

/// Every embedded file (generated).
std::span<const embedded_file> embedded_assets();

struct asset {
  std::string data;
  std::string content_type;
};

/// An embedded file by name; for console files the development folder
/// first when PROVISIOND_CONSOLE_DIR is set. Names with "..", a backslash
/// or an empty segment are never found.
std::optional<asset> find_asset(std::string_view name);

/// The content type for a file name's extension (text/html, text/javascript, ...).
std::string content_type_of(std::string_view name);

}  // namespace provisiond::gateway
