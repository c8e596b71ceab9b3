// PromQL annotations (warnings and infos) as Prometheus 2.48 returns them.
// Prometheus 2.48 has no test files for them; the expected texts follow its
// source at v2.48.0: util/annotations/annotations.go (the messages, and
// "<message> (line:col)" from posrange.StartPosInput), promql/functions.go
// funcHistogramQuantile / funcQuantileOverTime, promql/engine.go (the
// quantile aggregation), promql/quantile.go (bucketQuantile, ensureMonotonic)
// and web/api/v1/api.go (respond: AsStrings(query, 10)).
#include "promql/annotations.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "promql/engine.h"
#include "tests/support/memory_storage.h"

namespace vigil::promql {
namespace {

constexpr int64_t kT = 600'000;

class AnnotationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A classic histogram whose cumulative counts are not monotonic (the
    // 0.5 bucket holds more than the 1 bucket), one with a bad `le`, and a
    // gauge.
    Add({{"__name__", "req_bucket"}, {"le", "0.5"}, {"job", "a"}}, 8);
    Add({{"__name__", "req_bucket"}, {"le", "1"}, {"job", "a"}}, 6);
    Add({{"__name__", "req_bucket"}, {"le", "+Inf"}, {"job", "a"}}, 10);
    Add({{"__name__", "bad_bucket"}, {"le", "x1"}}, 1);
    Add({{"__name__", "bad_bucket"}, {"le", "+Inf"}}, 2);
    Add({{"__name__", "temp"}, {"room", "a"}}, 20);
    Add({{"__name__", "temp"}, {"room", "b"}}, 22);
  }
  void Add(const Labels& l, double v) {
    for (int64_t t = 0; t <= kT; t += 60'000) ASSERT_TRUE(db_.AddSample(l, t, v).ok());
  }
  std::vector<std::string> Warnings(const std::string& query) {
    auto r = engine_.InstantQuery(db_, query, kT);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->warnings : std::vector<std::string>{"query failed"};
  }
  using W = std::vector<std::string>;

  storage::MemoryStorage db_;
  Engine engine_{EngineOptions{}};
};

TEST_F(AnnotationsTest, QuantileOutsideZeroToOneIsAWarningAtTheQuantileArgument) {
  EXPECT_EQ(Warnings("histogram_quantile(2, req_bucket)"),
            W{"PromQL warning: quantile value should be between 0 and 1, got 2 (1:20)"});
  EXPECT_EQ(Warnings("quantile(-0.5, temp)"),
            W{"PromQL warning: quantile value should be between 0 and 1, got -0.5 (1:10)"});
  EXPECT_EQ(Warnings("quantile_over_time(NaN, temp[5m])"),
            W{"PromQL warning: quantile value should be between 0 and 1, got NaN (1:20)"});
  // %g: exponent form from 1e+06 on; the position is the argument's, parentheses included.
  EXPECT_EQ(Warnings("histogram_quantile((1e6), req_bucket)"),
            W{"PromQL warning: quantile value should be between 0 and 1, got 1e+06 (1:20)"});
  EXPECT_EQ(Warnings("quantile(1, temp)"), W{});
  EXPECT_EQ(Warnings("quantile(0, temp)"), W{});
}

TEST_F(AnnotationsTest, QuantileWarningNeedsSomethingToTakeTheQuantileOf) {
  // engine.go warns per aggregation group and funcQuantileOverTime per
  // series with samples; funcHistogramQuantile warns whatever its input.
  EXPECT_EQ(Warnings("quantile(2, nothing)"), W{});
  EXPECT_EQ(Warnings("quantile_over_time(2, nothing[5m])"), W{});
  EXPECT_EQ(Warnings("histogram_quantile(2, nothing)").size(), 1u);
}

TEST_F(AnnotationsTest, MalformedLeIsAWarningAtTheVectorArgumentAndTheBucketIsSkipped) {
  auto r = engine_.InstantQuery(db_, "histogram_quantile(0.5, bad_bucket)", kT);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->warnings,
            W{"PromQL warning: bucket label \"le\" is missing or has a malformed value of \"x1\" "
              "for metric name \"bad_bucket\" (1:25)"});
  ASSERT_EQ(r->value.vector.size(), 1u);
  EXPECT_TRUE(std::isnan(r->value.vector[0].point.v)) << "only the +Inf bucket is left";
  // A missing le is an empty one; rate() has dropped the name.
  EXPECT_EQ(Warnings("histogram_quantile(0.5, rate(temp[5m]))"),
            W{"PromQL warning: bucket label \"le\" is missing or has a malformed value of \"\" "
              "for metric name \"\" (1:25)"});
}

TEST_F(AnnotationsTest, NonMonotonicBucketsAreAnInfoNamingNoMetricAs248Does) {
  auto r = engine_.InstantQuery(db_, "histogram_quantile(0.9, req_bucket)", kT);
  ASSERT_TRUE(r.ok());
  // funcHistogramQuantile names mb.metric, from which 2.48 already deleted
  // __name__ and le (excludedLabels): the name is always "".
  EXPECT_EQ(r->warnings, W{"PromQL info: input to histogram_quantile needed to be fixed for "
                           "monotonicity (and may give inaccurate results) for metric name \"\" "
                           "(1:25)"});
  ASSERT_EQ(r->value.vector.size(), 1u);
  // Counts 8, 8 (forced up from 6), 10: rank 9 falls in the +Inf bucket.
  EXPECT_EQ(r->value.vector[0].point.v, 1);
  // No info when nothing was computed from the buckets (q out of range).
  EXPECT_EQ(Warnings("histogram_quantile(-1, req_bucket)").size(), 1u);
}

TEST_F(AnnotationsTest, EachMessageOnceAcrossStepsAndPositionsCountLines) {
  auto r = engine_.RangeQuery(
      db_, "histogram_quantile(0.9, req_bucket)\n+ on() group_left\nquantile(7, temp)", 0, kT,
      60'000);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->warnings,
            (W{"PromQL info: input to histogram_quantile needed to be fixed for monotonicity (and "
               "may give inaccurate results) for metric name \"\" (1:25)",
               "PromQL warning: quantile value should be between 0 and 1, got 7 (3:10)"}));
}

TEST(StartPosInputTest, LineAndByteColumnAsPrometheus) {
  EXPECT_EQ(StartPosInput("sum(x)", 0), "1:1");
  EXPECT_EQ(StartPosInput("a\nbc\nd", 5), "3:1");
  EXPECT_EQ(StartPosInput("a\nbc", 3), "2:2");
  EXPECT_EQ(StartPosInput("x", 2), "invalid position");
  EXPECT_EQ(StartPosInput("", 0), "unknown position");
}

TEST(LimitAnnotationsTest, TenThenHowManyMoreWereOmitted) {
  std::vector<std::string> many;
  for (int i = 0; i < 13; ++i) many.push_back("w" + std::to_string(i));
  const auto limited = LimitAnnotations(many, 10);
  ASSERT_EQ(limited.size(), 11u);
  EXPECT_EQ(limited[9], "w9");
  EXPECT_EQ(limited[10], "3 more annotations omitted");
  EXPECT_EQ(LimitAnnotations({"a", "b"}, 10).size(), 2u);
}

}  // namespace
}  // namespace vigil::promql
