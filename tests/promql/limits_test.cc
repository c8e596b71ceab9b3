// Hostile queries: every recursion is bounded by the parser's depth limit,
// every number from the query is range-checked before arithmetic, the
// request's timeout only lowers the engine's, and max_samples stops a query
// while its samples are being read. Run these under ASan+UBSan.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "promql/engine.h"
#include "promql/evaluator.h"
#include "promql/parser.h"
#include "tests/support/memory_storage.h"

namespace vigil::promql {
namespace {

using std::chrono::steady_clock;

constexpr int64_t kHour = 3600'000;

// `n` copies of `unit`.
std::string Repeat(const std::string& unit, int n) {
  std::string out;
  out.reserve(unit.size() * static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) out += unit;
  return out;
}

// `open` n times, then `inner`, then `close` n times.
std::string Nest(const std::string& open, const std::string& inner, const std::string& close,
                 int n) {
  return Repeat(open, n) + inner + Repeat(close, n);
}

void ExpectDepthError(const std::string& query) {
  const auto start = steady_clock::now();
  auto r = ParseExpr(query);
  ASSERT_FALSE(r.ok()) << query.substr(0, 40);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(
                "parse error: expression nesting exceeds the maximum depth of 256"),
            std::string::npos)
      << query.substr(0, 40) << ": " << r.status().message();
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(2)) << query.substr(0, 40);
}

class LimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int s = 0; s < 50; ++s) {
      const Labels l{{"__name__", "x"}, {"i", std::to_string(s)}};
      for (int t = 0; t <= 3600; t += 15) {
        ASSERT_TRUE(db_.AddSample(l, t * 1000LL, t * 1.0 + s).ok());
      }
    }
  }
  static constexpr int64_t kSamples = 50 * 241;
  storage::MemoryStorage db_;
};

// The reported crash: one POST of `vector(1)` and 100 000 `[1m:]` overflowed
// the stack, since postfix subqueries did not count towards the depth limit.
TEST(ParserLimits, Parser_SubqueryChainOf100000_IsRejectedNotCrash) {
  ExpectDepthError("vector(1)" + Repeat("[1m:]", 100'000));
  ExpectDepthError("x" + Repeat("[1m:] offset 1m @ 10", 100'000));
}

TEST(ParserLimits, EveryKindOfNesting_IsRejectedWithTheDepthError) {
  const int n = 100'000;
  ExpectDepthError(Nest("(", "1", ")", n));
  ExpectDepthError(Repeat("-", n) + "1");
  ExpectDepthError(Repeat("-", n) + "x");
  ExpectDepthError("1" + Repeat(" + 1", n));
  ExpectDepthError("x" + Repeat(" or x", n));
  ExpectDepthError("x" + Repeat(" ^ x", n));
  ExpectDepthError(Nest("abs(", "x", ")", n));
  ExpectDepthError(Nest("sum(", "x", ")", n));
  ExpectDepthError(Nest("topk(1, ", "x", ")", n));
  ExpectDepthError(Nest("max_over_time(", "x", "[1m:])", n));
  ExpectDepthError(Nest("-(", "x", ")[1m:]", n));
}

// Lists are parsed in loops, not by recursion: long ones are fine.
TEST(ParserLimits, HundredThousandMatchersOrArguments_ParseInLinearTime) {
  const auto start = steady_clock::now();
  EXPECT_TRUE(ParseExpr("x{" + Repeat("a=\"1\",", 100'000) + "b=\"2\"}").ok());
  EXPECT_TRUE(ParseExpr("label_join(x, \"d\", \"-\"" + Repeat(", \"a\"", 100'000) + ")").ok());
  auto sum = ParseExpr("sum(x" + Repeat(", x", 100'000) + ")");
  ASSERT_FALSE(sum.ok());
  EXPECT_EQ(sum.status().message(),
            "1:1: parse error: wrong number of arguments for aggregate expression provided, "
            "expected 1, got 100001");
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(5));
}

// The deepest trees the parser accepts go through the type checker, the
// evaluator, the formatter and the destructor, which all recurse on the tree,
// on a thread with the default stack as the HTTP server's are.
TEST_F(LimitsTest, DeepestAcceptedTrees_EvaluateFormatAndFree) {
  // Calls and right-associative operators take two levels per nesting (the
  // call and its argument), a subquery in a call three.
  const int n = kMaxParseDepth - 6;
  const std::vector<std::string> queries = {
      Nest("(", "x", ")", n),
      Repeat("-", n) + "x",
      "x" + Repeat(" + x", n),
      "x" + Repeat(" ^ 1", n / 2),
      Nest("abs(", "x", ")", n / 2),
      Nest("sum(", "x", ")", n / 2),
      Nest("max_over_time(", "vector(1)", "[1m:])", n / 3),
  };
  std::thread worker([&] {
    Engine engine(EngineOptions{});
    for (const auto& q : queries) {
      auto instant = engine.InstantQuery(db_, q, kHour - 1);
      EXPECT_TRUE(instant.ok()) << q.substr(0, 30) << ": " << instant.status().message();
      auto range = engine.RangeQuery(db_, q, kHour - 600'000, kHour, 60'000);
      EXPECT_TRUE(range.ok()) << q.substr(0, 30) << ": " << range.status().message();
      auto formatted = FormatQuery(q);
      EXPECT_TRUE(formatted.ok()) << q.substr(0, 30) << ": " << formatted.status().message();
    }
  });
  worker.join();
}

TEST(ParserLimits, DurationsBeyond292Years_AreOutOfRangeAsPrometheus) {
  const std::pair<const char*, const char*> cases[] = {
      {"x[300y]", "1:3: parse error: duration out of range"},
      {"x[99999999999y]", "1:3: parse error: duration out of range"},
      {"x[99999999999999999999999s]", "1:3: parse error: duration out of range"},
      {"x offset 300y", "1:10: parse error: duration out of range"},
      {"x offset -300y", "1:11: parse error: duration out of range"},
      {"x[1h:300y]", "1:6: parse error: duration out of range"},
      {"x[1m1h]", "1:3: parse error: not a valid duration string: \"1m1h\""},
      {"x @ 1e20", "1:1: parse error: timestamp out of bounds for @ modifier: "
                   "100000000000000000000.000000"},
  };
  for (const auto& [query, want] : cases) {
    auto r = ParseExpr(query);
    ASSERT_FALSE(r.ok()) << query;
    EXPECT_EQ(r.status().message(), want) << query;
  }
  EXPECT_TRUE(ParseExpr("x[292y] offset -292y").ok());
}

// Times near the ends of int64 combined with the largest offsets, ranges and
// @ timestamps: UBSan reports any overflow; results are simply empty.
TEST_F(LimitsTest, ExtremeTimesOffsetsAndRanges_EvaluateWithoutOverflow) {
  Engine engine(EngineOptions{});
  const int64_t edge = 9'200'000'000'000'000'000;
  const char* queries[] = {
      "x offset 292y",
      "x offset -292y",
      "x @ -9.1e15 offset 292y",
      "x @ 9.1e15 offset -292y",
      "count_over_time(x[292y] offset 292y)",
      "count_over_time(x[292y] offset -292y)",
      "max_over_time(max_over_time(x[292y:100y] offset 292y)[292y:100y] offset 292y)",
      "max_over_time(max_over_time(x[292y:100y] offset -292y)[292y:100y] offset -292y)",
      "timestamp(x @ end())",
  };
  for (const char* q : queries) {
    for (const int64_t ts : {-edge, edge, int64_t{0}}) {
      auto r = engine.InstantQuery(db_, q, ts);
      EXPECT_TRUE(r.ok()) << q << " at " << ts << ": " << r.status().message();
    }
    auto range = engine.RangeQuery(db_, q, -edge, edge, edge);
    EXPECT_TRUE(range.ok()) << q << ": " << range.status().message();
  }
}

TEST_F(LimitsTest, RangeQuery_SpanBeyondInt64_IsRejectedAsTooManyPoints) {
  Engine engine(EngineOptions{});
  const int64_t edge = 9'200'000'000'000'000'000;
  auto r = engine.RangeQuery(db_, "x", -edge, edge, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query "
            "resolution (?step=XX)");
  EXPECT_EQ(RangeStepCount(INT64_MIN, INT64_MAX, 1), INT64_MAX);
  EXPECT_EQ(RangeStepCount(INT64_MIN, INT64_MAX, INT64_MAX), 2);
  EXPECT_EQ(RangeStepCount(-10, 10, 5), 4);
}

// Prometheus's ?timeout= wraps the query in a shorter context; it never
// extends --query.timeout.
TEST_F(LimitsTest, Timeout_RequestCannotRaiseTheEngineTimeout) {
  EngineOptions opts;
  opts.timeout_ms = 50;
  opts.max_samples = INT64_MAX;
  Engine engine(opts);
  QueryOptions q;
  q.timeout_ms = 1000 * kHour;
  const auto start = steady_clock::now();
  auto r = engine.InstantQuery(db_, "count_over_time(sum(x)[1h:1ms])", kHour, q);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kTimeout);
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(LimitsTest, Timeout_ZeroHasAlreadyExpired) {
  Engine engine(EngineOptions{});
  QueryOptions q;
  q.timeout_ms = 0;
  EXPECT_EQ(engine.InstantQuery(db_, "x", kHour, q).status().code(), StatusCode::kTimeout);
  q.timeout_ms = -1000;
  EXPECT_EQ(engine.InstantQuery(db_, "1", kHour, q).status().code(), StatusCode::kTimeout);
}

// The limit is checked as samples are read, not after the whole selection
// has been copied into memory.
TEST_F(LimitsTest, MaxSamples_StopsReadingOnceTheLimitIsCrossed) {
  auto root = ParseExpr("count_over_time(x[30d])");
  ASSERT_TRUE(root.ok());
  EvalSettings settings;
  settings.start_ms = settings.end_ms = kHour;
  settings.max_samples = 100;
  Evaluator ev(**root, settings);
  auto querier = db_.NewQuerier();
  ASSERT_TRUE(querier.ok());
  const Status st = ev.Load(**querier);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(st.message(),
            "query processing would load too many samples into memory in query execution");
  EXPECT_LE(ev.total_samples_loaded(), 101);
}

TEST_F(LimitsTest, MaxSamples_AppliesToInstantRangeAndSubqueryReads) {
  EngineOptions opts;
  opts.max_samples = kSamples / 2;
  Engine engine(opts);
  const auto instant = engine.InstantQuery(db_, "count(count_over_time(x[30d]))", kHour);
  EXPECT_EQ(instant.status().code(), StatusCode::kResourceExhausted);
  const auto range =
      engine.RangeQuery(db_, "count(count_over_time(x[30d]))", kHour - 60'000, kHour, 60'000);
  EXPECT_EQ(range.status().code(), StatusCode::kResourceExhausted);
  const auto subquery = engine.InstantQuery(db_, "count(max_over_time(x[2h:1m]))", kHour);
  EXPECT_EQ(subquery.status().code(), StatusCode::kResourceExhausted);
  // A query reading fewer samples than the limit still runs.
  const auto small = engine.InstantQuery(db_, "count(count_over_time(x{i=\"1\"}[30d]))", kHour);
  EXPECT_TRUE(small.ok()) << small.status().message();
}

// A subquery step of 1ms over a year caches an inner step per millisecond:
// those count towards the limit, so the query fails instead of growing.
TEST_F(LimitsTest, MaxSamples_TinySubqueryStepsOverEmptyDataStopAtTheLimit) {
  EngineOptions opts;
  opts.max_samples = 1'000'000;
  Engine engine(opts);
  const auto start = steady_clock::now();
  const auto r = engine.InstantQuery(db_, "count_over_time(nothing[1y:1ms])", kHour);
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted) << r.status().message();
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(20));
}

// A label value of 10 KB copied 200 times by the query's template or list.
TEST_F(LimitsTest, LabelFunctions_RefuseToMultiplyALabelValueBeyondOneMebibyte) {
  ASSERT_TRUE(db_.AddSample(Labels{{"__name__", "y"}, {"v", std::string(10'000, 'a')}}, 0, 1).ok());
  Engine engine(EngineOptions{});
  const std::string copies = Repeat("$1", 200);
  auto replaced = engine.InstantQuery(
      db_, "label_replace(y, \"d\", \"" + copies + "\", \"v\", \"(.*)\")", 0);
  EXPECT_EQ(replaced.status().code(), StatusCode::kExecution);
  EXPECT_EQ(replaced.status().message(),
            "label_replace(): resulting label value exceeds 1048576 bytes");
  auto joined =
      engine.InstantQuery(db_, "label_join(y, \"d\", \"\"" + Repeat(", \"v\"", 200) + ")", 0);
  EXPECT_EQ(joined.status().code(), StatusCode::kExecution);
  EXPECT_EQ(joined.status().message(), "label_join(): resulting label value exceeds 1048576 bytes");
  auto once = engine.InstantQuery(db_, "label_replace(y, \"d\", \"$1$1\", \"v\", \"(.*)\")", 0);
  ASSERT_TRUE(once.ok()) << once.status().message();
  ASSERT_EQ(once->value.vector.size(), 1u);
  EXPECT_EQ(once->value.vector[0].metric.Get("d").size(), 20'000u);
}

}  // namespace
}  // namespace vigil::promql
