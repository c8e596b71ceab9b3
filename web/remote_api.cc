// Remote write receiver (/api/v1/write) and remote read (/api/v1/read):
// snappy-compressed protobuf in, samples into storage / out of it.
#include <httplib.h>

#include <algorithm>

#include "storage/logger.h"
#include "web/api_context.h"
#include "web/api_response.h"
#include "web/remote_protocol.h"

namespace vigil::web {
namespace {

// Prometheus's remote read refuses requests that decode to more than this.
constexpr size_t kMaxReadRequestBytes = 32 << 20;

// Prometheus's texts for samples the head refuses; they answer 400 so the
// sender drops the batch instead of retrying it forever.
std::optional<std::string> RejectedSampleText(const Status& st) {
  switch (st.code()) {
    case StatusCode::kOutOfOrder:
      return "out of order sample";
    case StatusCode::kDuplicateSample:
      return "duplicate sample for timestamp";
    case StatusCode::kOutOfBounds:
      // Time sanity refusals name the series and the limit.
      return storage::IsTooFarInFuture(st) ? st.message() : "out of bounds";
    default:
      return std::nullopt;
  }
}

// The label-set checks Prometheus's head applies to a series it has not seen:
// empty values are dropped first, then an empty set or a repeated name makes
// the sample invalid (Prometheus answers those with 500 and its error text).
Status CheckWriteLabels(std::vector<Label> raw) {
  std::erase_if(raw, [](const Label& l) { return l.value.empty(); });
  if (raw.empty()) return Status::Internal("empty labelset: invalid sample");
  std::stable_sort(raw.begin(), raw.end(),
                   [](const Label& a, const Label& b) { return a.name < b.name; });
  const auto dup = std::adjacent_find(
      raw.begin(), raw.end(), [](const Label& a, const Label& b) { return a.name == b.name; });
  if (dup != raw.end()) {
    return Status::Internal("label name \"" + dup->name + "\" is not unique: invalid sample");
  }
  return Status::OK();
}

// Appends the whole request as one batch: the first sample the store refuses
// rolls everything back, as Prometheus 2.42 does, so a request is either
// stored whole or not at all.
Status AppendWriteRequest(storage::Storage& db, const WriteRequest& req) {
  auto app = db.NewAppender();
  for (const auto& ts : req.timeseries) {
    if (Status st = CheckWriteLabels(ts.labels); !st.ok()) {
      app->Rollback();
      return st;
    }
    const Labels labels(ts.labels);
    storage::SeriesRef ref = 0;
    for (const auto& s : ts.samples) {
      auto r = app->Append(ref, labels, s.timestamp_ms, s.value);
      if (!r.ok()) {
        app->Rollback();
        if (RejectedSampleText(r.status())) {
          VLOG_ERROR("Out of order sample from remote write",
                     {{"err", r.status().message()},
                      {"series", labels.ToString()},
                      {"timestamp", std::to_string(s.timestamp_ms)}});
        }
        return r.status();
      }
      ref = *r;
    }
  }
  return app->Commit();
}

void HandleWrite(ApiContext& ctx, const HttpCall& call, httplib::Response& res) {
  if (!ctx.options.enable_remote_write_receiver) {
    return WritePlainError(
        res, 404,
        "remote write receiver needs to be enabled with --web.enable-remote-write-receiver");
  }
  auto raw = SnappyDecode(call.body, static_cast<size_t>(ctx.options.max_request_bytes));
  if (!raw.ok()) {
    const int code = raw.status().code() == StatusCode::kResourceExhausted ? 413 : 400;
    return WritePlainError(res, code, raw.status().message());
  }
  const auto req = DecodeWriteRequest(*raw);
  if (!req.ok()) return WritePlainError(res, 400, req.status().message());
  const Status st = AppendWriteRequest(*ctx.deps.db, *req);
  if (!st.ok()) {
    if (const auto text = RejectedSampleText(st)) return WritePlainError(res, 400, *text);
    VLOG_ERROR("Error appending remote write", {{"err", st.message()}});
    // Storage that cannot write now (disk full) answers 503: senders retry.
    return WritePlainError(res, st.code() == StatusCode::kUnavailable ? 503 : 500, st.message());
  }
  res.status = 204;
}

Result<LabelMatchers> ToMatchers(const RemoteQuery& q) {
  LabelMatchers matchers;
  for (const auto& m : q.matchers) {
    auto matcher = LabelMatcher::Make(m.type, m.name, m.value);
    if (!matcher.ok()) return matcher.status();
    matchers.push_back(std::move(matcher).value());
  }
  return matchers;
}

Result<std::vector<RemoteTimeSeries>> RunRemoteQuery(storage::Querier& querier,
                                                     const RemoteQuery& q) {
  auto matchers = ToMatchers(q);
  if (!matchers.ok()) return matchers.status();
  auto series = querier.Select(q.start_ms, q.end_ms, *matchers);
  if (!series.ok()) return series.status();
  std::vector<RemoteTimeSeries> out;
  for (const auto& s : *series) {
    RemoteTimeSeries ts;
    ts.labels = s->labels().vec();
    auto it = s->Iterator();
    while (it->Next()) {
      const auto sample = it->At();
      if (sample.t > q.end_ms) break;
      if (sample.t >= q.start_ms) ts.samples.push_back({sample.v, sample.t});
    }
    if (!it->status().ok()) return it->status();
    out.push_back(std::move(ts));
  }
  return out;
}

bool AcceptsSamples(const ReadRequest& req) {
  if (req.accepted_response_types.empty()) return true;
  for (const int t : req.accepted_response_types) {
    if (t == kResponseTypeSamples) return true;
  }
  return false;
}

void HandleRead(ApiContext& ctx, const HttpCall& call, httplib::Response& res) {
  auto raw = SnappyDecode(call.body, kMaxReadRequestBytes);
  if (!raw.ok()) return WritePlainError(res, 400, raw.status().message());
  const auto req = DecodeReadRequest(*raw);
  if (!req.ok()) return WritePlainError(res, 400, req.status().message());
  if (!AcceptsSamples(*req)) {
    return WritePlainError(res, 400, "server does not support any of the requested response types");
  }
  auto querier = ctx.deps.db->NewQuerier();
  if (!querier.ok()) return WritePlainError(res, 500, querier.status().message());
  ReadResponse response;
  for (const auto& q : req->queries) {
    auto result = RunRemoteQuery(**querier, q);
    if (!result.ok()) {
      const int code = result.status().code() == StatusCode::kInvalidArgument ? 400 : 500;
      return WritePlainError(res, code, result.status().message());
    }
    response.results.push_back(std::move(result).value());
  }
  res.status = 200;
  res.set_header("Content-Encoding", "snappy");
  res.set_content(SnappyEncode(EncodeReadResponse(response)), "application/x-protobuf");
}

}  // namespace

void RegisterRemoteApi(Router& router, ApiContext& ctx) {
  router.Handle("POST", "/api/v1/write",
                [&ctx](const HttpCall& c, httplib::Response& r) { HandleWrite(ctx, c, r); });
  router.Handle("POST", "/api/v1/read",
                [&ctx](const HttpCall& c, httplib::Response& r) { HandleRead(ctx, c, r); });
}

}  // namespace vigil::web
