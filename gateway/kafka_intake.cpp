#include "gateway/kafka_intake.hpp"

#include <cstdlib>
#include <string_view>

#include "common/metrics.hpp"

namespace provisiond::gateway {

namespace kafka = provisiond::events::kafka;

namespace {

void count_command(const char* outcome) {
  metrics::registry::global()
      .get_counter("provisiond_commands_total", "Kafka commands consumed, by result", {{"result", outcome}})
      .inc();
}

// Tests: PROVISIOND_FAILPOINT=intake-unavailable=N makes the engine refuse
// the intake's first N tries "for now", as a stalled journal would.
bool injected_unavailable() {
  static std::atomic<long> left{[] {
    const char* fp = std::getenv("PROVISIOND_FAILPOINT");
    constexpr std::string_view prefix = "intake-unavailable=";
    if (!fp || std::string_view(fp).rfind(prefix, 0) != 0) return 0L;
    return std::strtol(fp + prefix.size(), nullptr, 10);
  }()};
  return left.load() > 0 && left.fetch_sub(1) > 0;
}

// Engine errors that pass: the same command is tried again.
bool worth_waiting_for(errc code) {
  // fenced: the partition is being handed over; its new owner takes it.
  return code == errc::unavailable || code == errc::internal || code == errc::retryable || code == errc::fenced;
}

}  // namespace

kafka_intake::kafka_intake(actors::engine* engine, std::string bootstrap, kafka_config cfg, std::string state_dir)
    : engine_(engine),
      consumer_(std::move(bootstrap), std::move(cfg), std::move(state_dir),
                [this](const kafka::consumed_message& m) { return handle(m); }) {}

void kafka_intake::scale_out(std::function<std::optional<std::int32_t>(const kafka_command&)> partition_for,
                             kafka::rebalance_hooks hooks) {
  partition_for_ = std::move(partition_for);
  consumer_.set_rebalance_hooks(std::move(hooks));
}

status kafka_intake::start() {
  return consumer_.start();
}
void kafka_intake::stop() {
  consumer_.stop();
}
bool kafka_intake::consuming() const {
  return consumer_.consuming();
}
std::uint64_t kafka_intake::accepted() const {
  return accepted_.load();
}
std::uint64_t kafka_intake::dead_lettered() const {
  return consumer_.dead_lettered();
}

result<bool> kafka_intake::execute(const kafka_command& cmd) {
  if (injected_unavailable()) return make_error(errc::unavailable, "the engine did not answer in time (failpoint)");
  if (!cmd.is_provision()) {
    auto action = events::parse_lifecycle_action(cmd.name);
    if (!action) return make_error(errc::invalid_argument, "unknown command " + cmd.name, "command");
    auto r = engine_->lifecycle(request_id{cmd.request_id}, *action, dedupe_key(cmd), tenant_id{cmd.tenant_id});
    if (!r) return r.error();
    return false;
  }
  auto r = engine_->submit(actors::submit_command{cmd.spec, dedupe_key(cmd), request_id{cmd.request_id}});
  if (!r) return r.error();
  return r->duplicate;
}

kafka::verdict kafka_intake::handle(const kafka::consumed_message& m) {
  if (!held_ || held_->partition != m.partition || held_->offset != m.offset) {
    held_.reset();
    auto cmd = parse_command(m.value);
    if (!cmd) return kafka::verdict::dead_letter(cmd.error());
    held_ = held_command{m.partition, m.offset, std::move(*cmd)};
  }
  if (partition_for_) {
    if (auto home = partition_for_(held_->command); home && *home != m.partition) {
      held_.reset();
      return kafka::verdict::forward(*home);
    }
  }
  auto r = execute(held_->command);
  if (!r && worth_waiting_for(r.error().code)) {
    auto e = r.error();
    e.message = "command " + held_->command.command_id + ": " + e.message;
    return kafka::verdict::retry(std::move(e));
  }
  if (r && published_ && !published_())
    return kafka::verdict::retry(make_error(errc::unavailable, "command " + held_->command.command_id +
                                                                   ": recorded, but not yet on the changelog"));
  held_.reset();
  if (!r) return kafka::verdict::dead_letter(r.error());
  ++accepted_;
  count_command(*r ? "duplicate" : "accepted");
  return kafka::verdict::commit();
}

}  // namespace provisiond::gateway
