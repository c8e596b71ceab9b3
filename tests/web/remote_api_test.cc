// Remote write receiver and remote read over loopback with snappy-framed
// protobuf built by the codec under test (decoding is checked separately
// against hand-assembled bytes in remote_protocol_test.cc).
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "remote/remote_protocol.h"
#include "tests/web/api_server.h"

namespace vigil::web::testing {
namespace {

using remote::DecodeReadResponse;
using remote::EncodeReadRequest;
using remote::EncodeWriteRequest;
using remote::kResponseTypeStreamedXorChunks;
using remote::ReadRequest;
using remote::RemoteSample;
using remote::RemoteTimeSeries;
using remote::SnappyDecode;
using remote::SnappyEncode;
using remote::WriteRequest;

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

// Every label set Prometheus refuses is the client's mistake: 400 with the
// text of Prometheus's remote write handler, and nothing of the request stored.
struct InvalidLabelsCase {
  const char* name;
  std::vector<Label> labels;
  std::string text;
};

class RemoteWriteInvalidLabelsTest : public ::testing::TestWithParam<InvalidLabelsCase> {};

TEST_P(RemoteWriteInvalidLabelsTest, Is400WithPrometheusTextAndStoresNothing) {
  ApiServer api(WithReceiver(), {}, true, Backend::kDisk);
  const RemoteTimeSeries bad{GetParam().labels, {{5, kNowMs - 5'000}}};
  const auto r = Push(api, {Series("d", {{2, kNowMs - 5'000}}), bad});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, GetParam().text + "\n");
  // Every JSON answer stays valid JSON: nothing of the request was stored.
  const auto all = api.Get(Url("/api/v1/series", {{"match[]", R"({__name__=~".+"})"}}));
  EXPECT_EQ(all.Json()["data"], nlohmann::json::array()) << all.body;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, RemoteWriteInvalidLabelsTest,
    ::testing::Values(
        InvalidLabelsCase{"DuplicateName",
                          {{"__name__", "e"}, {"x", "1"}, {"x", "2"}},
                          R"(invalid labels for series, labels {__name__="e", x="1", x="2"}, )"
                          "duplicated label x"},
        InvalidLabelsCase{"EmptyLabelSet", {{"job", ""}}, "empty labelset: invalid sample"},
        InvalidLabelsCase{"EmptyName",
                          {{"__name__", "e"}, {"", "v"}},
                          R"(invalid metric name or labels, got {""="v", __name__="e"})"},
        InvalidLabelsCase{"IllegalName",
                          {{"__name__", "e"}, {"1a", "v"}},
                          R"(invalid metric name or labels, got {"1a"="v", __name__="e"})"},
        InvalidLabelsCase{"IllegalMetricName",
                          {{"__name__", "a-b"}},
                          R"(invalid metric name or labels, got {__name__="a-b"})"},
        InvalidLabelsCase{"InvalidUtf8Value",
                          {{"__name__", "e"}, {"x", "ok\xff\xfe"}},
                          R"(invalid metric name or labels, got {__name__="e", x="ok\xff\xfe"})"},
        InvalidLabelsCase{"ValueOver65535Bytes",
                          {{"__name__", "e"}, {"x", std::string(65536, 'v')}},
                          R"(label "x" has a name or value longer than 65535 bytes)"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(RemoteWriteTest, UnsortedLabels_AreAccepted) {
  ApiServer api(WithReceiver());
  const RemoteTimeSeries unsorted{{{"job", "a"}, {"__name__", "u"}}, {{1, kNowMs - 5'000}}};
  EXPECT_EQ(Push(api, {unsorted}).status, 204);
}

TEST(RemoteWriteTest, VarintOverflow_Is400) {
  ApiServer api(WithReceiver());
  // A sample whose timestamp varint runs past 64 bits (ten bytes, the last > 1).
  const std::string sample = std::string("\x10") + std::string(9, '\xff') + "\x7f";
  const std::string series = "\x12" + std::string(1, static_cast<char>(sample.size())) + sample;
  const std::string request = "\x0a" + std::string(1, static_cast<char>(series.size())) + series;
  const auto r = api.Send("POST", "/api/v1/write", SnappyEncode(request), "application/x-protobuf");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, "proto: integer overflow\n");
}

TEST(RemoteWriteTest, SnappyBombDeclaringAHugeLength_Is4xxWithoutDecoding) {
  ApiServer api(WithReceiver());
  // A valid snappy block of 40 MiB of zeros (~2 MiB compressed): over the
  // 32 MiB decoded limit, refused from its header.
  const auto r = api.Send("POST", "/api/v1/write", SnappyEncode(std::string(40 << 20, '\0')),
                          "application/x-protobuf");
  EXPECT_EQ(r.status, 413);
  // A header declaring 4 GiB in front of a few bytes.
  const auto lie = api.Send("POST", "/api/v1/write", std::string("\x80\x80\x80\x80\x10\x00", 6),
                            "application/x-protobuf");
  EXPECT_EQ(lie.status, 400);
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

std::string ReadBody(const ReadRequest& req) { return SnappyEncode(EncodeReadRequest(req)); }

ReadRequest CpuQuery() {
  ReadRequest req;
  req.queries.push_back({0, kNowMs, {{MatchType::kEqual, "__name__", "cpu"}}});
  return req;
}

TEST(RemoteReadTest, OverTheSampleLimit_Is400WithPrometheusText) {
  ServerOptions options;
  options.remote_read_sample_limit = 3;
  ApiServer api(options);
  for (int i = 0; i < 4; ++i) api.Add({{"__name__", "cpu"}}, 1000 * (i + 1), i);
  const auto r = api.Send("POST", "/api/v1/read", ReadBody(CpuQuery()), "application/x-protobuf");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, "exceeded sample limit (3)\n");
  options.remote_read_sample_limit = 4;
  ApiServer within(options);
  for (int i = 0; i < 4; ++i) within.Add({{"__name__", "cpu"}}, 1000 * (i + 1), i);
  EXPECT_EQ(
      within.Send("POST", "/api/v1/read", ReadBody(CpuQuery()), "application/x-protobuf").status,
      200);
}

TEST(RemoteReadTest, OverTheQueryTimeout_Is503) {
  ServerOptions options;
  options.remote_read_timeout_ms = 1;
  ApiServer api(options);
  for (int i = 0; i < 5000; ++i) {
    api.Add({{"__name__", "cpu"}, {"i", std::to_string(i)}}, 1000, i);
  }
  const auto r = api.Send("POST", "/api/v1/read", ReadBody(CpuQuery()), "application/x-protobuf");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "remote read: query timed out (--query.timeout)\n");
}

TEST(RemoteReadTest, RequestsBeyondTheConcurrencyLimit_WaitAndAreServed) {
  ServerOptions options;
  options.remote_read_concurrent_limit = 1;
  ApiServer api(options);
  for (int i = 0; i < 200; ++i) api.Add({{"__name__", "cpu"}, {"i", std::to_string(i)}}, 1000, i);
  std::vector<std::thread> readers;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      const auto r =
          api.Send("POST", "/api/v1/read", ReadBody(CpuQuery()), "application/x-protobuf");
      if (r.status == 200) ok.fetch_add(1);
    });
  }
  for (auto& t : readers) t.join();
  EXPECT_EQ(ok.load(), 4);
}

}  // namespace
}  // namespace vigil::web::testing
