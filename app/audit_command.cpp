#include "app/audit_command.hpp"

#include <cstdio>
#include <filesystem>

#include "common/log.hpp"
#include "events/rocksdb/rocksdb_audit.hpp"

namespace provisiond::app {

std::string checkpoint_key_path(const config& cfg) {
  return cfg.audit.checkpoint_key_file.empty() ? cfg.data_dir + "/audit.key" : cfg.audit.checkpoint_key_file;
}

int audit_verify(const config& cfg, const std::string& request_id) {
  auto fail = [](const error& e) {
    std::fprintf(stderr, "audit verify: %s%s\n", e.field.empty() ? "" : (e.field + ": ").c_str(), e.message.c_str());
    return 2;
  };
  auto dir = cfg.data_dir + "/journal";
  // Opening would create an empty journal: a wrong --data-dir must say so.
  if (!std::filesystem::exists(dir + "/CURRENT"))
    return fail(make_error(errc::not_found, "no journal in " + dir, "--data-dir"));
  // The key is only read here, never created: a missing key is reported.
  std::optional<events::checkpoint_key> key;
  auto loaded = events::load_checkpoint_key(checkpoint_key_path(cfg), false, "audit.checkpointKeyFile");
  if (loaded) key = *loaded;
  else if (loaded.error().code != errc::not_found) return fail(loaded.error());
  auto store = events::rocksdb_adapter::store::open(dir, durability::durable);
  if (!store) return fail(store.error());
  auto stream = request_id.empty() ? std::string{} : events::stream_for_request(request_id);
  auto report = events::rocksdb_adapter::verify_journal(**store, key, stream);
  if (!report) return fail(report.error());
  std::printf("audit verify: journal %s\n", dir.c_str());
  if (!key) std::printf("no checkpoint key at %s: checkpoints cannot be checked\n", checkpoint_key_path(cfg).c_str());
  std::fputs(events::render(*report, !request_id.empty()).c_str(), stdout);
  std::fflush(stdout);
  return report->broken ? 1 : 0;
}

}  // namespace provisiond::app
