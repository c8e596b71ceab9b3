// /api/v1/query, query_range, format_query and query_exemplars over loopback:
// exact JSON shapes, parameter forms and Prometheus 2.42's error contract.
#include <gtest/gtest.h>

#include "tests/web/api_server.h"

namespace vigil::web::testing {
namespace {

class QueryApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i <= 10; ++i) {
      api_.Add({{"__name__", "up"}, {"job", "api"}, {"instance", "a:1"}},
               kNowMs - 100'000 + i * 10'000, 1);
    }
  }
  ApiServer api_;
};

TEST_F(QueryApiTest, InstantVector_ExactJsonWithMillisecondTimestamp) {
  const auto r = api_.Get(Url("/api/v1/query", {{"query", "up"}, {"time", "1700000000.123"}}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("Content-Type"), "application/json");
  EXPECT_EQ(r.body,
            R"({"status":"success","data":{"resultType":"vector","result":[{"metric":)"
            R"({"__name__":"up","instance":"a:1","job":"api"},"value":[1700000000.123,"1"]}]}})");
}

// Annotations in the answer as Prometheus 2.48's web/api/v1/api.go respond
// writes them: one "warnings" list after "data" (2.48 has no separate
// "infos"; infos are in it too, prefixed "PromQL info:"), at most 10 of them
// and then "<n> more annotations omitted". (Go lists them in map order,
// i.e. any; Vigil sorts them by message.)
TEST_F(QueryApiTest, Annotations_AreWarningsAfterTheDataAtMostTen) {
  const auto r = api_.Get(Url("/api/v1/query", {{"query", "histogram_quantile(2, up)"}}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            R"J({"status":"success","data":{"resultType":"vector","result":[]},"warnings":[)J"
            R"J("PromQL warning: bucket label \"le\" is missing or has a malformed value of \"\")J"
            R"J( for metric name \"up\" (1:23)",)J"
            R"J("PromQL warning: quantile value should be between 0 and 1, got 2 (1:20)"]})J");
  for (int i = 0; i < 13; ++i) {
    api_.Add({{"__name__", "b" + std::to_string(i)}, {"le", "x"}}, kNowMs, 1);
  }
  const auto many =
      api_.Get(Url("/api/v1/query_range", {{"query", "histogram_quantile(0.5, {le=\"x\"})"},
                                           {"start", "1699999990"},
                                           {"end", "1700000000"},
                                           {"step", "5"}}))
          .Json();
  ASSERT_EQ(many["warnings"].size(), 11u) << many.dump();
  EXPECT_EQ(many["warnings"][10], "3 more annotations omitted");
}

TEST_F(QueryApiTest, InstantQuery_DefaultsTimeToNow) {
  const auto r = api_.Get(Url("/api/v1/query", {{"query", "42"}}));
  EXPECT_EQ(r.body,
            R"({"status":"success","data":{"resultType":"scalar","result":[1700000000,"42"]}})");
}

TEST_F(QueryApiTest, InstantQuery_AcceptsRfc3339Time) {
  const auto r =
      api_.Get(Url("/api/v1/query", {{"query", "1.5"}, {"time", "2023-01-01T00:00:00.5Z"}}));
  EXPECT_EQ(r.body,
            R"({"status":"success","data":{"resultType":"scalar","result":[1672531200.5,"1.5"]}})");
}

TEST_F(QueryApiTest, InstantQuery_StringResult) {
  const auto r = api_.Get(Url("/api/v1/query", {{"query", "\"abc\""}, {"time", "100"}}));
  EXPECT_EQ(r.body, R"({"status":"success","data":{"resultType":"string","result":[100,"abc"]}})");
}

TEST_F(QueryApiTest, InstantQuery_FormPostEqualsGet) {
  const auto get = api_.Get(Url("/api/v1/query", {{"query", "sum(up)"}, {"time", "1700000000"}}));
  const auto post =
      api_.PostForm("/api/v1/query", Form({{"query", "sum(up)"}, {"time", "1700000000"}}));
  EXPECT_EQ(post.status, 200);
  EXPECT_EQ(get.body, post.body);
  EXPECT_EQ(post.Json()["data"]["result"][0]["value"][1], "1");
}

TEST_F(QueryApiTest, InstantQuery_SpecialFloatValuesAsStrings) {
  const auto r = api_.Get(Url("/api/v1/query", {{"query", "1/0"}, {"time", "1"}}));
  EXPECT_EQ(r.Json()["data"]["result"][1], "+Inf");
  const auto big = api_.Get(Url("/api/v1/query", {{"query", "1000000"}, {"time", "1"}}));
  EXPECT_EQ(big.Json()["data"]["result"][1], "1000000");
}

TEST_F(QueryApiTest, InstantQuery_StatsAreReportedWhenAsked) {
  const auto r = api_.Get(Url("/api/v1/query", {{"query", "up"}, {"stats", "all"}}));
  const auto stats = r.Json()["data"]["stats"];
  for (const char* key : {"evalTotalTime", "resultSortTime", "queryPreparationTime",
                          "innerEvalTime", "execQueueTime", "execTotalTime"}) {
    EXPECT_TRUE(stats["timings"].contains(key)) << key;
  }
  EXPECT_TRUE(stats["samples"].contains("totalQueryableSamples"));
  EXPECT_TRUE(stats["samples"].contains("peakSamples"));
  EXPECT_FALSE(api_.Get(Url("/api/v1/query", {{"query", "up"}})).Json()["data"].contains("stats"));
}

TEST_F(QueryApiTest, BadTime_Is400BadDataWithPrometheusWording) {
  const auto r = api_.Get(Url("/api/v1/query", {{"query", "up"}, {"time", "abc"}}));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"time\": )"
            R"(Invalid time value for 'time': cannot parse \"abc\" to a valid timestamp"})");
}

TEST_F(QueryApiTest, MissingQuery_IsParseError) {
  const auto r = api_.Get("/api/v1/query");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Json()["errorType"], "bad_data");
  EXPECT_EQ(r.Json()["error"],
            "invalid parameter \"query\": 1:1: parse error: no expression found in input");
}

TEST_F(QueryApiTest, SyntaxError_NamesTheQueryParameter) {
  const auto r = api_.Get(Url("/api/v1/query", {{"query", "up{"}}));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Json()["status"], "error");
  EXPECT_TRUE(r.Json()["error"].get<std::string>().starts_with("invalid parameter \"query\": 1:"));
}

TEST_F(QueryApiTest, BadTimeout_Is400) {
  const auto r = api_.Get(Url("/api/v1/query", {{"query", "up"}, {"timeout", "abc"}}));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Json()["error"],
            "invalid parameter \"timeout\": cannot parse \"abc\" to a valid duration");
}

TEST_F(QueryApiTest, RangeQuery_MatrixWithStepAsDuration) {
  const auto r = api_.Get(
      Url("/api/v1/query_range",
          {{"query", "up"}, {"start", "1699999980"}, {"end", "1700000000"}, {"step", "10s"}}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":)"
                    R"({"__name__":"up","instance":"a:1","job":"api"},"values":)"
                    R"([[1699999980,"1"],[1699999990,"1"],[1700000000,"1"]]}]}})");
}

TEST_F(QueryApiTest, RangeQuery_StepAsFloatSecondsAndRfc3339Bounds) {
  const auto r = api_.PostForm("/api/v1/query_range", Form({{"query", "1"},
                                                            {"start", "2023-11-14T22:13:00Z"},
                                                            {"end", "2023-11-14T22:13:01Z"},
                                                            {"step", "0.5"}}));
  EXPECT_EQ(r.status, 200);
  const auto values = r.Json()["data"]["result"][0]["values"];
  ASSERT_EQ(values.size(), 3u);
  EXPECT_EQ(values[1][0], 1699999980.5);
}

TEST_F(QueryApiTest, RangeQuery_EndBeforeStart) {
  const auto r = api_.Get(
      Url("/api/v1/query_range", {{"query", "up"}, {"start", "10"}, {"end", "5"}, {"step", "1"}}));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Json()["error"],
            "invalid parameter \"end\": end timestamp must not be before start time");
}

TEST_F(QueryApiTest, RangeQuery_ParseAndTypeErrorsAreBadDataWithoutParameterPrefix) {
  // Prometheus 2.42 names the query parameter for instant queries only.
  const auto parse = api_.Get(
      Url("/api/v1/query_range", {{"query", "sum("}, {"start", "0"}, {"end", "5"}, {"step", "1"}}));
  EXPECT_EQ(parse.status, 400);
  EXPECT_EQ(parse.Json()["errorType"], "bad_data");
  EXPECT_EQ(parse.Json()["error"], "1:5: parse error: unclosed left parenthesis");
  const auto type = api_.Get(Url("/api/v1/query_range",
                                 {{"query", "\"s\""}, {"start", "0"}, {"end", "5"}, {"step", "1"}}));
  EXPECT_EQ(type.Json()["error"],
            "invalid expression type \"string\" for range query, must be Scalar or instant Vector");
  const auto instant = api_.Get(Url("/api/v1/query", {{"query", "sum("}}));
  EXPECT_EQ(instant.Json()["error"],
            "invalid parameter \"query\": 1:5: parse error: unclosed left parenthesis");
}

TEST_F(QueryApiTest, RangeQuery_ZeroStep) {
  const auto r = api_.Get(
      Url("/api/v1/query_range", {{"query", "up"}, {"start", "0"}, {"end", "5"}, {"step", "0"}}));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Json()["error"],
            "invalid parameter \"step\": zero or negative query resolution step widths are not "
            "accepted. Try a positive integer");
}

TEST_F(QueryApiTest, RangeQuery_UnparsableStep) {
  const auto r = api_.Get(
      Url("/api/v1/query_range", {{"query", "up"}, {"start", "0"}, {"end", "5"}, {"step", "abc"}}));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Json()["error"],
            "invalid parameter \"step\": cannot parse \"abc\" to a valid duration");
}

TEST_F(QueryApiTest, RangeQuery_TooManyPoints) {
  const auto r = api_.Get(Url("/api/v1/query_range",
                              {{"query", "up"}, {"start", "0"}, {"end", "50000"}, {"step", "1"}}));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Json()["errorType"], "bad_data");
  EXPECT_EQ(r.Json()["error"],
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the "
            "query resolution (?step=XX)");
}

TEST_F(QueryApiTest, RangeQuery_MissingStart) {
  const auto r =
      api_.Get(Url("/api/v1/query_range", {{"query", "up"}, {"end", "5"}, {"step", "1"}}));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Json()["error"],
            "invalid parameter \"start\": cannot parse \"\" to a valid timestamp");
}

TEST_F(QueryApiTest, ExecutionError_Is422) {
  // Two series with identical label sets after dropping the name: a
  // many-to-many match is an execution error in Prometheus.
  api_.Add({{"__name__", "a"}, {"x", "1"}, {"y", "1"}}, kNowMs, 1);
  api_.Add({{"__name__", "a"}, {"x", "1"}, {"y", "2"}}, kNowMs, 1);
  api_.Add({{"__name__", "b"}, {"x", "1"}}, kNowMs, 1);
  const auto r = api_.Get(Url("/api/v1/query", {{"query", "b + on(x) a"}}));
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.Json()["errorType"], "execution");
}

TEST_F(QueryApiTest, FormatQuery_PrettyPrints) {
  const auto r = api_.Get(Url("/api/v1/format_query", {{"query", "sum(up)by(job)"}}));
  EXPECT_EQ(r.body, R"j({"status":"success","data":"sum by (job) (up)"})j");
  const auto bad = api_.Get(Url("/api/v1/format_query", {{"query", "sum("}}));
  EXPECT_EQ(bad.status, 400);
  EXPECT_TRUE(
      bad.Json()["error"].get<std::string>().starts_with("invalid parameter \"query\": 1:"));
}

TEST_F(QueryApiTest, QueryExemplars_EmptyList) {
  const auto r = api_.Get(Url("/api/v1/query_exemplars", {{"query", "up"}}));
  EXPECT_EQ(r.body, R"({"status":"success","data":[]})");
}

// Hostile input: a client's mistake or attack is a 4xx, never a crash.

std::string Repeat(const std::string& unit, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += unit;
  return out;
}

void ExpectDepthError(const Reply& r, const std::string& prefix) {
  ASSERT_EQ(r.status, 400) << r.body.substr(0, 200);
  EXPECT_EQ(r.Json()["errorType"], "bad_data");
  const std::string error = r.Json()["error"];
  EXPECT_TRUE(error.starts_with(prefix)) << error;
  EXPECT_NE(error.find("parse error: expression nesting exceeds the maximum depth of 256"),
            std::string::npos)
      << error;
}

// The reported crash: this one POST overflowed the server's stack.
TEST_F(QueryApiTest, HostileQuery_SubqueryChainOf100000ByPost_Is400AndServerLives) {
  const std::string chain = "vector(1)" + Repeat("[1m:]", 100'000);
  ExpectDepthError(api_.PostForm("/api/v1/query", Form({{"query", chain}})),
                   "invalid parameter \"query\": 1:");
  ExpectDepthError(
      api_.PostForm("/api/v1/query_range",
                    Form({{"query", chain}, {"start", "0"}, {"end", "60"}, {"step", "15"}})),
      "1:");
  ExpectDepthError(api_.PostForm("/api/v1/query", Form({{"query", Repeat("-", 100'000) + "1"}})),
                   "invalid parameter \"query\": 1:");
  ExpectDepthError(
      api_.PostForm("/api/v1/query", Form({{"query", "1" + Repeat("+1", 100'000)}})),
      "invalid parameter \"query\": 1:");
  EXPECT_EQ(api_.Get(Url("/api/v1/query", {{"query", "1"}})).status, 200);
}

TEST_F(QueryApiTest, HostileQuery_DeepNestingByGet_Is400AndServerLives) {
  ExpectDepthError(api_.Get(Url("/api/v1/query", {{"query", Repeat("-", 6000) + "1"}})),
                   "invalid parameter \"query\": 1:");
  ExpectDepthError(api_.Get(Url("/api/v1/query", {{"query", "x" + Repeat("[1m:]", 600)}})),
                   "invalid parameter \"query\": 1:");
  // Beyond the URL length limit the request itself is refused.
  const auto huge = api_.Get(Url("/api/v1/query", {{"query", "x" + Repeat("[1m:]", 100'000)}}));
  EXPECT_GE(huge.status, 400);
  EXPECT_LT(huge.status, 500);
  EXPECT_EQ(api_.Get(Url("/api/v1/query", {{"query", "1"}})).status, 200);
}

TEST_F(QueryApiTest, HostileRange_HugeStartAndEndAreTooManyPointsNotAnOverflow) {
  for (const auto& [start, end] : {std::pair{"-9e15", "9e15"}, std::pair{"-9.1e15", "9.1e15"}}) {
    const auto r = api_.Get(Url("/api/v1/query_range",
                                {{"query", "up"}, {"start", start}, {"end", end}, {"step", "1"}}));
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.Json()["error"],
              "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the "
              "query resolution (?step=XX)");
  }
  // At the ends of the time range, with the largest offsets and ranges.
  for (const char* edge : {"-9.1e15", "9.1e15"}) {
    for (const char* query : {"up offset -292y", "count_over_time(up[292y] offset 292y)"}) {
      const auto r = api_.Get(Url("/api/v1/query_range",
                                  {{"query", query}, {"start", edge}, {"end", edge}, {"step", "1"}}));
      EXPECT_EQ(r.status, 200) << query << " at " << edge << ": " << r.body;
    }
  }
}

TEST_F(QueryApiTest, HostileNumbers_NonFiniteAndHugeParametersAre400) {
  const std::vector<std::pair<std::string, std::string>> cases[] = {
      {{"query", "up"}, {"time", "NaN"}},
      {{"query", "up"}, {"time", "Inf"}},
      {{"query", "up"}, {"time", "1e300"}},
      {{"query", "up"}, {"timeout", "1e300"}},
      {{"query", "up"}, {"timeout", "NaN"}},
      {{"query", "up[300y]"}},
      {{"query", "up @ 1e300"}},
      {{"query", "topk(1e300, up)"}},
  };
  for (const auto& params : cases) {
    const auto r = api_.Get(Url("/api/v1/query", params));
    EXPECT_GE(r.status, 400) << params.back().second << ": " << r.body;
    EXPECT_LT(r.status, 500) << params.back().second << ": " << r.body;
  }
  const auto range = api_.Get(Url("/api/v1/query_range",
                                   {{"query", "up"}, {"start", "0"}, {"end", "1"}, {"step", "Inf"}}));
  EXPECT_EQ(range.status, 400);
  EXPECT_EQ(range.Json()["error"],
            "invalid parameter \"step\": cannot parse \"Inf\" to a valid duration. It overflows "
            "int64");
}

// ?timeout= lowers --query.timeout, as Prometheus's context deadline does.
TEST(QueryApiLimits, TimeoutParam_CannotRaiseTheQueryTimeoutFlag) {
  promql::EngineOptions engine;
  engine.timeout_ms = 50;
  engine.max_samples = INT64_MAX;
  ApiServer api({}, {}, true, Backend::kMemory, engine);
  api.Add({{"__name__", "up"}}, kNowMs, 1);
  const auto r = api.Get(Url("/api/v1/query", {{"query", "count_over_time(sum(up)[1h:1ms])"},
                                                {"timeout", "1000h"}}));
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.Json()["errorType"], "timeout");
}

TEST(QueryApiLimits, MaxSamples_Is422ExecutionWithPrometheusMessage) {
  promql::EngineOptions engine;
  engine.max_samples = 5;
  ApiServer api({}, {}, true, Backend::kMemory, engine);
  for (int i = 9; i >= 0; --i) api.Add({{"__name__", "up"}}, kNowMs - i * 1000, 1);
  for (const char* path : {"/api/v1/query", "/api/v1/query_range"}) {
    const auto r = api.Get(Url(path, {{"query", "count_over_time(up[30d])"},
                                      {"start", "1700000000"},
                                      {"end", "1700000000"},
                                      {"step", "1"}}));
    EXPECT_EQ(r.status, 422) << path << ": " << r.body;
    EXPECT_EQ(r.Json()["errorType"], "execution");
    EXPECT_EQ(r.Json()["error"],
              "query processing would load too many samples into memory in query execution");
  }
}

}  // namespace
}  // namespace vigil::web::testing
