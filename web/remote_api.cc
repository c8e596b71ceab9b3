// Remote write receiver (/api/v1/write) and remote read (/api/v1/read):
// snappy-compressed protobuf in, samples into storage / out of it.
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "base/logger.h"
#include "base/quote.h"
#include "base/utf8.h"
#include "remote/remote_protocol.h"
#include "storage/storage.h"
#include "web/api_context.h"
#include "web/api_response.h"

namespace vigil::web {
namespace {

using remote::DecodeReadRequest;
using remote::EncodeReadResponse;
using remote::ForEachWriteSeries;
using remote::kResponseTypeSamples;
using remote::ReadRequest;
using remote::ReadResponse;
using remote::RemoteQuery;
using remote::RemoteTimeSeries;
using remote::SnappyDecode;
using remote::SnappyEncode;

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

// Prometheus's labels.String(): {a="b", c="d"}.
std::string DescribeLabels(const std::vector<Label>& labels) {
  std::string out = "{";
  for (const auto& l : labels) {
    if (out.size() > 1) out += ", ";
    out += IsValidLabelName(l.name) ? l.name : GoQuote(l.name);
    out += '=';
    out += GoQuote(l.value);
  }
  out += '}';
  return out;
}

bool IsValidWriteLabel(const Label& l) {
  if (!IsValidLabelName(l.name) || !IsValidUtf8(l.value)) return false;
  return l.name != "__name__" || IsValidMetricName(l.value);
}

// The checks a received series' labels pass before anything is appended,
// with the texts of Prometheus's remote write handler (since 2.5x it answers
// 400 for these; 2.42 stored invalid UTF-8 and answered duplicates with 500).
// Empty values are dropped first (an empty value is an absent label); sorts.
Status CheckWriteLabels(std::vector<Label>& labels) {
  std::erase_if(labels, [](const Label& l) { return l.value.empty(); });
  if (labels.empty()) return Status::InvalidArgument("empty labelset: invalid sample");
  std::stable_sort(labels.begin(), labels.end(),
                   [](const Label& a, const Label& b) { return a.name < b.name; });
  for (const auto& l : labels) {
    if (l.name.size() > storage::kMaxLabelBytes || l.value.size() > storage::kMaxLabelBytes) {
      return Status::InvalidArgument("label " + GoQuote(l.name.substr(0, 64)) +
                                     " has a name or value longer than " +
                                     std::to_string(storage::kMaxLabelBytes) + " bytes");
    }
    if (!IsValidWriteLabel(l)) {
      return Status::InvalidArgument("invalid metric name or labels, got " +
                                     DescribeLabels(labels));
    }
  }
  const auto dup =
      std::adjacent_find(labels.begin(), labels.end(),
                         [](const Label& a, const Label& b) { return a.name == b.name; });
  if (dup != labels.end()) {
    return Status::InvalidArgument("invalid labels for series, labels " + DescribeLabels(labels) +
                                   ", duplicated label " + dup->name);
  }
  return Status::OK();
}

Status AppendSeries(storage::Appender& app, RemoteTimeSeries& ts) {
  VIGIL_RETURN_IF_ERROR(CheckWriteLabels(ts.labels));
  const Labels labels(std::move(ts.labels));
  vigil::SeriesRef ref = 0;
  for (const auto& s : ts.samples) {
    auto r = app.Append(ref, labels, s.timestamp_ms, s.value);
    if (!r.ok()) {
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
  return Status::OK();
}

// Decodes and appends the whole request as one batch, a series at a time:
// the first series or sample refused rolls everything back, as Prometheus
// 2.42 does, so a request is either stored whole or not at all.
Status AppendWriteRequest(storage::Storage& db, std::string_view proto) {
  auto app = db.NewAppender();
  const Status st =
      ForEachWriteSeries(proto, [&](RemoteTimeSeries& ts) { return AppendSeries(*app, ts); });
  if (!st.ok()) {
    app->Rollback();
    return st;
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
  const Status st = AppendWriteRequest(*ctx.deps.db, *raw);
  if (!st.ok()) {
    if (const auto text = RejectedSampleText(st)) return WritePlainError(res, 400, *text);
    // Undecodable protobuf and invalid label sets: the client's mistake.
    if (st.code() == StatusCode::kInvalidArgument) return WritePlainError(res, 400, st.message());
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

using SteadyClock = std::chrono::steady_clock;

// Remote read's --storage.remote.read-concurrent-limit, as Prometheus's gate:
// requests beyond the limit wait for a slot (here until their deadline).
class ReadGate {
 public:
  explicit ReadGate(int limit) : limit_(limit) {}

  bool Enter(SteadyClock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!freed_.wait_until(lock, deadline, [this] { return limit_ <= 0 || active_ < limit_; })) {
      return false;
    }
    ++active_;
    return true;
  }

  void Leave() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      --active_;
    }
    freed_.notify_one();
  }

 private:
  const int limit_;
  std::mutex mu_;
  std::condition_variable freed_;
  int active_ = 0;
};

// What one remote read request may still use.
struct ReadBudget {
  int64_t sample_limit = 0;  // per query, as Prometheus's; 0: none
  SteadyClock::time_point deadline;
};

Status ReadTimedOut() { return Status::Timeout("remote read: query timed out (--query.timeout)"); }

Result<std::vector<RemoteTimeSeries>> RunRemoteQuery(storage::Querier& querier,
                                                     const RemoteQuery& q,
                                                     const ReadBudget& budget) {
  auto matchers = ToMatchers(q);
  if (!matchers.ok()) return matchers.status();
  auto series = querier.Select(q.start_ms, q.end_ms, *matchers);
  if (!series.ok()) return series.status();
  std::vector<RemoteTimeSeries> out;
  int64_t samples = 0;
  for (const auto& s : *series) {
    if (SteadyClock::now() > budget.deadline) return ReadTimedOut();
    RemoteTimeSeries ts;
    ts.labels = s->labels().vec();
    auto it = s->Iterator();
    while (it->Next()) {
      const auto sample = it->At();
      if (sample.t > q.end_ms) break;
      if (sample.t < q.start_ms) continue;
      if (budget.sample_limit > 0 && ++samples > budget.sample_limit) {
        return Status::InvalidArgument("exceeded sample limit (" +
                                       std::to_string(budget.sample_limit) + ")");
      }
      if ((samples & 0xffff) == 0 && SteadyClock::now() > budget.deadline) return ReadTimedOut();
      ts.samples.push_back({sample.v, sample.t});
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

// 400 for the client's mistakes, 503 for a timeout, 500 for the store's failures.
int ReadErrorStatus(const Status& st) {
  if (st.code() == StatusCode::kInvalidArgument) return 400;
  if (st.code() == StatusCode::kTimeout) return 503;
  return 500;
}

void ServeRead(ApiContext& ctx, const ReadRequest& req, const ReadBudget& budget,
               httplib::Response& res) {
  auto querier = ctx.deps.db->NewQuerier();
  if (!querier.ok()) return WritePlainError(res, 500, querier.status().message());
  ReadResponse response;
  for (const auto& q : req.queries) {
    auto result = RunRemoteQuery(**querier, q, budget);
    if (!result.ok())
      return WritePlainError(res, ReadErrorStatus(result.status()), result.status().message());
    response.results.push_back(std::move(result).value());
  }
  res.status = 200;
  res.set_header("Content-Encoding", "snappy");
  res.set_content(SnappyEncode(EncodeReadResponse(response)), "application/x-protobuf");
}

void HandleRead(ApiContext& ctx, ReadGate& gate, const HttpCall& call, httplib::Response& res) {
  auto raw = SnappyDecode(call.body, kMaxReadRequestBytes);
  if (!raw.ok()) return WritePlainError(res, 400, raw.status().message());
  const auto req = DecodeReadRequest(*raw);
  if (!req.ok()) return WritePlainError(res, 400, req.status().message());
  if (!AcceptsSamples(*req)) {
    return WritePlainError(res, 400, "server does not support any of the requested response types");
  }
  ReadBudget budget;
  budget.sample_limit = ctx.options.remote_read_sample_limit;
  // A timeout of 0 means none; ten years stands in for that.
  const int64_t timeout_ms = ctx.options.remote_read_timeout_ms > 0
                                 ? ctx.options.remote_read_timeout_ms
                                 : int64_t{10} * 365 * 24 * 3600 * 1000;
  budget.deadline = SteadyClock::now() + std::chrono::milliseconds(timeout_ms);
  if (!gate.Enter(budget.deadline)) {
    return WritePlainError(res, 503, ReadTimedOut().message() + " waiting for a remote read slot");
  }
  ServeRead(ctx, *req, budget, res);
  gate.Leave();
}

}  // namespace

void RegisterRemoteApi(Router& router, ApiContext& ctx) {
  router.Handle("POST", "/api/v1/write",
                [&ctx](const HttpCall& c, httplib::Response& r) { HandleWrite(ctx, c, r); });
  auto gate = std::make_shared<ReadGate>(ctx.options.remote_read_concurrent_limit);
  router.Handle("POST", "/api/v1/read", [&ctx, gate](const HttpCall& c, httplib::Response& r) {
    HandleRead(ctx, *gate, c, r);
  });
}

}  // namespace vigil::web
