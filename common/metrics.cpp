#include "common/metrics.hpp"

#include <cmath>
#include <cstdio>

namespace provisiond::metrics {

void counter::inc(double v) noexcept { milli_.fetch_add(static_cast<std::uint64_t>(std::llround(v * 1000))); }
double counter::value() const noexcept { return static_cast<double>(milli_.load()) / 1000.0; }

histogram::histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) counts_[i] = 0;
}

void histogram::observe(double v) noexcept {
  std::size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  counts_[i].fetch_add(1);
  sum_micro_.fetch_add(static_cast<std::uint64_t>(std::llround(std::max(0.0, v) * 1e6)));
  count_.fetch_add(1);
}

std::vector<std::uint64_t> histogram::buckets() const {
  std::vector<std::uint64_t> out;
  std::uint64_t acc = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) out.push_back(acc += counts_[i].load());
  return out;
}

double histogram::sum() const noexcept { return static_cast<double>(sum_micro_.load()) / 1e6; }
std::uint64_t histogram::count() const noexcept { return count_.load(); }

std::vector<double> latency_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

registry& registry::global() {
  static registry r;
  return r;
}

std::string format_labels(const labels& l) {
  if (l.empty()) return {};
  std::string s = "{";
  for (std::size_t i = 0; i < l.size(); ++i) {
    s += (i ? "," : "") + l[i].first + "=\"";
    for (char c : l[i].second) {
      if (c == '\\' || c == '"') s += '\\';
      if (c == '\n') {
        s += "\\n";
        continue;
      }
      s += c;
    }
    s += '"';
  }
  return s + "}";
}

registry::family& registry::fam(const std::string& name, const std::string& help, const char* type) {
  auto& f = families_[name];
  if (f.type.empty()) {
    f.help = help;
    f.type = type;
  }
  return f;
}

counter& registry::get_counter(const std::string& name, const std::string& help, const labels& l) {
  std::lock_guard lock{mutex_};
  auto& slot = fam(name, help, "counter").counters[format_labels(l)];
  if (!slot) slot = std::make_unique<counter>();
  return *slot;
}

histogram& registry::get_histogram(const std::string& name, const std::string& help, const labels& l,
                                   std::vector<double> bounds) {
  std::lock_guard lock{mutex_};
  auto& slot = fam(name, help, "histogram").histograms[format_labels(l)];
  if (!slot) slot = std::make_unique<histogram>(std::move(bounds));
  return *slot;
}

void registry::gauge(const std::string& name, const std::string& help, const labels& l, std::function<double()> read) {
  std::lock_guard lock{mutex_};
  fam(name, help, "gauge").gauges[format_labels(l)] = std::move(read);
}

void registry::remove_gauges(const std::string& name) {
  std::lock_guard lock{mutex_};
  families_.erase(name);
}

namespace {

std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

// Adds `le` to a rendered label set.
std::string with_le(const std::string& l, const std::string& le) {
  if (l.empty()) return "{le=\"" + le + "\"}";
  return l.substr(0, l.size() - 1) + ",le=\"" + le + "\"}";
}

}  // namespace

std::string registry::render() const {
  std::lock_guard lock{mutex_};
  std::string out;
  for (auto& [name, f] : families_) {
    out += "# HELP " + name + " " + f.help + "\n# TYPE " + name + " " + f.type + "\n";
    for (auto& [l, c] : f.counters) out += name + l + " " + number(c->value()) + "\n";
    for (auto& [l, g] : f.gauges) out += name + l + " " + number(g()) + "\n";
    for (auto& [l, h] : f.histograms) {
      auto b = h->buckets();
      for (std::size_t i = 0; i < h->bounds().size(); ++i)
        out += name + "_bucket" + with_le(l, number(h->bounds()[i])) + " " + std::to_string(b[i]) + "\n";
      out += name + "_bucket" + with_le(l, "+Inf") + " " + std::to_string(b.back()) + "\n";
      out += name + "_sum" + l + " " + number(h->sum()) + "\n";
      out += name + "_count" + l + " " + std::to_string(h->count()) + "\n";
    }
  }
  return out;
}

}  // namespace provisiond::metrics
