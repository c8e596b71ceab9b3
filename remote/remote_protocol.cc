#include "remote/remote_protocol.h"

#include <snappy.h>

#include "remote/protobuf_wire.h"

namespace vigil::remote {
namespace {

// Field numbers from prompb/types.proto and prompb/remote.proto.
constexpr uint32_t kWriteRequestTimeseries = 1;    // repeated TimeSeries
constexpr uint32_t kTimeSeriesLabels = 1;          // repeated Label
constexpr uint32_t kTimeSeriesSamples = 2;         // repeated Sample
constexpr uint32_t kLabelName = 1;                 // string
constexpr uint32_t kLabelValue = 2;                // string
constexpr uint32_t kSampleValue = 1;               // double
constexpr uint32_t kSampleTimestamp = 2;           // int64, milliseconds
constexpr uint32_t kReadRequestQueries = 1;        // repeated Query
constexpr uint32_t kReadRequestAcceptedTypes = 2;  // repeated ResponseType (packed)
constexpr uint32_t kQueryStart = 1;                // int64 start_timestamp_ms
constexpr uint32_t kQueryEnd = 2;                  // int64 end_timestamp_ms
constexpr uint32_t kQueryMatchers = 3;             // repeated LabelMatcher
constexpr uint32_t kMatcherType = 1;               // enum EQ=0 NEQ=1 RE=2 NRE=3
constexpr uint32_t kMatcherName = 2;               // string
constexpr uint32_t kMatcherValue = 3;              // string
constexpr uint32_t kReadResponseResults = 1;       // repeated QueryResult
constexpr uint32_t kQueryResultTimeseries = 1;     // repeated TimeSeries

Status WrongType(uint32_t field) {
  return Status::InvalidArgument("proto: wrong wireType for field " + std::to_string(field));
}

// Calls `on_field(field, type, reader)` for each field; the callback consumes
// the fields it knows and returns false for the rest, which are skipped.
template <typename OnField>
Status ForEachField(std::string_view data, OnField on_field) {
  ProtoReader reader(data);
  while (!reader.done()) {
    uint32_t field = 0;
    WireType type{};
    VIGIL_RETURN_IF_ERROR(reader.NextField(&field, &type));
    bool consumed = false;
    VIGIL_RETURN_IF_ERROR(on_field(field, type, reader, &consumed));
    if (!consumed) VIGIL_RETURN_IF_ERROR(reader.Skip(type));
  }
  return Status::OK();
}

Status ReadString(ProtoReader& r, WireType type, uint32_t field, std::string* out) {
  if (type != WireType::kLengthDelimited) return WrongType(field);
  std::string_view bytes;
  VIGIL_RETURN_IF_ERROR(r.ReadBytes(&bytes));
  out->assign(bytes);
  return Status::OK();
}

Status ReadInt64(ProtoReader& r, WireType type, uint32_t field, int64_t* out) {
  if (type != WireType::kVarint) return WrongType(field);
  uint64_t v = 0;
  VIGIL_RETURN_IF_ERROR(r.ReadVarint(&v));
  *out = static_cast<int64_t>(v);
  return Status::OK();
}

Status ReadMessage(ProtoReader& r, WireType type, uint32_t field, std::string_view* out) {
  if (type != WireType::kLengthDelimited) return WrongType(field);
  return r.ReadBytes(out);
}

Status DecodeLabel(std::string_view data, Label* label) {
  return ForEachField(data, [&](uint32_t f, WireType t, ProtoReader& r, bool* used) {
    *used = f == kLabelName || f == kLabelValue;
    if (f == kLabelName) return ReadString(r, t, f, &label->name);
    if (f == kLabelValue) return ReadString(r, t, f, &label->value);
    return Status::OK();
  });
}

Status DecodeSample(std::string_view data, RemoteSample* sample) {
  return ForEachField(data, [&](uint32_t f, WireType t, ProtoReader& r, bool* used) {
    *used = f == kSampleValue || f == kSampleTimestamp;
    if (f == kSampleValue) {
      if (t != WireType::kFixed64) return WrongType(f);
      return r.ReadDouble(&sample->value);
    }
    if (f == kSampleTimestamp) return ReadInt64(r, t, f, &sample->timestamp_ms);
    return Status::OK();
  });
}

Status DecodeTimeSeries(std::string_view data, RemoteTimeSeries* series) {
  return ForEachField(data, [&](uint32_t f, WireType t, ProtoReader& r, bool* used) {
    *used = f == kTimeSeriesLabels || f == kTimeSeriesSamples;
    if (!*used) return Status::OK();
    std::string_view message;
    VIGIL_RETURN_IF_ERROR(ReadMessage(r, t, f, &message));
    if (f == kTimeSeriesLabels) {
      series->labels.emplace_back();
      return DecodeLabel(message, &series->labels.back());
    }
    series->samples.emplace_back();
    return DecodeSample(message, &series->samples.back());
  });
}

Status DecodeMatcher(std::string_view data, RemoteMatcher* matcher) {
  return ForEachField(data, [&](uint32_t f, WireType t, ProtoReader& r, bool* used) {
    *used = f == kMatcherType || f == kMatcherName || f == kMatcherValue;
    if (f == kMatcherType) {
      int64_t type = 0;
      VIGIL_RETURN_IF_ERROR(ReadInt64(r, t, f, &type));
      if (type < 0 || type > 3)
        return Status::InvalidArgument("unknown matcher type " + std::to_string(type));
      matcher->type = static_cast<MatchType>(type);  // same order as MatchType
      return Status::OK();
    }
    if (f == kMatcherName) return ReadString(r, t, f, &matcher->name);
    if (f == kMatcherValue) return ReadString(r, t, f, &matcher->value);
    return Status::OK();
  });
}

Status DecodeQuery(std::string_view data, RemoteQuery* query) {
  return ForEachField(data, [&](uint32_t f, WireType t, ProtoReader& r, bool* used) {
    *used = f == kQueryStart || f == kQueryEnd || f == kQueryMatchers;
    if (f == kQueryStart) return ReadInt64(r, t, f, &query->start_ms);
    if (f == kQueryEnd) return ReadInt64(r, t, f, &query->end_ms);
    if (f == kQueryMatchers) {
      std::string_view message;
      VIGIL_RETURN_IF_ERROR(ReadMessage(r, t, f, &message));
      query->matchers.emplace_back();
      return DecodeMatcher(message, &query->matchers.back());
    }
    return Status::OK();
  });
}

// Repeated enums arrive packed (one length-delimited run) or one by one.
Status ReadEnumList(ProtoReader& r, WireType t, std::vector<int>* out) {
  uint64_t v = 0;
  if (t == WireType::kVarint) {
    VIGIL_RETURN_IF_ERROR(r.ReadVarint(&v));
    out->push_back(static_cast<int>(v));
    return Status::OK();
  }
  std::string_view packed;
  VIGIL_RETURN_IF_ERROR(ReadMessage(r, t, kReadRequestAcceptedTypes, &packed));
  ProtoReader values(packed);
  while (!values.done()) {
    VIGIL_RETURN_IF_ERROR(values.ReadVarint(&v));
    out->push_back(static_cast<int>(v));
  }
  return Status::OK();
}

void EncodeTimeSeries(ProtoWriter& out, uint32_t field, const RemoteTimeSeries& series) {
  ProtoWriter ts;
  for (const auto& l : series.labels) {
    ProtoWriter label;
    label.Bytes(kLabelName, l.name);
    label.Bytes(kLabelValue, l.value);
    ts.Message(kTimeSeriesLabels, label);
  }
  for (const auto& s : series.samples) {
    ProtoWriter sample;
    sample.Double(kSampleValue, s.value);
    sample.Int64(kSampleTimestamp, s.timestamp_ms);
    ts.Message(kTimeSeriesSamples, sample);
  }
  out.Message(field, ts);
}

}  // namespace

Status ForEachWriteSeries(std::string_view proto,
                          const std::function<Status(RemoteTimeSeries&)>& on_series) {
  return ForEachField(proto, [&](uint32_t f, WireType t, ProtoReader& r, bool* used) {
    *used = f == kWriteRequestTimeseries;
    if (!*used) return Status::OK();
    std::string_view message;
    VIGIL_RETURN_IF_ERROR(ReadMessage(r, t, f, &message));
    RemoteTimeSeries series;
    VIGIL_RETURN_IF_ERROR(DecodeTimeSeries(message, &series));
    return on_series(series);
  });
}

Result<WriteRequest> DecodeWriteRequest(std::string_view proto) {
  WriteRequest req;
  Status st = ForEachWriteSeries(proto, [&](RemoteTimeSeries& series) {
    req.timeseries.push_back(std::move(series));
    return Status::OK();
  });
  if (!st.ok()) return st;
  return req;
}

std::string EncodeWriteRequest(const WriteRequest& request) {
  ProtoWriter out;
  for (const auto& ts : request.timeseries) EncodeTimeSeries(out, kWriteRequestTimeseries, ts);
  return out.Take();
}

Result<ReadRequest> DecodeReadRequest(std::string_view proto) {
  ReadRequest req;
  Status st = ForEachField(proto, [&](uint32_t f, WireType t, ProtoReader& r, bool* used) {
    *used = f == kReadRequestQueries || f == kReadRequestAcceptedTypes;
    if (f == kReadRequestAcceptedTypes) return ReadEnumList(r, t, &req.accepted_response_types);
    if (f != kReadRequestQueries) return Status::OK();
    std::string_view message;
    VIGIL_RETURN_IF_ERROR(ReadMessage(r, t, f, &message));
    req.queries.emplace_back();
    return DecodeQuery(message, &req.queries.back());
  });
  if (!st.ok()) return st;
  return req;
}

std::string EncodeReadRequest(const ReadRequest& request) {
  ProtoWriter out;
  for (const auto& q : request.queries) {
    ProtoWriter query;
    query.Int64(kQueryStart, q.start_ms);
    query.Int64(kQueryEnd, q.end_ms);
    for (const auto& m : q.matchers) {
      ProtoWriter matcher;
      matcher.Varint(kMatcherType, static_cast<uint64_t>(m.type));
      matcher.Bytes(kMatcherName, m.name);
      matcher.Bytes(kMatcherValue, m.value);
      query.Message(kQueryMatchers, matcher);
    }
    out.Message(kReadRequestQueries, query);
  }
  for (const int type : request.accepted_response_types) {
    out.Varint(kReadRequestAcceptedTypes, static_cast<uint64_t>(type));
  }
  return out.Take();
}

Result<ReadResponse> DecodeReadResponse(std::string_view proto) {
  ReadResponse resp;
  Status st = ForEachField(proto, [&](uint32_t f, WireType t, ProtoReader& r, bool* used) {
    *used = f == kReadResponseResults;
    if (!*used) return Status::OK();
    std::string_view result;
    VIGIL_RETURN_IF_ERROR(ReadMessage(r, t, f, &result));
    auto& series_list = resp.results.emplace_back();
    return ForEachField(result, [&](uint32_t f2, WireType t2, ProtoReader& r2, bool* used2) {
      *used2 = f2 == kQueryResultTimeseries;
      if (!*used2) return Status::OK();
      std::string_view message;
      VIGIL_RETURN_IF_ERROR(ReadMessage(r2, t2, f2, &message));
      series_list.emplace_back();
      return DecodeTimeSeries(message, &series_list.back());
    });
  });
  if (!st.ok()) return st;
  return resp;
}

std::string EncodeReadResponse(const ReadResponse& response) {
  ProtoWriter out;
  for (const auto& result : response.results) {
    ProtoWriter qr;
    for (const auto& ts : result) EncodeTimeSeries(qr, kQueryResultTimeseries, ts);
    out.Message(kReadResponseResults, qr);
  }
  return out.Take();
}

Result<std::string> SnappyDecode(std::string_view compressed, size_t max_bytes) {
  size_t length = 0;
  // Validating first (no allocation) keeps garbage from being reported as "too large".
  if (!snappy::IsValidCompressedBuffer(compressed.data(), compressed.size()) ||
      !snappy::GetUncompressedLength(compressed.data(), compressed.size(), &length)) {
    return Status::InvalidArgument("snappy: corrupt input");
  }
  if (length > max_bytes) {
    return Status::ResourceExhausted("snappy: decoded length " + std::to_string(length) +
                                     " exceeds the limit of " + std::to_string(max_bytes));
  }
  std::string out;
  if (!snappy::Uncompress(compressed.data(), compressed.size(), &out)) {
    return Status::InvalidArgument("snappy: corrupt input");
  }
  return out;
}

std::string SnappyEncode(std::string_view raw) {
  std::string out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

}  // namespace vigil::remote
