#pragma once
/// Process-wide metrics in the Prometheus text format (version 0.0.4):
/// counters, gauges and histograms with fixed label sets. Thread-safe; an
/// update is a lock-free atomic add once the series exists.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace provisiond::metrics {

using labels = std::vector<std::pair<std::string, std::string>>;

class counter {
 public:
  void inc(double v = 1) noexcept;
  double value() const noexcept;

 private:
  std::atomic<std::uint64_t> milli_{0};  // thousandths, so fractional sums stay exact enough
};

class histogram {
 public:
  explicit histogram(std::vector<double> bounds);
  void observe(double v) noexcept;
  const std::vector<double>& bounds() const noexcept { return bounds_; }
  std::vector<std::uint64_t> buckets() const;  ///< cumulative, one per bound plus +Inf
  double sum() const noexcept;
  std::uint64_t count() const noexcept;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
  std::atomic<std::uint64_t> sum_micro_{0};
  std::atomic<std::uint64_t> count_{0};
};

/// Latency buckets in seconds, 0.5 ms to 60 s.
std::vector<double> latency_buckets();

class registry {
 public:
  /// The process's registry.
  static registry& global();

  /// The series `name{labels}`; created on first use. References stay valid.
  counter& get_counter(const std::string& name, const std::string& help, const labels& l = {});
  histogram& get_histogram(const std::string& name, const std::string& help, const labels& l = {},
                           std::vector<double> bounds = latency_buckets());
  /// A gauge read at scrape time. Registering the same name and labels again replaces it.
  void gauge(const std::string& name, const std::string& help, const labels& l, std::function<double()> read);
  void remove_gauges(const std::string& name);

  /// Everything, in the text exposition format.
  std::string render() const;

 private:
  struct family {
    std::string help;
    std::string type;
    std::map<std::string, std::unique_ptr<counter>> counters;
    std::map<std::string, std::unique_ptr<histogram>> histograms;
    std::map<std::string, std::function<double()>> gauges;
  };
  family& fam(const std::string& name, const std::string& help, const char* type);
  mutable std::mutex mutex_;
  std::map<std::string, family> families_;
};

/// `{a="x",b="y"}` with values escaped, or "" for no labels.
std::string format_labels(const labels& l);

}  // namespace provisiond::metrics
