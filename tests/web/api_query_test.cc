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

}  // namespace
}  // namespace vigil::web::testing
