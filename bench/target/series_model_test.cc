// The synthetic target must be a fair, valid load: exact series counts, counters
// that never go down, consistent histograms, contiguous families, the configured
// churn and reproducible values.
#include "bench/target/series_model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "bench/target/exposition_cache.h"
#include "bench/target/openmetrics_dataset.h"

namespace vigil::bench {
namespace {

ModelOptions Options(int series, double churn = 0.0) {
  ModelOptions o;
  o.series_per_target = series;
  o.churn_fraction = churn;
  return o;
}

std::string MetricName(const std::string& prefix) {
  return prefix.substr(0, prefix.find_first_of("{ "));
}

// A histogram family's series share the name stem before _bucket/_sum/_count.
std::string FamilyOf(const std::string& name) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string s = suffix;
    if (name.size() > s.size() && name.ends_with(s)) return name.substr(0, name.size() - s.size());
  }
  return name;
}

TEST(SeriesModel, BuildsExactlyTheRequestedNumberOfSeries) {
  for (int n : {38, 39, 63, 100, 5000, 10000}) {
    EXPECT_EQ(BuildTargetSeries(Options(n), 0, 0, "").series.size(), static_cast<size_t>(n));
  }
}

TEST(SeriesModel, ServesTheDashboardMetrics) {
  std::set<std::string> names;
  for (const auto& s : BuildTargetSeries(Options(200), 0, 0, "").series) {
    names.insert(MetricName(s.prefix));
  }
  for (const char* want :
       {"inventory_requests_total", "inventory_request_duration_seconds_bucket",
        "inventory_items_total", "inventory_cache_hits_total", "inventory_cache_misses_total",
        "inventory_db_errors_total", "node_cpu_seconds_total", "node_memory_MemTotal_bytes",
        "node_memory_MemAvailable_bytes"}) {
    EXPECT_TRUE(names.count(want)) << want;
  }
}

TEST(SeriesModel, CountersNeverDecreaseBetweenSteps) {
  const TargetSeries t = BuildTargetSeries(Options(500), 3, 0, "");
  const int64_t start = 1'760'000'000 / 15;  // a recent time, in 15 s steps
  for (const SeriesSpec& s : t.series) {
    if (s.kind == ValueKind::kGauge || s.kind == ValueKind::kGaugeFraction) continue;
    double previous = SeriesValue(s, start, 15.0);
    for (int64_t step = start + 1; step < start + 500; ++step) {
      const double v = SeriesValue(s, step, 15.0);
      ASSERT_GE(v, previous) << s.prefix << " at step " << step;
      previous = v;
    }
  }
}

TEST(SeriesModel, HistogramBucketsAreCumulativeAndInfEqualsCount) {
  const TargetSeries t = BuildTargetSeries(Options(200), 1, 0, "");
  const int64_t step = 117'000'000;
  double previous_bucket = -1;  // the previous bucket of the histogram being read
  for (const SeriesSpec& s : t.series) {
    const std::string name = MetricName(s.prefix);
    const double v = SeriesValue(s, step, 15.0);
    if (name.ends_with("_bucket")) {
      EXPECT_GE(v, previous_bucket) << s.prefix;
      previous_bucket = v;
    } else if (name.ends_with("_count")) {
      EXPECT_EQ(v, previous_bucket) << s.prefix << " must equal its +Inf bucket";
      previous_bucket = -1;
    }
  }
}

TEST(SeriesModel, FamiliesAreContiguousWithOneTypeLineEach) {
  const TargetSeries t = BuildTargetSeries(Options(5000), 0, 0, "");
  const std::string text = RenderExposition(t, 1000, 15.0);
  std::istringstream in(text);
  std::set<std::string> finished;
  std::string current, line;
  int type_lines = 0;
  while (std::getline(in, line)) {
    if (line.starts_with("# TYPE ")) {
      ++type_lines;
      continue;
    }
    const std::string family = FamilyOf(MetricName(line));
    if (family != current) {
      EXPECT_FALSE(finished.count(family)) << family << " appears in two places";
      if (!current.empty()) finished.insert(current);
      current = family;
    }
  }
  EXPECT_EQ(type_lines, static_cast<int>(t.type_lines.size()));
  EXPECT_EQ(finished.size() + 1, t.type_lines.size());
}

TEST(SeriesModel, ChurnReplacesAboutTheConfiguredFractionPerPeriod) {
  const TargetSeries before = BuildTargetSeries(Options(5000, 0.1), 0, 0, "");
  const TargetSeries after = BuildTargetSeries(Options(5000, 0.1), 0, 1, "");
  ASSERT_EQ(before.series.size(), after.series.size());
  std::set<std::string> old_prefixes;
  for (const auto& s : before.series) old_prefixes.insert(s.prefix);
  int replaced = 0;
  for (const auto& s : after.series) replaced += old_prefixes.count(s.prefix) == 0;
  EXPECT_GT(replaced, 5000 * 0.08);
  EXPECT_LT(replaced, 5000 * 0.12);
}

ModelOptions KubeOptions(int series, double churn = 0.0) {
  ModelOptions o = Options(series, churn);
  o.shape = ModelShape::kKube;
  return o;
}

TEST(KubeModel, BuildsExactlyTheRequestedNumberOfSeries) {
  for (int n : {38, 87, 88, 1000, 10000}) {
    EXPECT_EQ(BuildTargetSeries(KubeOptions(n), 0, 0, "").series.size(), static_cast<size_t>(n));
  }
}

TEST(KubeModel, ServesNodeKubeStateAndHttpHistogramFamiliesWithTwoToFourLabels) {
  std::set<std::string> names;
  for (const auto& s : BuildTargetSeries(KubeOptions(1000), 0, 0, "").series) {
    const std::string name = MetricName(s.prefix);
    names.insert(name);
    if (name.starts_with("kube_") || name.starts_with("http_") ||
        name.starts_with("node_cpu") || name.starts_with("node_filesystem")) {
      const auto labels = std::count(s.prefix.begin(), s.prefix.end(), '=');
      EXPECT_GE(labels, 2) << s.prefix;
      EXPECT_LE(labels, 4) << s.prefix;
    }
  }
  for (const char* want :
       {"inventory_requests_total", "node_cpu_seconds_total", "node_filesystem_avail_bytes",
        "kube_pod_status_phase", "kube_pod_info", "kube_pod_container_status_restarts_total",
        "http_requests_total", "http_request_duration_seconds_bucket",
        "http_request_duration_seconds_sum", "http_request_duration_seconds_count"}) {
    EXPECT_TRUE(names.count(want)) << want;
  }
}

TEST(KubeModel, HistogramsAreConsistentAndFamiliesContiguous) {
  const TargetSeries t = BuildTargetSeries(KubeOptions(2000), 1, 0, "");
  double previous_bucket = -1;
  std::set<std::string> finished;
  std::string current;
  for (const SeriesSpec& s : t.series) {
    const std::string name = MetricName(s.prefix);
    const double v = SeriesValue(s, 117'000'000, 5.0);
    if (name.ends_with("_bucket")) {
      EXPECT_GE(v, previous_bucket) << s.prefix;
      previous_bucket = v;
    } else if (name.ends_with("_count")) {
      EXPECT_EQ(v, previous_bucket) << s.prefix << " must equal its +Inf bucket";
      previous_bucket = -1;
    }
    const std::string family = FamilyOf(name);
    if (family != current) {
      EXPECT_FALSE(finished.count(family)) << family << " appears in two places";
      if (!current.empty()) finished.insert(current);
      current = family;
    }
  }
  EXPECT_EQ(finished.size() + 1, t.type_lines.size());
}

TEST(KubeModel, ChurnReplacesPodsButNotNodeSeries) {
  const TargetSeries before = BuildTargetSeries(KubeOptions(10000, 0.1), 0, 0, "");
  const TargetSeries after = BuildTargetSeries(KubeOptions(10000, 0.1), 0, 1, "");
  ASSERT_EQ(before.series.size(), after.series.size());
  std::set<std::string> old_prefixes;
  for (const auto& s : before.series) old_prefixes.insert(s.prefix);
  int replaced = 0;
  for (const auto& s : after.series) {
    const bool is_new = old_prefixes.count(s.prefix) == 0;
    replaced += is_new;
    if (is_new) {
      EXPECT_EQ(s.prefix.find("node_"), std::string::npos) << s.prefix;
    }
  }
  // 38 of each unit's 50 series belong to its pod: about 7.6 % per event.
  EXPECT_GT(replaced, 10000 * 0.06);
  EXPECT_LT(replaced, 10000 * 0.09);
}

TEST(KubeModel, DiffersFromTheDefaultModel) {
  EXPECT_NE(RenderExposition(BuildTargetSeries(Options(300), 0, 0, ""), 10, 15.0),
            RenderExposition(BuildTargetSeries(KubeOptions(300), 0, 0, ""), 10, 15.0));
}

TEST(SeriesModel, ValuesAreReproducibleFromTheSeed) {
  ModelOptions a = Options(300), b = Options(300);
  b.seed = a.seed + 1;
  const std::string first = RenderExposition(BuildTargetSeries(a, 2, 0, ""), 5000, 15.0);
  EXPECT_EQ(first, RenderExposition(BuildTargetSeries(a, 2, 0, ""), 5000, 15.0));
  EXPECT_NE(first, RenderExposition(BuildTargetSeries(b, 2, 0, ""), 5000, 15.0));
}

TEST(TargetExposition, RendersOncePerStepAndChurnPeriod) {
  TargetExposition exposition(Options(100), 0, 15000);
  const auto first = exposition.Get(15000 * 10 + 1, 0);
  EXPECT_EQ(exposition.Get(15000 * 10 + 14000, 0), first);  // same step: cached body
  EXPECT_EQ(exposition.renders(), 1);
  EXPECT_NE(exposition.Get(15000 * 11, 0)->text, first->text);  // next step: new values
  exposition.Get(15000 * 11, 1);                                // churn: re-render
  EXPECT_EQ(exposition.renders(), 3);
  EXPECT_FALSE(first->gzip.empty());
  EXPECT_LT(first->gzip.size(), first->text.size());
}

TEST(OpenMetricsDataset, WritesEverySampleWithTimestampsAndEof) {
  DatasetOptions o;
  o.model = Options(50);
  o.targets = 2;
  o.start_ms = 1'700'000'010'000;  // a multiple of the step: 241 steps in the hour
  o.end_ms = o.start_ms + 3600'000;
  o.step_ms = 15000;
  const auto path = std::filesystem::temp_directory_path() / "bench_target_test.om";
  ASSERT_EQ(WriteOpenMetricsDataset(o, path.string()), 2 * 50 * 241);
  std::ifstream in(path);
  std::string line, last;
  int lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    last = line;
    if (line != "# EOF") {
      ASSERT_NE(line.find("job=\"bench\""), std::string::npos) << line;
    }
  }
  EXPECT_EQ(last, "# EOF");
  EXPECT_EQ(lines, 2 * 50 * 241 + 1);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace vigil::bench
