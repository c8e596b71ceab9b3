// Range queries evaluate selectors, window functions and aggregations series
// by series (range_evaluation.cc); instant queries evaluate step by step. A
// range query must answer exactly, to the last bit, what instant queries at
// each of its steps answer.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "promql/engine.h"
#include "tests/support/memory_storage.h"
#include "storage/storage.h"

namespace vigil::promql {
namespace {

constexpr int64_t kSecond = 1000;

class RangeEvaluationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> step(0, 3.7);
    for (const char* name : {"x", "y"}) {
      for (const char* job : {"a", "b"}) {
        for (int instance = 0; instance < 3; ++instance) {
          AddCounter({{"__name__", name}, {"job", job}, {"instance", std::to_string(instance)}},
                     rng, step);
        }
      }
    }
    for (int i = 0; i < 6; ++i) AddGauge(i, rng);
    for (const char* le : {"0.1", "0.5", "1", "+Inf"}) {
      AddCounter({{"__name__", "h_bucket"}, {"le", le}, {"job", "a"}}, rng, step);
    }
  }

  // A counter scraped every 15 s (with jitter) that resets now and then and
  // has a gap in the middle.
  void AddCounter(const Labels& labels, std::mt19937& rng,
                  std::uniform_real_distribution<double>& step) {
    double v = 0;
    for (int64_t t = 0; t <= 3600 * kSecond; t += 15 * kSecond) {
      if (t > 1500 * kSecond && t < 1900 * kSecond) continue;
      v = (rng() % 40 == 0) ? 0 : v + step(rng);
      ASSERT_TRUE(db_.AddSample(labels, t + static_cast<int64_t>(rng() % 900), v).ok());
    }
  }

  // Gauges with NaN, infinities and stale markers; some start late and the
  // first ends early.
  void AddGauge(int i, std::mt19937& rng) {
    const Labels labels{{"__name__", "g"},
                        {"job", i % 2 ? "a" : "b"},
                        {"instance", std::to_string(i)},
                        {"zone", std::to_string(i % 3)}};
    std::normal_distribution<double> value(100, 30);
    const int64_t last = i == 0 ? 1800 * kSecond : 3600 * kSecond;
    for (int64_t t = 200 * kSecond * i; t <= last; t += 15 * kSecond) {
      double v = value(rng);
      if (rng() % 50 == 0) v = NAN;
      if (rng() % 70 == 0) v = i % 2 ? INFINITY : -INFINITY;
      if (rng() % 30 == 0) v = vigil::StaleNaN();
      ASSERT_TRUE(db_.AddSample(labels, t, v).ok());
    }
  }

  // The range query's result and the instant queries' results at its steps,
  // as series keyed by labels.
  using Pivot = std::map<Labels, std::vector<Point>>;
  static Pivot FromRange(const Value& v) {
    Pivot out;
    for (const auto& s : v.matrix) out[s.metric] = s.points;
    return out;
  }

  void ExpectRangeEqualsInstants(const std::string& query, int64_t start, int64_t end,
                                 int64_t step) {
    SCOPED_TRACE(query + " step " + std::to_string(step));
    Engine engine(EngineOptions{});
    auto range = engine.RangeQuery(db_, query, start, end, step);
    Pivot instants;
    Status instant_error;
    for (int64_t t = start; t <= end && instant_error.ok(); t += step) {
      auto r = engine.InstantQuery(db_, query, t);
      if (!r.ok()) {
        instant_error = r.status();
        break;
      }
      for (const auto& s : r->value.vector) instants[s.metric].push_back(Point{t, s.point.v});
    }
    ASSERT_EQ(range.ok(), instant_error.ok())
        << range.status().message() << " / " << instant_error.message();
    if (!range.ok()) {
      EXPECT_EQ(range.status().message(), instant_error.message());
      return;
    }
    const Pivot ranged = FromRange(range->value);
    ASSERT_EQ(ranged.size(), instants.size());
    for (const auto& [labels, points] : instants) {
      auto it = ranged.find(labels);
      ASSERT_NE(it, ranged.end()) << labels.ToString();
      ASSERT_EQ(it->second.size(), points.size()) << labels.ToString();
      for (size_t i = 0; i < points.size(); ++i) {
        EXPECT_EQ(it->second[i].t, points[i].t) << labels.ToString();
        // Bit patterns: the same order of additions gives the same last bits.
        EXPECT_EQ(std::bit_cast<uint64_t>(it->second[i].v), std::bit_cast<uint64_t>(points[i].v))
            << labels.ToString() << " at " << points[i].t << ": " << it->second[i].v << " vs "
            << points[i].v;
      }
    }
  }

  void ExpectAllGrids(const std::string& query) {
    ExpectRangeEqualsInstants(query, 120 * kSecond, 3000 * kSecond, 15 * kSecond);
    ExpectRangeEqualsInstants(query, 7 * kSecond, 3599 * kSecond, 37 * kSecond);
    ExpectRangeEqualsInstants(query, 0, 3600 * kSecond, 300 * kSecond);
  }

  storage::MemoryStorage db_;
};

TEST_F(RangeEvaluationTest, SelectorsMatchInstantQueries) {
  for (const char* q :
       {"x", "g", "x offset 2m", "g @ 1000", "{job=\"a\"}", "h_bucket offset -1m"}) {
    ExpectAllGrids(q);
  }
}

TEST_F(RangeEvaluationTest, WindowFunctionsMatchInstantQueries) {
  for (const char* q : {"rate(x[5m])",
                        "increase(x[3m])",
                        "irate(x[1m])",
                        "idelta(g[2m])",
                        "delta(g[5m])",
                        "deriv(g[5m])",
                        "changes(g[5m])",
                        "resets(x[10m])",
                        "avg_over_time(g[5m])",
                        "sum_over_time(g[4m])",
                        "count_over_time(g[1m])",
                        "min_over_time(g[5m])",
                        "max_over_time(g[5m])",
                        "last_over_time(g[5m])",
                        "present_over_time(x[30s])",
                        "stddev_over_time(g[5m])",
                        "stdvar_over_time(g[5m])",
                        "rate(x[5m] offset 3m)",
                        "rate(x[5m] @ 1200)",
                        "rate((x[5m]))"}) {
    ExpectAllGrids(q);
  }
}

TEST_F(RangeEvaluationTest, AggregationsMatchInstantQueriesBitForBit) {
  for (const char* q :
       {"sum by (job) (rate(x[5m]))", "sum(rate({__name__=~\"x|y\", job=\"a\"}[5m] offset 1m))",
        "avg without (instance) (g)", "count by (__name__) ({job=~\".+\"})", "min(g)",
        "max by (job) (g offset 1m)", "stddev(g)", "stdvar by (job) (g)", "group by (job) (x)",
        "sum by (job) (avg_over_time(g[10m]))", "avg((increase(x[5m])))",
        "sum(sum by (job, instance) (rate(x[5m])))", "sum by (job) (count by (instance, job) (x))",
        // Stale gauges change which group comes first from step to step.
        "sum(sum by (zone) (g))", "avg(max by (zone) (g))"}) {
    ExpectAllGrids(q);
  }
}

TEST_F(RangeEvaluationTest, StepByStepParentsOverRangeEvaluatedChildrenMatch) {
  for (const char* q :
       {"histogram_quantile(0.9, sum by (le) (rate(h_bucket[5m])))",
        "topk(2, sum by (instance) (rate(x[5m])))", "sum(rate(x[5m])) / sum(rate(y[5m]))",
        "100 - avg(rate(x{job=\"a\"}[5m])) * 100", "timestamp(x)", "timestamp(sum(x))",
        "-sum by (job) (g)", "x - y", "quantile(0.5, rate(x[5m]))",
        "max_over_time(sum(rate(x[5m]))[10m:1m])", "absent(nothing)"}) {
    ExpectAllGrids(q);
  }
}

TEST_F(RangeEvaluationTest, SeriesCollidingWithoutTheirNameFailAsStepByStep) {
  // x and y share every label but the name: rate() of both is an error at
  // every step where both have a value.
  ExpectAllGrids("rate({__name__=~\"x|y\"}[5m])");
  ExpectAllGrids("sum by (job) (rate({__name__=~\"x|y\"}[5m]))");
}

TEST_F(RangeEvaluationTest, MaxSamplesCountsHeldRangeResults) {
  EngineOptions opts;
  opts.max_samples = 100;
  Engine engine(opts);
  auto r = engine.RangeQuery(db_, "sum(rate(x[5m]))", 0, 3600 * kSecond, 15 * kSecond);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace vigil::promql
