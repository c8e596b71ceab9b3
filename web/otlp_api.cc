// OTLP/HTTP metrics receiver (Prometheus 2.47+, --enable-feature=otlp-write-receiver):
// POST /api/v1/otlp/v1/metrics, protobuf in, series translated by
// web/otlp_translate.h, appended as one batch.
#include <httplib.h>

#include "base/logger.h"
#include "base/utf8.h"
#include "storage/storage.h"
#include "web/api_context.h"
#include "web/api_response.h"
#include "web/otlp_translate.h"

namespace vigil::web {
namespace {

constexpr std::string_view kProtobuf = "application/x-protobuf";
constexpr std::string_view kJson = "application/json";

// labels.IsValid() of Prometheus's write handler: a series failing it is
// skipped (and logged), the rest of the request is stored.
bool IsValidSeries(const std::vector<Label>& labels) {
  for (const Label& l : labels) {
    if (!IsValidLabelName(l.name) || !IsValidUtf8(l.value)) return false;
    if (l.name == kMetricNameLabel && !IsValidMetricName(l.value)) return false;
  }
  return true;
}

// As the remote write receiver: refused samples are the sender's mistake (400).
bool IsRejectedSample(const Status& st) {
  return st.code() == StatusCode::kOutOfOrder || st.code() == StatusCode::kDuplicateSample ||
         st.code() == StatusCode::kOutOfBounds;
}

Status AppendTranslation(storage::Storage& db, OtlpTranslation& translation) {
  auto app = db.NewAppender();
  for (OtlpSeries& series : translation.series) {
    // An empty value is an absent label.
    std::erase_if(series.labels, [](const Label& l) { return l.value.empty(); });
    if (!IsValidSeries(series.labels)) {
      VLOG_WARN("Invalid metric names or labels", {{"got", Labels(series.labels).ToString()}});
      continue;
    }
    const Labels labels(std::move(series.labels));
    vigil::SeriesRef ref = 0;
    for (const auto& [timestamp_ms, value] : series.samples) {
      auto r = app->Append(ref, labels, timestamp_ms, value);
      if (!r.ok()) {
        app->Rollback();
        return r.status();
      }
      ref = *r;
    }
  }
  return app->Commit();
}

void HandleOtlpWrite(ApiContext& ctx, const HttpCall& call, httplib::Response& res) {
  if (!ctx.options.enable_otlp_write_receiver) {
    return WritePlainError(
        res, 404,
        "otlp write receiver needs to be enabled with --enable-feature=otlp-write-receiver");
  }
  const std::string content_type = call.Header("Content-Type");
  if (content_type != kProtobuf && content_type != kJson) {
    return WritePlainError(res, 400,
                           "unsupported content type: " + content_type + ", supported: [" +
                               std::string(kJson) + ", " + std::string(kProtobuf) + "]");
  }
  // A gzip body (Content-Encoding: gzip, as OTLP exporters send it) arrives
  // inflated: the HTTP server decodes it, within --web.max-request-bytes.
  std::string_view body = call.body;
  std::string from_json;
  if (content_type == kJson) {
    auto proto = OtlpJsonToProtobuf(body);
    if (!proto.ok()) return WritePlainError(res, 400, proto.status().message());
    from_json = std::move(proto).value();
    body = from_json;
  }
  auto translation = TranslateOtlpMetrics(body);
  if (!translation.ok()) return WritePlainError(res, 400, translation.status().message());
  for (const std::string& err : translation->errors) {
    VLOG_WARN("Error translating OTLP metrics to Prometheus write request", {{"err", err}});
  }
  const Status st = AppendTranslation(*ctx.deps.db, *translation);
  if (!st.ok()) {
    if (IsRejectedSample(st)) return WritePlainError(res, 400, st.message());
    VLOG_ERROR("Error appending remote write", {{"err", st.message()}});
    return WritePlainError(res, st.code() == StatusCode::kUnavailable ? 503 : 500, st.message());
  }
  res.status = 200;
}

}  // namespace

void RegisterOtlpApi(Router& router, ApiContext& ctx) {
  router.Handle("POST", "/api/v1/otlp/v1/metrics",
                [&ctx](const HttpCall& c, httplib::Response& r) { HandleOtlpWrite(ctx, c, r); });
}

}  // namespace vigil::web
