#include <gtest/gtest.h>

#include "common/metrics.hpp"

using namespace provisiond::metrics;

TEST(Metrics, RendersCountersGaugesAndHistogramsInPrometheusText) {
  registry r;
  r.get_counter("jobs_total", "Jobs done", {{"kind", "a\"b"}}).inc(2);
  r.get_counter("jobs_total", "Jobs done", {{"kind", "a\"b"}}).inc();
  r.gauge("queue_depth", "Queued", {}, [] { return 7.0; });
  auto& h = r.get_histogram("latency_seconds", "Latency", {{"op", "x"}}, {0.1, 1});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  auto text = r.render();
  EXPECT_NE(text.find("# HELP jobs_total Jobs done\n# TYPE jobs_total counter\njobs_total{kind=\"a\\\"b\"} 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE queue_depth gauge\nqueue_depth 7\n"), std::string::npos) << text;
  EXPECT_NE(text.find("latency_seconds_bucket{op=\"x\",le=\"0.1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("latency_seconds_bucket{op=\"x\",le=\"1\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("latency_seconds_bucket{op=\"x\",le=\"+Inf\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("latency_seconds_sum{op=\"x\"} 5.55\n"), std::string::npos) << text;
  EXPECT_NE(text.find("latency_seconds_count{op=\"x\"} 3\n"), std::string::npos) << text;
}
