// The hand-written protobuf codec against bytes assembled from the wire
// format spec (docs/format/remote_write.md), so the codec is not only checked
// against itself.
#include "remote/remote_protocol.h"

#include <gtest/gtest.h>

#include <cstring>

#include "remote/protobuf_wire.h"

namespace vigil::remote {
namespace {

std::string DoubleBytes(double v) {
  std::string out(8, '\0');
  std::memcpy(out.data(), &v, 8);  // little-endian host, as the wire format
  return out;
}

// TimeSeries{labels:[{__name__:"up"}], samples:[{value:1.5, timestamp:1000}]}
// inside WriteRequest field 1, written out byte by byte.
std::string HandWrittenWriteRequest() {
  const std::string label = std::string("\x0a\x08__name__\x12\x02up", 14);
  const std::string sample = "\x09" + DoubleBytes(1.5) + std::string("\x10\xe8\x07", 3);
  const std::string ts = "\x0a" + std::string(1, static_cast<char>(label.size())) + label + "\x12" +
                         std::string(1, static_cast<char>(sample.size())) + sample;
  return "\x0a" + std::string(1, static_cast<char>(ts.size())) + ts;
}

TEST(RemoteProtocolTest, DecodesHandWrittenWriteRequest) {
  const auto req = DecodeWriteRequest(HandWrittenWriteRequest());
  ASSERT_TRUE(req.ok()) << req.status().ToString();
  ASSERT_EQ(req->timeseries.size(), 1u);
  const auto& ts = req->timeseries[0];
  ASSERT_EQ(ts.labels.size(), 1u);
  EXPECT_EQ(ts.labels[0].name, "__name__");
  EXPECT_EQ(ts.labels[0].value, "up");
  ASSERT_EQ(ts.samples.size(), 1u);
  EXPECT_EQ(ts.samples[0].value, 1.5);
  EXPECT_EQ(ts.samples[0].timestamp_ms, 1000);
}

TEST(RemoteProtocolTest, EncoderProducesTheSameBytes) {
  WriteRequest req;
  req.timeseries.push_back({{{"__name__", "up"}}, {{1.5, 1000}}});
  EXPECT_EQ(EncodeWriteRequest(req), HandWrittenWriteRequest());
}

TEST(RemoteProtocolTest, NegativeTimestampsRoundTrip) {
  WriteRequest req;
  req.timeseries.push_back({{{"__name__", "x"}}, {{-2, -5000}}});
  const auto back = DecodeWriteRequest(EncodeWriteRequest(req));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->timeseries[0].samples[0].timestamp_ms, -5000);
}

TEST(RemoteProtocolTest, UnknownFieldsAreSkipped) {
  // Field 3 (metadata) and field 15 (varint) before the time series.
  const std::string extra = std::string("\x1a\x03\x08\x01\x10", 5) + std::string("\x78\x05", 2);
  const auto req = DecodeWriteRequest(extra + HandWrittenWriteRequest());
  ASSERT_TRUE(req.ok()) << req.status().ToString();
  EXPECT_EQ(req->timeseries.size(), 1u);
}

TEST(RemoteProtocolTest, TruncatedInputIsAnError) {
  const std::string full = HandWrittenWriteRequest();
  for (size_t n = 1; n < full.size(); ++n) {
    EXPECT_FALSE(DecodeWriteRequest(full.substr(0, n)).ok()) << n;
  }
}

TEST(RemoteProtocolTest, ReadRequestWithPackedResponseTypes) {
  // Query{start:1, end:2, matchers:[{type:RE, name:"a", value:"b"}]}, types packed [0,1].
  const std::string matcher = std::string(
      "\x08\x02\x12\x01"
      "a"
      "\x1a\x01"
      "b",
      8);
  const std::string query = std::string("\x08\x01\x10\x02\x1a", 5) +
                            std::string(1, static_cast<char>(matcher.size())) + matcher;
  const std::string bytes = "\x0a" + std::string(1, static_cast<char>(query.size())) + query +
                            std::string("\x12\x02\x00\x01", 4);
  const auto req = DecodeReadRequest(bytes);
  ASSERT_TRUE(req.ok()) << req.status().ToString();
  ASSERT_EQ(req->queries.size(), 1u);
  EXPECT_EQ(req->queries[0].start_ms, 1);
  EXPECT_EQ(req->queries[0].end_ms, 2);
  ASSERT_EQ(req->queries[0].matchers.size(), 1u);
  EXPECT_EQ(req->queries[0].matchers[0].type, MatchType::kRegexMatch);
  EXPECT_EQ(req->accepted_response_types, (std::vector<int>{0, 1}));
}

TEST(RemoteProtocolTest, SnappyRefusesOversizedOutput) {
  const std::string big(100'000, 'a');
  const std::string packed = SnappyEncode(big);
  EXPECT_TRUE(SnappyDecode(packed, 100'000).ok());
  EXPECT_EQ(SnappyDecode(packed, 99'999).status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(SnappyDecode("not snappy", 100).status().message(), "snappy: corrupt input");
}

}  // namespace
}  // namespace vigil::remote
