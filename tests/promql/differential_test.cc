// Differential test: the same data in Prometheus 2.42 and in Vigil's engine,
// the same queries (a fixed list covering the language, the seed dashboard's
// queries, and a seeded random generator), equal answers required.
// Skips when /usr/bin/prometheus or /usr/bin/promtool is missing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "tests/support/memory_storage.h"
#include "base/metrics_registry.h"
#include "tests/promql/differential_queries.h"
#include "tests/promql/prometheus_oracle.h"
#include "tests/promql/result_diff.h"
#include "tests/promql/script_runner.h"

namespace vigil::promql::testing {
namespace {

constexpr int64_t kT0 = 1'600'000'000'000;  // data starts here (2020-09-13)
constexpr int64_t kMinute = 60'000;
constexpr int64_t kScrape = 15'000;
constexpr int kSteps = 4 * 70;  // 70 minutes of 15s scrapes

class Dataset {
 public:
  explicit Dataset(uint32_t seed) : rng_(seed) { Build(); }
  const std::vector<OracleSeries>& series() const { return series_; }

 private:
  double Uniform(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng_); }
  int64_t Jitter() { return std::uniform_int_distribution<int64_t>(-300, 300)(rng_); }

  // A counter that increases by about `rate`/s and restarts from 0 with
  // probability `reset_p` per scrape.
  void Counter(Labels labels, double rate, double reset_p) {
    OracleSeries s{std::move(labels), {}};
    double v = Uniform(0, 1000);
    for (int i = 0; i < kSteps; ++i) {
      if (Uniform(0, 1) < reset_p) v = 0;
      v += std::floor(Uniform(0, 2 * rate * 15));
      s.points.push_back(Point{kT0 + i * kScrape + Jitter(), v});
    }
    series_.push_back(std::move(s));
  }

  void Gauge(Labels labels, double base, double spread, int gap_from = -1, int gap_to = -1) {
    OracleSeries s{std::move(labels), {}};
    double v = base;
    for (int i = 0; i < kSteps; ++i) {
      v += Uniform(-spread, spread);
      if (i >= gap_from && i < gap_to) continue;
      s.points.push_back(Point{kT0 + i * kScrape + Jitter(), std::round(v * 100) / 100});
    }
    series_.push_back(std::move(s));
  }

  void Histogram() {
    static const char* kBounds[] = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
                                    "0.5",   "1",    "2.5",   "5",    "10",  "+Inf"};
    static const double kValues[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, INFINITY};
    for (const char* method : {"GET", "POST"}) {
      std::vector<OracleSeries> buckets;
      for (const char* b : kBounds) {
        buckets.push_back({Labels{{"__name__", "inventory_request_duration_seconds_bucket"},
                                  {"method", method}, {"le", b}}, {}});
      }
      OracleSeries sum{Labels{{"__name__", "inventory_request_duration_seconds_sum"}, {"method", method}}, {}};
      OracleSeries count{Labels{{"__name__", "inventory_request_duration_seconds_count"}, {"method", method}}, {}};
      std::vector<double> cum(12, 0);
      double total = 0;
      for (int i = 0; i < kSteps; ++i) {
        const int n = static_cast<int>(Uniform(0, 40));
        for (int k = 0; k < n; ++k) {
          const double d = std::exp(Uniform(-6, 1.5));
          total += d;
          for (size_t b = 0; b < 12; ++b) {
            if (d <= kValues[b]) cum[b] += 1;
          }
        }
        const int64_t t = kT0 + i * kScrape + Jitter();
        for (size_t b = 0; b < 12; ++b) buckets[b].points.push_back(Point{t, cum[b]});
        sum.points.push_back(Point{t, std::round(total * 1000) / 1000});
        count.points.push_back(Point{t, cum[11]});
      }
      for (auto& b : buckets) series_.push_back(std::move(b));
      series_.push_back(std::move(sum));
      series_.push_back(std::move(count));
    }
  }

  void Build() {
    const char* methods[] = {"GET", "POST", "PUT", "DELETE"};
    const char* endpoints[] = {"/api/items", "/api/items/:id", "/metrics", "/health"};
    const char* statuses[] = {"200", "201", "400", "404", "500"};
    for (const char* m : methods) {
      for (const char* e : endpoints) {
        for (const char* st : statuses) {
          if (Uniform(0, 1) < 0.5) continue;
          Counter(Labels{{"__name__", "inventory_requests_total"}, {"method", m}, {"endpoint", e}, {"status", st}},
                  Uniform(0.1, 5), 0.002);
        }
      }
    }
    Histogram();
    // A second histogram with the same labels and samples, differing only by
    // name (a histogram_quantile over both has colliding outputs).
    const size_t get_buckets = series_.size() - 28;  // GET's 12 buckets, sum, count; then POST's
    for (size_t i = get_buckets; i < get_buckets + 12; ++i) {
      if (series_[i].labels.MetricName() != "inventory_request_duration_seconds_bucket") continue;
      LabelsBuilder b(series_[i].labels);
      b.Set(kMetricNameLabel, "backend_request_duration_seconds_bucket");
      series_.push_back({b.Build(), series_[i].points});
    }
    Gauge(Labels{{"__name__", "inventory_items_total"}}, 500, 5);
    Counter(Labels{{"__name__", "inventory_cache_hits_total"}}, 20, 0.003);
    Counter(Labels{{"__name__", "inventory_cache_misses_total"}}, 3, 0.003);
    Counter(Labels{{"__name__", "inventory_db_errors_total"}}, 0.05, 0);
    for (int cpu = 0; cpu < 4; ++cpu) {
      for (const char* mode : {"idle", "user", "system", "iowait"}) {
        Counter(Labels{{"__name__", "node_cpu_seconds_total"}, {"cpu", std::to_string(cpu)}, {"mode", mode},
                       {"instance", "node:9100"}, {"job", "node"}},
                std::string(mode) == "idle" ? 0.7 : 0.1, 0);
      }
    }
    Gauge(Labels{{"__name__", "node_memory_MemTotal_bytes"}, {"instance", "node:9100"}, {"job", "node"}}, 8e9, 0);
    Gauge(Labels{{"__name__", "node_memory_MemAvailable_bytes"}, {"instance", "node:9100"}, {"job", "node"}}, 3e9, 1e7);
    for (int i = 0; i < 60; ++i) {
      const std::string job = i % 3 == 0 ? "api" : (i % 3 == 1 ? "db" : "web");
      Labels l{{"__name__", "test_counter"}, {"instance", "host" + std::to_string(i % 20)}, {"job", job},
               {"zone", i % 2 ? "a" : "b"}};
      Counter(l, Uniform(0.5, 10), 0.01);
      Gauge(Labels{{"__name__", "test_gauge"}, {"instance", "host" + std::to_string(i % 20)}, {"job", job},
                   {"zone", i % 2 ? "a" : "b"}},
            Uniform(-50, 100), 3);
    }
    for (int i = 0; i < 10; ++i) {  // series with holes longer than the lookback
      Gauge(Labels{{"__name__", "gappy_gauge"}, {"instance", "host" + std::to_string(i)}}, 10, 2,
            40 + i * 7, 80 + i * 9);
    }
    OracleSeries special{Labels{{"__name__", "special_values"}, {"kind", "mixed"}}, {}};
    const double specials[] = {1, NAN, 3, INFINITY, 2, -INFINITY, 0, -0.5};
    for (int i = 0; i < kSteps; ++i) special.points.push_back(Point{kT0 + i * kScrape, specials[i % 8]});
    series_.push_back(std::move(special));
  }

  std::mt19937 rng_;
  std::vector<OracleSeries> series_;
};

class DifferentialTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!PrometheusOracle::Available()) return;
    dataset_ = std::make_unique<Dataset>(20261125);
    auto oracle = PrometheusOracle::Start(dataset_->series());
    if (!oracle.ok()) {
      start_error_ = oracle.status().message();
      return;
    }
    oracle_ = std::move(*oracle);
    storage_ = std::make_unique<storage::MemoryStorage>();
    for (const auto& s : dataset_->series()) {
      for (const auto& p : s.points) (void)storage_->AddSample(s.labels, p.t, p.v);
    }
  }
  static void TearDownTestSuite() {
    oracle_.reset();  // stops Prometheus
    storage_.reset();
    dataset_.reset();
  }
  void SetUp() override {
    if (!PrometheusOracle::Available()) GTEST_SKIP() << "/usr/bin/prometheus or /usr/bin/promtool not installed";
    if (!oracle_) GTEST_SKIP() << "prometheus did not start: " << start_error_;
  }

  // Runs `q` as instant queries at several times and as range queries; returns
  // the number of mismatches (each reported).
  int Compare(const std::string& q) {
    Engine engine(EngineOptions{});
    int failures = 0;
    auto check = [&](const std::string& what, const Result<QueryResult>& mine, const Result<Value>& theirs) {
      if (!mine.ok() || !theirs.ok()) {
        if (mine.ok() != theirs.ok()) {
          ++failures;
          ADD_FAILURE() << what << " " << q << "\n    vigil: "
                        << (mine.ok() ? std::string("ok") : mine.status().message())
                        << "\n    prometheus: " << (theirs.ok() ? std::string("ok") : theirs.status().message());
        }
        return;
      }
      const std::string d = DiffResults(mine->value, *theirs, IsOrderedQuery(q));
      if (!d.empty()) {
        ++failures;
        ADD_FAILURE() << what << " " << q << "\n    " << d;
      }
    };
    for (int64_t t : {kT0 + 5 * kMinute + 3'000, kT0 + 31 * kMinute, kT0 + 69 * kMinute + 500, kT0 + 76 * kMinute}) {
      check("instant@" + std::to_string((t - kT0) / 1000) + "s", engine.InstantQuery(*storage_, q, t),
            As248Answer(q, oracle_->InstantQuery(q, t)));
    }
    // A coarse unaligned step over the whole data and a scrape-sized step.
    const int64_t ranges[][3] = {{kT0 + 2 * kMinute + 7'000, kT0 + 72 * kMinute, 97'000},
                                 {kT0 + 61'000, kT0 + 31 * kMinute, 15'000}};
    for (const auto& [start, end, step] : ranges) {
      check("range step " + std::to_string(step / 1000) + "s",
            engine.RangeQuery(*storage_, q, start, end, step),
            As248Answer(q, oracle_->RangeQuery(q, start, end, step)));
    }
    return failures;
  }

  static std::unique_ptr<Dataset> dataset_;
  static std::unique_ptr<PrometheusOracle> oracle_;
  static std::unique_ptr<storage::MemoryStorage> storage_;
  static std::string start_error_;
};

std::unique_ptr<Dataset> DifferentialTest::dataset_;
std::unique_ptr<PrometheusOracle> DifferentialTest::oracle_;
std::unique_ptr<storage::MemoryStorage> DifferentialTest::storage_;
std::string DifferentialTest::start_error_;

TEST_F(DifferentialTest, FixedQueriesMatchPrometheus) {
  const auto queries = DifferentialQueries();
  ASSERT_GE(queries.size(), 300u);
  int failed = 0;
  for (const auto& q : queries) failed += Compare(q) > 0;
  EXPECT_EQ(failed, 0) << "of " << queries.size() << " queries";
}

TEST_F(DifferentialTest, FormatQueryMatchesPrometheus) {
  auto queries = DifferentialQueries();
  const auto random = RandomQueries(11, 100);
  queries.insert(queries.end(), random.begin(), random.end());
  queries.push_back(
      "histogram_quantile(0.95, sum by (le, method, endpoint) (rate(inventory_request_duration_seconds_bucket"
      "{job=\"inventory\"}[5m]))) > on (method) group_left (endpoint) max by (method) (rate(x[5m]))");
  queries.push_back("-(sum by (job) (rate(aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa[5m])) + "
                    "sum by (job) (rate(bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb[5m])))[30m:1m] offset 1h");
  queries.push_back("foo{a=\"\\n\\t\\\"x\"} @ 1600000000.123 offset -5m");
  int failed = 0;
  for (const auto& q : queries) {
    auto mine = FormatQuery(q);
    auto theirs = oracle_->FormatQuery(q);
    if (mine.ok() != theirs.ok() || (mine.ok() && *mine != *theirs)) {
      ++failed;
      ADD_FAILURE() << q << "\n  vigil:      " << (mine.ok() ? *mine : mine.status().message())
                    << "\n  prometheus: " << (theirs.ok() ? *theirs : theirs.status().message());
    }
  }
  EXPECT_EQ(failed, 0);
}

TEST_F(DifferentialTest, RandomQueriesMatchPrometheus) {
  // VIGIL_PROMQL_RANDOM_SEED / VIGIL_PROMQL_RANDOM_COUNT explore beyond the fixed run.
  const char* seed = std::getenv("VIGIL_PROMQL_RANDOM_SEED");
  const char* count = std::getenv("VIGIL_PROMQL_RANDOM_COUNT");
  const auto queries = RandomQueries(seed ? static_cast<uint32_t>(std::atoi(seed)) : 7,
                                     count ? std::atoi(count) : 200);
  int failed = 0;
  for (const auto& q : queries) failed += Compare(q) > 0;
  EXPECT_EQ(failed, 0) << "of " << queries.size() << " queries";
}

// Prometheus fails with "vector cannot contain metrics with the same
// labelset" where dropping the metric name makes two results alike
// (test_gauge and test_counter have the same label sets); what keeps the name
// succeeds. Vigil must fail (and succeed) on the same queries.
TEST_F(DifferentialTest, DuplicateLabelsetsAfterDroppingTheName_FailLikePrometheus) {
  const std::string both = "{__name__=~\"test_gauge|test_counter\"}";
  std::vector<std::string> failing = {
      "-" + both,
      "histogram_quantile(0.99, {__name__=~\"(inventory|backend)_request_duration_seconds_bucket\"})",
      "label_replace(" + both + ", \"__name__\", \"\", \"\", \"\")",
      "label_replace(" + both + ", \"__name__\", \"x\", \"\", \"\")",
      both + " / 2", "2 ^ " + both, both + " > bool 0", "clamp(" + both + ", 0, 1)",
      "clamp_min(" + both + ", 0)", "clamp_max(" + both + ", 1)",
      "round(" + both + ", 2)", "quantile_over_time(0.5, " + both + "[5m])",
      "predict_linear(" + both + "[5m], 60)", "holt_winters(" + both + "[5m], 0.5, 0.5)",
      "rate(" + both + "[5m:1m])",
  };
  for (const auto& f : MathFunctionNames()) failing.push_back(f + "(" + both + ")");
  for (const auto& f : RangeFunctionNames()) {
    if (f != "last_over_time" && f != "absent_over_time") failing.push_back(f + "(" + both + "[5m])");
  }
  const std::vector<std::string> passing = {
      "last_over_time(" + both + "[5m])", "sort(" + both + ")", "sort_desc(" + both + ")",
      both + " > 0", "label_join(" + both + ", \"x\", \",\", \"job\")",
      "label_replace(" + both + ", \"x\", \"y\", \"\", \"\")",
      "histogram_quantile(0.99, inventory_request_duration_seconds_bucket)",
      "-test_gauge",
  };
  constexpr std::string_view kError = "vector cannot contain metrics with the same labelset";
  const int64_t t = kT0 + 31 * kMinute;
  Engine engine(EngineOptions{});
  int failed = 0;
  for (const auto& q : failing) {
    const auto theirs = oracle_->InstantQuery(q, t);
    EXPECT_FALSE(theirs.ok()) << "prometheus answers " << q;
    if (!theirs.ok()) {
      EXPECT_TRUE(theirs.status().message().ends_with(kError)) << q;
    }
    const auto mine = engine.InstantQuery(*storage_, q, t);
    if (!mine.ok()) {
      EXPECT_EQ(mine.status().message(), kError) << q;
    }
    failed += Compare(q) > 0;
  }
  for (const auto& q : passing) {
    EXPECT_TRUE(oracle_->InstantQuery(q, t).ok()) << "prometheus fails " << q;
    failed += Compare(q) > 0;
  }
  EXPECT_EQ(failed, 0) << "of " << failing.size() + passing.size() << " queries";
}

// Binary atan2 drops the metric name in Prometheus 2.48 as every arithmetic
// operator does; Debian's 2.42 oracle keeps it (the one known disagreement,
// see As248Answer). Vigil follows 2.48: its answer equals 2.42's without names.
TEST_F(DifferentialTest, Atan2DropsTheMetricName_As248) {
  const int64_t t = kT0 + 31 * kMinute;
  Engine engine(EngineOptions{});
  for (const std::string q : {"test_gauge atan2 test_counter", "test_gauge atan2 1", "1 atan2 test_gauge"}) {
    const auto theirs = oracle_->InstantQuery(q, t);
    ASSERT_TRUE(theirs.ok()) << q << ": " << theirs.status().message();
    ASSERT_FALSE(theirs->vector.empty()) << q;
    EXPECT_EQ(theirs->vector[0].metric.MetricName(), "test_gauge") << "2.42 keeps the name: " << q;
    const auto mine = engine.InstantQuery(*storage_, q, t);
    ASSERT_TRUE(mine.ok()) << q << ": " << mine.status().message();
    for (const auto& s : mine->value.vector) EXPECT_FALSE(s.metric.Has(kMetricNameLabel)) << q;
    EXPECT_EQ(Compare(q), 0);
  }
  // Dropping the name, 2.48 (and Vigil) find two series alike where 2.42 does not.
  const std::string collide = "{__name__=~\"test_gauge|test_counter\"} atan2 1";
  EXPECT_TRUE(oracle_->InstantQuery(collide, t).ok());
  const auto mine = engine.InstantQuery(*storage_, collide, t);
  ASSERT_FALSE(mine.ok());
  EXPECT_EQ(mine.status().message(), "vector cannot contain metrics with the same labelset");
}

// Runs the *.test scripts with Prometheus alongside: every eval must give
// Prometheus's answer too, which validates the scripts' expectations.
// Sections containing stale markers are skipped (OpenMetrics cannot carry them).
class OracleObserver : public ScriptObserver {
 public:
  void OnClear() override {
    series_.clear();
    has_stale_ = false;
    oracle_.reset();
  }
  void OnSample(const Labels& labels, int64_t t, double v) override {
    if (vigil::IsStaleNaN(v)) has_stale_ = true;
    series_[labels].push_back(Point{t, v});
    oracle_.reset();
  }
  std::string OnEval(const ScriptQuery& q, const Result<QueryResult>& vigil) override {
    if (has_stale_ || series_.empty()) return "";
    if (!oracle_) {
      std::vector<OracleSeries> all;
      for (const auto& [labels, points] : series_) all.push_back({labels, points});
      auto started = PrometheusOracle::Start(all);
      if (!started.ok()) return "oracle: " + started.status().message();
      oracle_ = std::move(*started);
    }
    auto theirs = As248Answer(q.expr, q.range ? oracle_->RangeQuery(q.expr, q.start, q.end, q.step)
                                              : oracle_->InstantQuery(q.expr, q.at));
    if (!vigil.ok() || !theirs.ok()) {
      if (vigil.ok() == theirs.ok()) return "";
      return "prometheus " + (theirs.ok() ? std::string("succeeds") : "fails: " + theirs.status().message());
    }
    const std::string d = DiffResults(vigil->value, *theirs, q.ordered);
    return d.empty() ? "" : "differs from prometheus: " + d;
  }

 private:
  std::map<Labels, std::vector<Point>> series_;
  bool has_stale_ = false;
  std::unique_ptr<PrometheusOracle> oracle_;
};

TEST(ScriptOracle, ScriptsAgreeWithPrometheus) {
  if (!PrometheusOracle::Available()) GTEST_SKIP() << "/usr/bin/prometheus or /usr/bin/promtool not installed";
  for (const auto& e : std::filesystem::directory_iterator(VIGIL_PROMQL_SCRIPT_DIR)) {
    if (e.path().extension() != ".test") continue;
    std::ifstream in(e.path());
    std::stringstream text;
    text << in.rdbuf();
    OracleObserver observer;
    ScriptOptions options;
    options.observer = &observer;
    for (const auto& failure : RunScript(e.path().filename().string(), text.str(), options)) {
      if (failure.find("differs from prometheus") != std::string::npos ||
          failure.find("prometheus ") != std::string::npos || failure.find("oracle") != std::string::npos) {
        ADD_FAILURE() << failure;
      }
    }
  }
}

}  // namespace
}  // namespace vigil::promql::testing
