// The messages of Prometheus's remote write 1.0 and remote read protocols
// (prompb/remote.proto, prompb/types.proto) and their snappy framing, decoded
// and encoded by hand. Layout: docs/format/remote_write.md.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/labels.h"
#include "base/matcher.h"
#include "base/status.h"

namespace vigil::remote {

struct RemoteSample {
  double value = 0;
  int64_t timestamp_ms = 0;
};

// prometheus.TimeSeries: labels as sent (unsorted, possibly invalid) and samples.
struct RemoteTimeSeries {
  std::vector<Label> labels;
  std::vector<RemoteSample> samples;
};

// prometheus.WriteRequest (metadata and exemplars are skipped).
struct WriteRequest {
  std::vector<RemoteTimeSeries> timeseries;
};

struct RemoteMatcher {
  MatchType type = MatchType::kEqual;
  std::string name;
  std::string value;
};

// prometheus.Query: one selector over [start_ms, end_ms].
struct RemoteQuery {
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  std::vector<RemoteMatcher> matchers;
};

// ReadRequest.ResponseType values.
inline constexpr int kResponseTypeSamples = 0;
inline constexpr int kResponseTypeStreamedXorChunks = 1;

struct ReadRequest {
  std::vector<RemoteQuery> queries;
  std::vector<int> accepted_response_types;
};

// prometheus.ReadResponse: one result (a list of series) per query.
struct ReadResponse {
  std::vector<std::vector<RemoteTimeSeries>> results;
};

// Decodes a WriteRequest one series at a time, handing each to `on_series`
// (which may consume it): memory stays that of one series, however many the
// request holds. Stops at the first error, the decoder's or on_series's.
Status ForEachWriteSeries(std::string_view proto,
                          const std::function<Status(RemoteTimeSeries&)>& on_series);
Result<WriteRequest> DecodeWriteRequest(std::string_view proto);
std::string EncodeWriteRequest(const WriteRequest& request);
Result<ReadRequest> DecodeReadRequest(std::string_view proto);
std::string EncodeReadRequest(const ReadRequest& request);
Result<ReadResponse> DecodeReadResponse(std::string_view proto);
std::string EncodeReadResponse(const ReadResponse& response);

// Snappy block format (not the framed stream format), as remote write uses.
// Refuses input that would decompress to more than `max_bytes`.
Result<std::string> SnappyDecode(std::string_view compressed, size_t max_bytes);
std::string SnappyEncode(std::string_view raw);

}  // namespace vigil::remote
