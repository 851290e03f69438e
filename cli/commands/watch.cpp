// watch: follows GET /v1/events/stream (Server-Sent Events) and prints one
// line per event, reconnecting with Last-Event-ID after a dropped
// connection (or the server's `event: dropped`), so nothing is missed or
// printed twice. The shared HTTP client returns whole bodies only; the
// stream is read by body_stream (cli/stream.hpp).
#include <chrono>
#include <thread>
#include <variant>

#include "cli/commands.hpp"
#include "cli/event_states.hpp"
#include "cli/stream.hpp"
#include "cli/table.hpp"
#include "cli/views.hpp"

namespace provisiond::cli {

namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Three missed heartbeats (the server sends one every 15 s): the connection is dead.
constexpr auto idle_limit = 45s;
// After a connection that worked, how long reconnecting may keep failing.
constexpr auto reconnect_budget = 30s;

struct watch_options {
  std::string target;  // path and query
  std::string request;
  std::optional<std::string> until_state;
  std::optional<long long> count;
  std::optional<std::string> last_event_id;
};

// The options, or the exit code of a usage error.
std::variant<watch_options, int> parse_options(context& c, const invocation& inv) {
  watch_options o;
  std::string query;
  auto add = [&](const char* key, const std::string& v) {
    query += std::string(query.empty() ? "?" : "&") + key + "=" + encode_component(v);
  };
  if (auto r = inv.value("--request")) {
    o.request = *r;
    add("requestId", *r);
  }
  if (auto t = inv.value("--tenant")) add("tenantId", *t);
  std::string types;
  for (const auto& t : inv.values("--type")) types += (types.empty() ? "" : ",") + t;
  if (!types.empty()) add("type", types);
  o.target = "/v1/events/stream" + query;
  if (auto s = inv.value("--until-state")) {
    if (!is_lifecycle_state(*s)) return c.usage(inv, "--until-state: expected one of " + lifecycle_state_list());
    o.until_state = *s;
  }
  if (auto n = inv.value("--count")) {
    auto v = parse_integer("--count", *n);
    if (!v || *v < 1) return c.usage(inv, "--count: expected a positive integer, got '" + *n + "'");
    o.count = *v;
  }
  if (auto id = inv.value("--last-event-id")) {
    auto v = parse_integer("--last-event-id", *id);
    if (!v || *v < 0) return c.usage(inv, "--last-event-id: expected a stream position (0, 1, ...), got '" + *id + "'");
    o.last_event_id = std::to_string(*v);
  }
  return o;
}

std::string pad(std::string s, std::size_t width) {
  s = printable(s);
  if (s.size() < width) s.resize(width, ' ');
  return s + " ";
}

class watcher {
 public:
  watcher(context& c, watch_options o) : c_(c), o_(std::move(o)) {
    if (o_.last_event_id) parser_.set_last_event_id(*o_.last_event_id);
    if (c_.client.config().watch_deadline) deadline_ = clock_type::now() + *c_.client.config().watch_deadline;
  }

  int run() {
    bool connected_once = false;
    bool failing = false;                    // reconnecting has failed since the last stream
    clock_type::time_point failing_since{};  // ... from then on
    auto delay = 250ms;
    std::string why;
    while (true) {
      if (past_deadline()) return gave_up("no end condition met within --timeout");
      auto outcome = follow_once(connected_once, why);
      if (outcome.finished) return outcome.code;
      if (outcome.connected) {
        connected_once = true;
        failing = false;
        delay = 250ms;
      } else if (!connected_once) {
        return unavailable(why);  // a first connection that fails: say so at once
      } else if (!failing) {
        failing = true;
        failing_since = clock_type::now();
      } else if (clock_type::now() - failing_since > reconnect_budget) {
        return unavailable(why + " (reconnecting for " + std::to_string(reconnect_budget.count()) + " s)");
      } else {
        delay = std::min<std::chrono::milliseconds>(delay * 2, 5s);
      }
      auto wait = outcome.connected ? parser_.retry().value_or(500ms) : delay;
      if (deadline_) wait = std::min<std::chrono::milliseconds>(wait, left());
      std::this_thread::sleep_for(wait);
    }
  }

 private:
  struct outcome {
    bool finished = false;  // stop with `code`
    int code = 0;
    bool connected = false;  // a 200 stream was read (reconnect soon)
  };

  bool past_deadline() const { return deadline_ && clock_type::now() >= *deadline_; }
  std::chrono::milliseconds left() const {
    return std::max(0ms, std::chrono::duration_cast<std::chrono::milliseconds>(*deadline_ - clock_type::now()));
  }

  int unavailable(const std::string& why) {
    c_.err << "provisionctl: event stream at " << printable(c_.client.config().url) << ": " << printable(why) << "\n";
    return to_int(exit_code::unavailable);
  }
  int gave_up(const std::string& why) {
    c_.err << "provisionctl: watch: " << why << "\n";
    return to_int(exit_code::unavailable);
  }

  header_list headers() const {
    header_list h;
    for (const auto& kv : c_.client.common_headers())
      if (kv.first != "Accept") h.push_back(kv);
    h.emplace_back("Accept", "text/event-stream");
    h.emplace_back("Cache-Control", "no-cache");
    if (!parser_.last_event_id().empty()) h.emplace_back("Last-Event-ID", parser_.last_event_id());
    return h;
  }

  // One connection: open it, then read events until it ends or we are done.
  outcome follow_once(bool connected_before, std::string& why) {
    auto timeout = c_.client.config().timeout;
    if (deadline_) timeout = std::min(timeout, std::max(1ms, left()));
    auto opened = body_stream::open(c_.client.config().url + o_.target, headers(), timeout);
    if (!opened) {
      if (opened.error().code != errc::retryable) {
        c_.err << "provisionctl: " << printable(opened.error().message) << "\n";
        return {true, to_int(opened.error().code == errc::unsupported ? exit_code::usage : exit_code::unavailable)};
      }
      why = opened.error().message;
      return {};
    }
    auto& s = **opened;
    if (s.status() != 200) {
      reply r;
      r.status = s.status();
      r.body = s.read_all(std::min(timeout, std::chrono::milliseconds(5000)));
      r.json = nlohmann::json::parse(r.body, nullptr, false);
      if (r.code() == exit_code::unavailable && connected_before) {  // a restart: try again
        why = describe_failure(r, c_.client.config().url);
        return {};
      }
      return {true, c_.fail(r)};
    }
    if (auto type = s.header("content-type"); type.find("text/event-stream") == std::string::npos) {
      c_.err << "provisionctl: " << o_.target << " answered " << printable(type) << ", not text/event-stream\n";
      return {true, to_int(exit_code::unavailable)};
    }
    if (!connected_before && o_.until_state && !o_.request.empty() && !o_.last_event_id) {
      if (auto done = already_there()) return {true, *done};
    }
    if (!connected_before && !c_.json())
      c_.out << pad("TIME", 24) << pad("POSITION", 8) << pad("REQUEST", 24) << pad("TYPE", 24) << "DETAIL\n"
             << std::flush;
    return read_events(s, why);
  }

  // With --request and --until-state: the request may be there already
  // (asked after the stream is open, so no change in between is missed).
  std::optional<int> already_there() {
    auto r = c_.client.get("/v1/requests/" + encode_component(o_.request));
    if (!r.ok()) return c_.fail(r);
    if (field_text(r.json, "state") != *o_.until_state) return std::nullopt;
    c_.err << "provisionctl: " << printable(o_.request) << " is " << *o_.until_state << "\n";
    return 0;
  }

  outcome read_events(body_stream& s, std::string& why) {
    parser_.reset_partial();
    std::string bytes;
    std::vector<sse_event> events;
    while (true) {
      auto wait = std::chrono::milliseconds(idle_limit);
      if (deadline_) {
        if (past_deadline()) return {true, gave_up("no end condition met within --timeout")};
        wait = std::min(wait, left());
      }
      bytes.clear();
      auto st = s.read(bytes, wait);
      if (st == body_stream::read_status::timeout) {
        if (deadline_ && past_deadline()) continue;
        why = "no heartbeat for " + std::to_string(idle_limit.count()) + " s";
        return {false, 0, true};
      }
      if (st != body_stream::read_status::data) {
        why = st == body_stream::read_status::closed ? "the server closed the stream" : "reading the stream failed";
        return {false, 0, true};
      }
      events.clear();
      if (!parser_.feed(bytes, events)) {
        c_.err << "provisionctl: the event stream sent a line over " << (sse_parser::max_bytes >> 20) << " MiB\n";
        return {true, to_int(exit_code::unavailable)};
      }
      for (const auto& e : events) {
        if (e.type == "dropped") {
          resume_after_drop(e);
          why = "dropped by the server";
          return {false, 0, true};
        }
        if (auto done = handle(e)) return {true, *done};
      }
    }
  }

  // The server gave up on us (too slow) and says where to resume.
  void resume_after_drop(const sse_event& e) {
    auto d = nlohmann::json::parse(e.data, nullptr, false);
    std::string last = d.is_object() && d.contains("lastEventId") ? text_of(d["lastEventId"]) : "";
    if (!last.empty()) parser_.set_last_event_id(last);
    c_.err << "provisionctl: the server dropped this reader (" << printable(field_text(d, "reason"))
           << "); resuming after " << printable(parser_.last_event_id()) << "\n";
  }

  // Prints one event; the exit code once an end condition is met.
  std::optional<int> handle(const sse_event& e) {
    auto j = nlohmann::json::parse(e.data, nullptr, false);
    const auto& type = j.is_object() && j.contains("type") ? text_of(j["type"]) : e.type;
    const nlohmann::json& data = j.is_object() && j.contains("data") ? j["data"] : nlohmann::json();
    auto entered = state_entered(type, data);
    if (c_.json()) {
      if (j.is_discarded())
        c_.err << "provisionctl: event " << printable(e.id) << " carries data that is not JSON\n";
      else  // as sent when it is one line
        c_.out << (e.data.find('\n') == std::string::npos ? e.data : j.dump()) << "\n";
    } else {
      std::string who = field_text(j, "requestId");
      if (who.empty()) who = field_text(j, "stream");
      std::string detail = j.is_discarded() ? e.data : event_detail(type, data);
      if (entered) detail += (detail.empty() ? "→ " : " → ") + *entered;
      std::string line =
          pad(field_text(j, "time"), 24) + pad(e.id, 8) + pad(who, 24) + pad(type, 24) + printable(detail);
      while (!line.empty() && line.back() == ' ') line.pop_back();
      c_.out << line << "\n";
    }
    c_.out.flush();
    if (!c_.out) return to_int(exit_code::ok);  // nobody reads any more
    ++printed_;
    if (o_.count && printed_ >= *o_.count) return 0;
    if (o_.until_state && entered == *o_.until_state &&
        (o_.request.empty() || field_text(j, "requestId") == o_.request))
      return 0;
    return std::nullopt;
  }

  context& c_;
  watch_options o_;
  sse_parser parser_;
  std::optional<clock_type::time_point> deadline_;
  long long printed_ = 0;
};

}  // namespace

int run_watch(context& c, const invocation& inv) {
  auto o = parse_options(c, inv);
  if (auto* code = std::get_if<int>(&o)) return *code;
  return watcher{c, std::move(std::get<watch_options>(o))}.run();
}

}  // namespace provisiond::cli
