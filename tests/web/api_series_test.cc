// /api/v1/series, labels, label/<name>/values and /federate over loopback.
#include <gtest/gtest.h>

#include "storage/storage.h"
#include "tests/web/api_server.h"

namespace vigil::web::testing {
namespace {

class SeriesApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    api_.Add({{"__name__", "up"}, {"job", "api"}, {"instance", "a:1"}}, kNowMs - 10'000, 1);
    api_.Add({{"__name__", "up"}, {"job", "node"}, {"instance", "b:2"}}, kNowMs - 10'000, 0);
    api_.Add({{"__name__", "http_requests_total"}, {"job", "api"}, {"code", "200"}}, kNowMs - 5'000,
             7);
    // An old series, outside any recent window.
    api_.Add({{"__name__", "old_metric"}, {"job", "gone"}}, 1'000'000, 3);
  }
  ApiServer api_;
};

TEST_F(SeriesApiTest, Series_ReturnsMatchingLabelSetsSorted) {
  const auto r = api_.Get(Url("/api/v1/series", {{"match[]", "up"}}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"status":"success","data":[{"__name__":"up","instance":"a:1","job":"api"},)"
                    R"({"__name__":"up","instance":"b:2","job":"node"}]})");
}

TEST_F(SeriesApiTest, Series_UnionOfSeveralMatchersWithoutDuplicates) {
  const auto r = api_.PostForm(
      "/api/v1/series", Form({{"match[]", "up{job=\"api\"}"}, {"match[]", "{job=\"api\"}"}}));
  EXPECT_EQ(r.Json()["data"].size(), 2u);
}

TEST_F(SeriesApiTest, Series_TimeRangeExcludesOldSeries) {
  const auto all = api_.Get(Url("/api/v1/series", {{"match[]", "{job=~\".+\"}"}}));
  EXPECT_EQ(all.Json()["data"].size(), 4u);
  const auto recent =
      api_.Get(Url("/api/v1/series", {{"match[]", "{job=~\".+\"}"}, {"start", "1699999000"}}));
  EXPECT_EQ(recent.Json()["data"].size(), 3u);
}

TEST_F(SeriesApiTest, Series_WithoutMatchIsBadData) {
  const auto r = api_.Get("/api/v1/series");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            R"({"status":"error","errorType":"bad_data","error":"no match[] parameter provided"})");
}

TEST_F(SeriesApiTest, Series_BadMatchIsBadData) {
  const auto r = api_.Get(Url("/api/v1/series", {{"match[]", "up{"}}));
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(
      r.Json()["error"].get<std::string>().starts_with("invalid parameter \"match[]\": 1:"));
}

TEST_F(SeriesApiTest, Series_MatcherMatchingEmptyIsRefused) {
  const auto r = api_.Get(Url("/api/v1/series", {{"match[]", "{job=~\".*\"}"}}));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Json()["error"],
            "invalid parameter \"match[]\": match[] must contain at least one non-empty matcher");
}

TEST_F(SeriesApiTest, Labels_BadMatchIsBadDataWithoutParameterPrefix) {
  // Prometheus 2.42 names the parameter for /series but not for the label endpoints.
  for (const char* path : {"/api/v1/labels", "/api/v1/label/job/values"}) {
    const auto bad = api_.Get(Url(path, {{"match[]", "up{"}}));
    EXPECT_EQ(bad.status, 400) << path;
    EXPECT_EQ(bad.Json()["error"], "1:4: parse error: unexpected end of input inside braces")
        << path;
    const auto empty = api_.Get(Url(path, {{"match[]", "{job=\"\"}"}}));
    EXPECT_EQ(empty.Json()["error"], "match[] must contain at least one non-empty matcher") << path;
  }
}

TEST_F(SeriesApiTest, Series_BadStart) {
  const auto r = api_.Get(Url("/api/v1/series", {{"match[]", "up"}, {"start", "abc"}}));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Json()["error"],
            "invalid parameter \"start\": Invalid time value for 'start': cannot parse \"abc\" to "
            "a valid timestamp");
}

TEST_F(SeriesApiTest, Labels_AllNamesSorted) {
  const auto r = api_.Get("/api/v1/labels");
  EXPECT_EQ(r.body, R"({"status":"success","data":["__name__","code","instance","job"]})");
}

TEST_F(SeriesApiTest, Labels_RestrictedByMatch) {
  const auto r = api_.Get(Url("/api/v1/labels", {{"match[]", "http_requests_total"}}));
  EXPECT_EQ(r.body, R"({"status":"success","data":["__name__","code","job"]})");
}

TEST_F(SeriesApiTest, LabelValues_SortedAndRestrictedByMatch) {
  EXPECT_EQ(api_.Get("/api/v1/label/job/values").body,
            R"({"status":"success","data":["api","gone","node"]})");
  EXPECT_EQ(api_.Get(Url("/api/v1/label/job/values", {{"match[]", "up"}})).body,
            R"({"status":"success","data":["api","node"]})");
  EXPECT_EQ(api_.Get("/api/v1/label/__name__/values").body,
            R"({"status":"success","data":["http_requests_total","old_metric","up"]})");
}

TEST_F(SeriesApiTest, LabelValues_UnknownLabelIsEmptyList) {
  EXPECT_EQ(api_.Get("/api/v1/label/nope/values").body, R"({"status":"success","data":[]})");
}

TEST_F(SeriesApiTest, LabelValues_InvalidNameIsBadData) {
  const auto r = api_.Get("/api/v1/label/0bad/values");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            R"({"status":"error","errorType":"bad_data","error":"invalid label name: \"0bad\""})");
}

TEST_F(SeriesApiTest, Federate_LatestSampleInTextFormat) {
  const auto r = api_.Get(Url("/federate", {{"match[]", "up"}}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(r.body,
            "# TYPE up untyped\n"
            "up{instance=\"a:1\",job=\"api\"} 1 1699999990000\n"
            "up{instance=\"b:2\",job=\"node\"} 0 1699999990000\n");
}

TEST_F(SeriesApiTest, Federate_SeriesWithoutInstanceGetsEmptyInstance) {
  const auto r = api_.Get(Url("/federate", {{"match[]", "http_requests_total"}}));
  EXPECT_EQ(r.body,
            "# TYPE http_requests_total untyped\n"
            "http_requests_total{code=\"200\",job=\"api\",instance=\"\"} 7 1699999995000\n");
}

TEST_F(SeriesApiTest, Federate_LeavesOutStaleSeries) {
  api_.Add({{"__name__", "up"}, {"job", "node"}, {"instance", "b:2"}}, kNowMs - 1'000,
           vigil::StaleNaN());
  const auto r = api_.Get(Url("/federate", {{"match[]", "up"}}));
  EXPECT_EQ(r.body, "# TYPE up untyped\nup{instance=\"a:1\",job=\"api\"} 1 1699999990000\n");
}

TEST_F(SeriesApiTest, Federate_LeavesOutSeriesOlderThanLookback) {
  const auto r = api_.Get(Url("/federate", {{"match[]", "old_metric"}}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
}

TEST_F(SeriesApiTest, Federate_BadMatchIsPlain400) {
  const auto r = api_.Get(Url("/federate", {{"match[]", "up{"}}));
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(r.body.starts_with("1:")) << r.body;
}

}  // namespace
}  // namespace vigil::web::testing
