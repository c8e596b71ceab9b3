// Remote write receiver and remote read over loopback with snappy-framed
// protobuf built by the codec under test (decoding is checked separately
// against hand-assembled bytes in remote_protocol_test.cc).
#include <gtest/gtest.h>

#include "tests/web/api_server.h"
#include "web/remote_protocol.h"

namespace vigil::web::testing {
namespace {

ServerOptions WithReceiver() {
  ServerOptions options;
  options.enable_remote_write_receiver = true;
  return options;
}

std::string WriteBody(const std::vector<RemoteTimeSeries>& series) {
  return SnappyEncode(EncodeWriteRequest(WriteRequest{series}));
}

Reply Push(ApiServer& api, const std::vector<RemoteTimeSeries>& series) {
  return api.Send("POST", "/api/v1/write", WriteBody(series), "application/x-protobuf",
                  {{"Content-Encoding", "snappy"}, {"X-Prometheus-Remote-Write-Version", "0.1.0"}});
}

RemoteTimeSeries Series(const std::string& name, std::vector<RemoteSample> samples) {
  return {{{"__name__", name}, {"job", "agent"}}, std::move(samples)};
}

TEST(RemoteWriteTest, Disabled_Is404WithPrometheusText) {
  ApiServer api;
  const auto r = Push(api, {Series("m", {{1, kNowMs}})});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body,
            "remote write receiver needs to be enabled with --web.enable-remote-write-receiver\n");
}

TEST(RemoteWriteTest, AcceptedSamples_AreQueryable) {
  ApiServer api(WithReceiver());
  const auto r = Push(api, {Series("pushed", {{1, kNowMs - 20'000}, {2, kNowMs - 10'000}})});
  EXPECT_EQ(r.status, 204);
  const auto q = api.Get(Url("/api/v1/query", {{"query", "pushed"}}));
  EXPECT_EQ(q.body, R"({"status":"success","data":{"resultType":"vector","result":[{"metric":)"
                    R"({"__name__":"pushed","job":"agent"},"value":[1700000000,"2"]}]}})");
}

TEST(RemoteWriteTest, CorruptSnappy_Is400) {
  ApiServer api(WithReceiver());
  const auto r = api.Send("POST", "/api/v1/write", "garbage", "application/x-protobuf");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, "snappy: corrupt input\n");
}

TEST(RemoteWriteTest, MalformedProtobuf_Is400) {
  ApiServer api(WithReceiver());
  const auto r = api.Send("POST", "/api/v1/write", SnappyEncode("\x0a\x50truncated"),
                          "application/x-protobuf");
  EXPECT_EQ(r.status, 400);
}

TEST(RemoteWriteTest, OutOfOrder_Is400AndRollsBackTheWholeRequest) {
  // The real store: it refuses out-of-order samples at Append, as the head does.
  ApiServer api(WithReceiver(), {}, true, Backend::kDisk);
  ASSERT_EQ(Push(api, {Series("m", {{1, kNowMs - 10'000}})}).status, 204);
  // One out-of-order sample between two good ones in the same request: as in
  // Prometheus 2.42, nothing of that request is stored.
  const auto r = Push(api, {Series("n", {{5, kNowMs - 5'000}}), Series("m", {{9, kNowMs - 60'000}}),
                            Series("o", {{7, kNowMs - 5'000}})});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, "out of order sample\n");
  EXPECT_EQ(api.Get(Url("/api/v1/query", {{"query", "m"}})).Json()["data"]["result"][0]["value"][1],
            "1");
  for (const char* absent : {"n", "o"}) {
    EXPECT_TRUE(api.Get(Url("/api/v1/query", {{"query", absent}})).Json()["data"]["result"].empty())
        << absent;
  }
}

TEST(RemoteWriteTest, RepeatedLabelName_Is500WithPrometheusTextAndStoresNothing) {
  ApiServer api(WithReceiver(), {}, true, Backend::kDisk);
  const RemoteTimeSeries dup{{{"__name__", "e"}, {"x", "1"}, {"x", "2"}}, {{5, kNowMs - 5'000}}};
  const auto r = Push(api, {Series("d", {{2, kNowMs - 5'000}}), dup});
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, "label name \"x\" is not unique: invalid sample\n");
  EXPECT_TRUE(api.Get(Url("/api/v1/query", {{"query", "d"}})).Json()["data"]["result"].empty());
}

TEST(RemoteWriteTest, EmptyLabelSet_Is500WithPrometheusText) {
  ApiServer api(WithReceiver(), {}, true, Backend::kDisk);
  const RemoteTimeSeries empty{{{"job", ""}}, {{5, kNowMs - 5'000}}};
  const auto r = Push(api, {empty});
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, "empty labelset: invalid sample\n");
}

TEST(RemoteWriteTest, Oversized_Is413AndNothingWritten) {
  ServerOptions options = WithReceiver();
  options.max_request_bytes = 4096;
  ApiServer api(options);
  std::vector<RemoteSample> samples;
  for (int i = 0; i < 2000; ++i) samples.push_back({static_cast<double>(i), kNowMs - 2000 + i});
  const auto r = Push(api, {Series("big", samples)});
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(api.Get(Url("/api/v1/series", {{"match[]", "big"}})).body,
            R"({"status":"success","data":[]})");
}

TEST(RemoteReadTest, ReturnsSamplesOfMatchingSeriesInRange) {
  ApiServer api;
  for (int i = 0; i < 5; ++i) {
    api.Add({{"__name__", "cpu"}, {"host", "a"}}, 1000 * (i + 1), i);
    api.Add({{"__name__", "cpu"}, {"host", "b"}}, 1000 * (i + 1), 10 + i);
  }
  ReadRequest req;
  req.queries.push_back(
      {2000,
       4000,
       {{MatchType::kEqual, "__name__", "cpu"}, {MatchType::kRegexMatch, "host", "a|c"}}});
  const auto r = api.Send("POST", "/api/v1/read", SnappyEncode(EncodeReadRequest(req)),
                          "application/x-protobuf", {{"Content-Encoding", "snappy"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("Content-Encoding"), "snappy");
  EXPECT_EQ(r.Header("Content-Type"), "application/x-protobuf");
  auto raw = SnappyDecode(r.body, 1 << 20);
  ASSERT_TRUE(raw.ok());
  auto resp = DecodeReadResponse(*raw);
  ASSERT_TRUE(resp.ok());
  ASSERT_EQ(resp->results.size(), 1u);
  ASSERT_EQ(resp->results[0].size(), 1u);
  const auto& ts = resp->results[0][0];
  EXPECT_EQ(Labels(ts.labels), (Labels{{"__name__", "cpu"}, {"host", "a"}}));
  ASSERT_EQ(ts.samples.size(), 3u);
  EXPECT_EQ(ts.samples[0].timestamp_ms, 2000);
  EXPECT_EQ(ts.samples[2].value, 3);
}

TEST(RemoteReadTest, OnlyStreamedChunksAccepted_Is400) {
  ApiServer api;
  ReadRequest req;
  req.queries.push_back({0, 1, {{MatchType::kEqual, "__name__", "x"}}});
  req.accepted_response_types = {kResponseTypeStreamedXorChunks};
  const auto r = api.Send("POST", "/api/v1/read", SnappyEncode(EncodeReadRequest(req)),
                          "application/x-protobuf");
  EXPECT_EQ(r.status, 400);
}

}  // namespace
}  // namespace vigil::web::testing
