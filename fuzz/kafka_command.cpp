// The kafka_command target: one record value of provisioning.commands.
#include <algorithm>
#include <string>

#include "common/ids.hpp"
#include "events/codec.hpp"
#include "fuzz/checks.hpp"
#include "fuzz/entries.hpp"
#include "gateway/commands.hpp"

namespace provisiond::fuzz {

namespace {

// What the intake relies on once a command parsed.
finding check_command(const gateway::kafka_command& c) {
  if (!is_one_of(gateway::command_names, c.name)) return "parse_command: unknown command " + c.name + " accepted";
  if (!is_valid_id(c.tenant_id)) return "parse_command: invalid tenant id accepted";
  if (c.command_id.empty() || c.command_id.size() > 128) return "parse_command: commandId of a bad length accepted";
  if (gateway::dedupe_key(c) != "cmd/" + c.command_id) return "dedupe_key: not cmd/<commandId>";
  if (!c.is_provision()) {
    if (!is_valid_id(c.request_id)) return "parse_command: " + c.name + " without a valid requestId accepted";
    return std::nullopt;
  }
  if (!c.request_id.empty() && !is_valid_id(c.request_id)) return "parse_command: invalid chosen request id accepted";
  if (c.spec.tenant_id != c.tenant_id) return "parse_command: the spec's tenant is not the command's";
  events::event e = c.spec;
  auto back = events::decode_payload(events::type_name(e), events::schema_version(e), events::encode_payload(e));
  if (!back || !(*back == e)) return "parse_command: the provision's request_submitted changes through the codec";
  return std::nullopt;
}

}  // namespace

finding kafka_command_input(std::string_view bytes) {
  auto c = gateway::parse_command(bytes);
  if (!c) return check_refusal(c.error(), "parse_command");
  return check_command(*c);
}

}  // namespace provisiond::fuzz
