// Engine behaviour outside the test scripts: limits, cancellation, hostile
// queries, format_query, series selector parsing.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "promql/engine.h"
#include "tests/support/memory_storage.h"

namespace vigil::promql {
namespace {

using std::chrono::steady_clock;

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int s = 0; s < 50; ++s) {
      const Labels l{{"__name__", "x"}, {"i", std::to_string(s)}};
      for (int t = 0; t <= 3600; t += 15) ASSERT_TRUE(db_.AddSample(l, t * 1000LL, t * 1.0 + s).ok());
    }
  }
  storage::MemoryStorage db_;
};

TEST_F(EngineTest, MaxSamples_FailsWithPrometheusMessage) {
  EngineOptions opts;
  opts.max_samples = 100;
  Engine engine(opts);
  auto r = engine.InstantQuery(db_, "sum(rate(x[10m]))", 3600'000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(r.status().message(),
            "query processing would load too many samples into memory in query execution");
}

TEST_F(EngineTest, MaxSamples_AllowsQueriesBelowTheLimit) {
  EngineOptions opts;
  opts.max_samples = 100;
  Engine engine(opts);
  auto r = engine.InstantQuery(db_, "sum(x)", 3600'000);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->value.vector.size(), 1u);
}

TEST_F(EngineTest, RangeQuery_RejectsMoreThan11000Points) {
  Engine engine(EngineOptions{});
  auto r = engine.RangeQuery(db_, "x", 0, 11'000'000, 1000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query "
            "resolution (?step=XX)");
  EXPECT_TRUE(engine.RangeQuery(db_, "x", 0, 10'999'000, 1000).ok());
}

TEST_F(EngineTest, RangeQuery_RejectsNonPositiveStepAndReversedRange) {
  Engine engine(EngineOptions{});
  EXPECT_EQ(engine.RangeQuery(db_, "x", 0, 1000, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(engine.RangeQuery(db_, "x", 2000, 1000, 1).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(EngineTest, Timeout_StopsASlowQueryWithTimeoutStatus) {
  Engine engine(EngineOptions{});
  QueryOptions q;
  q.timeout_ms = 50;
  const auto start = steady_clock::now();
  auto r = engine.RangeQuery(db_, "max_over_time(rate(x[5m])[1h:1s])", 0, 3600'000, 1000, q);
  const auto elapsed = steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kTimeout);
  EXPECT_EQ(r.status().message(), "query timed out in expression evaluation");
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST_F(EngineTest, Cancellation_StopsTheQueryWithCanceledStatus) {
  Engine engine(EngineOptions{});
  std::atomic<bool> cancelled{true};
  QueryOptions q;
  q.cancelled = &cancelled;
  auto r = engine.InstantQuery(db_, "sum(x)", 3600'000, q);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCancelled);
}

TEST_F(EngineTest, Concurrency_QueriesBeyondTheLimitWaitForASlot) {
  EngineOptions opts;
  opts.max_concurrency = 1;
  Engine engine(opts);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      if (engine.RangeQuery(db_, "sum(rate(x[5m]))", 0, 3600'000, 15'000).ok()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 4);
}

TEST_F(EngineTest, DeepNesting_IsRejectedQuickly) {
  Engine engine(EngineOptions{});
  const int n = 10000;
  const std::vector<std::string> queries = {
      std::string(n, '(') + "1" + std::string(n, ')'),
      std::string(n, '-') + "1",
      [&] {
        std::string q;
        for (int i = 0; i < n; ++i) q += "abs(";
        return q + "x" + std::string(n, ')');
      }(),
      [&] {
        std::string q = "x";
        for (int i = 0; i < n; ++i) q += " + x";
        return q;
      }(),
      [&] {
        std::string q = "x";
        for (int i = 0; i < n; ++i) q += " ^ x";
        return q;
      }(),
  };
  for (const auto& q : queries) {
    const auto start = steady_clock::now();
    auto r = engine.InstantQuery(db_, q, 0);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << q.substr(0, 20);
    EXPECT_NE(r.status().message().find("maximum depth"), std::string::npos) << r.status().message();
    EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(1));
  }
}

TEST_F(EngineTest, HostileRangesAndOffsets_AreBoundedOrRejected) {
  EngineOptions opts;
  opts.max_samples = 1'000'000;
  Engine engine(opts);
  QueryOptions q;
  q.timeout_ms = 500;
  const char* queries[] = {
      "max_over_time(x[1y:1ms])",       "max_over_time(nothing[1y:1ms])",
      "x[1000000000y]",                 "x offset 100000000y",
      "x @ 9000000000000",              "rate(x[1y] offset -1y)",
      "sum_over_time(x[1000000000y:1000000y])",
  };
  for (const char* query : queries) {
    const auto start = steady_clock::now();
    auto r = engine.InstantQuery(db_, query, 3600'000, q);
    if (!r.ok()) {
      EXPECT_TRUE(r.status().code() == StatusCode::kTimeout ||
                  r.status().code() == StatusCode::kResourceExhausted ||
                  r.status().code() == StatusCode::kInvalidArgument)
          << query << ": " << r.status().message();
    }
    EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(5)) << query;
  }
}

TEST_F(EngineTest, CatastrophicRegex_RunsInLinearTime) {
  const std::string long_value(5000, 'a');
  ASSERT_TRUE(db_.AddSample(Labels{{"__name__", "y"}, {"v", long_value}}, 0, 1).ok());
  Engine engine(EngineOptions{});
  const auto start = steady_clock::now();
  auto r = engine.InstantQuery(db_, "y{v=~\"(a*)*(a|aa)*b\"}", 0);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->value.vector.empty());
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(1));
}

TEST_F(EngineTest, HugeRegex_IsRejectedAsBadData) {
  Engine engine(EngineOptions{});
  auto r = engine.InstantQuery(db_, "y{v=~\"((a{100}){100}){100}\"}", 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(EngineTest, InstantQuery_ReturnsScalarsStringsAndMatrices) {
  Engine engine(EngineOptions{});
  auto s = engine.InstantQuery(db_, "1 + 1", 5000);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->value.type, ValueType::kScalar);
  EXPECT_EQ(s->value.scalar.v, 2);
  EXPECT_EQ(s->value.scalar.t, 5000);
  auto str = engine.InstantQuery(db_, "\"hello\"", 5000);
  ASSERT_TRUE(str.ok());
  EXPECT_EQ(str->value.type, ValueType::kString);
  EXPECT_EQ(str->value.string, "hello");
  auto m = engine.InstantQuery(db_, "x{i=\"0\"}[1m]", 60'000);
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->value.type, ValueType::kMatrix);
  ASSERT_EQ(m->value.matrix.size(), 1u);
  EXPECT_EQ(m->value.matrix[0].points.size(), 5u);
}

TEST_F(EngineTest, InstantVectorSamples_CarryTheEvaluationTime) {
  Engine engine(EngineOptions{});
  auto r = engine.InstantQuery(db_, "x{i=\"1\"}", 20'000);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->value.vector.size(), 1u);
  EXPECT_EQ(r->value.vector[0].point.t, 20'000);
  EXPECT_EQ(r->value.vector[0].point.v, 16);
}

TEST(FormatQuery, PrintsPrometheusCanonicalForm) {
  const std::pair<const char*, const char*> cases[] = {
      {"sum by(job)(rate(http_requests_total{job=~\"api\",code!=\"200\"}[5m]))",
       "sum by (job) (rate(http_requests_total{code!=\"200\",job=~\"api\"}[5m]))"},
      {"a+on(x)group_left(y)b", "a + on (x) group_left (y) b"},
      {"foo offset 5m @ 100", "foo @ 100.000 offset 5m"},
      {"-1", "-1"},
      {"1e6", "1e+06"},
      {"x[1h:]", "x[1h:]"},
      {"topk(3,x)", "topk(3, x)"},
      // Values print as strconv.Quote: non-printable runes escaped, printable kept.
      {"x{a=\"\\u200b\"}", "x{a=\"\\u200b\"}"},
      {"label_replace(x,\"a\",\"\u00e9\\t\",\"b\",\"\")",
       "label_replace(x, \"a\", \"\u00e9\\t\", \"b\", \"\")"},
  };
  for (const auto& [in, want] : cases) {
    auto got = FormatQuery(in);
    ASSERT_TRUE(got.ok()) << in << ": " << got.status().message();
    EXPECT_EQ(*got, want) << in;
  }
}

TEST(FormatQuery, SplitsExpressionsLongerThan100Characters) {
  auto got = FormatQuery(
      "sum(rate(inventory_requests_total{status=~\"4..|5..\"}[5m])) / "
      "sum(rate(inventory_requests_total[5m])) * 100");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got,
            "  sum(rate(inventory_requests_total{status=~\"4..|5..\"}[5m])) / "
            "sum(rate(inventory_requests_total[5m]))\n"
            "*\n"
            "  100");
}

TEST(ParseSeriesSelector, ReturnsMatchersWithTheNameLast) {
  auto m = ParseSeriesSelector("up{job=\"x\", instance=~\"a.*\"}");
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->size(), 3u);
  EXPECT_EQ((*m)[2].name(), "__name__");
  EXPECT_EQ((*m)[2].value(), "up");
  EXPECT_EQ((*m)[1].type(), MatchType::kRegexMatch);
}

TEST(ParseSeriesSelector, RejectsExpressionsThatAreNotSelectors) {
  EXPECT_EQ(ParseSeriesSelector("sum(up)").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseSeriesSelector("up[5m]").status().code(), StatusCode::kInvalidArgument);
}

// As Prometheus's ParseMetricSelector: syntax only; the API rejects such
// match[] values itself with "match[] must contain at least one non-empty matcher".
TEST(ParseSeriesSelector, AcceptsSelectorsWhoseMatchersAllMatchEmpty) {
  auto m = ParseSeriesSelector("{job=~\".*\"}");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ(m->size(), 1u);
  EXPECT_TRUE((*m)[0].MatchesEmpty());
}

TEST(ParseQuery, EmptyInputSaysNoExpressionFound) {
  EXPECT_EQ(ParseSeriesSelector("").status().message(),
            "1:1: parse error: no expression found in input");
  EXPECT_EQ(FormatQuery("  # only a comment").status().message(),
            "1:1: parse error: no expression found in input");
}

}  // namespace
}  // namespace vigil::promql
