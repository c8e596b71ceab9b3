// The query endpoints: /api/v1/query, /api/v1/query_range, /api/v1/format_query
// and /api/v1/query_exemplars, with Prometheus 2.42's parameter checks.
#include <httplib.h>

#include "promql/annotations.h"
#include "promql/engine.h"
#include "web/api_context.h"
#include "web/api_params.h"
#include "web/api_response.h"

namespace vigil::web {
namespace {

// Prometheus refuses range queries with more points per series than this.
constexpr int64_t kMaxPointsPerSeries = 11000;

void WritePoint(JsonWriter& w, const promql::Point& p) {
  w.BeginArray();
  w.Timestamp(p.t);
  w.SampleValue(p.v);
  w.EndArray();
}

void WriteResult(JsonWriter& w, const promql::Value& value) {
  switch (value.type) {
    case promql::ValueType::kScalar:
      WritePoint(w, value.scalar);
      return;
    case promql::ValueType::kString:
      w.BeginArray();
      w.Timestamp(value.string_t);
      w.String(value.string);
      w.EndArray();
      return;
    case promql::ValueType::kVector:
      w.BeginArray();
      for (const auto& s : value.vector) {
        w.BeginObject();
        w.Key("metric");
        w.LabelSet(s.metric);
        w.Key("value");
        WritePoint(w, s.point);
        w.EndObject();
      }
      w.EndArray();
      return;
    case promql::ValueType::kMatrix:
      w.BeginArray();
      for (const auto& s : value.matrix) {
        w.BeginObject();
        w.Key("metric");
        w.LabelSet(s.metric);
        w.Key("values");
        w.BeginArray();
        for (const auto& p : s.points) WritePoint(w, p);
        w.EndArray();
        w.EndObject();
      }
      w.EndArray();
      return;
    case promql::ValueType::kNone:
      w.Null();
      return;
  }
}

void WriteStats(JsonWriter& w, const promql::QueryStats& stats) {
  w.BeginObject();
  w.Key("timings");
  w.BeginObject();
  w.Key("evalTotalTime");
  w.Double(stats.exec_total_seconds - stats.exec_queue_seconds);
  w.Key("resultSortTime");
  w.Double(stats.result_sort_seconds);
  w.Key("queryPreparationTime");
  w.Double(stats.query_preparation_seconds);
  w.Key("innerEvalTime");
  w.Double(stats.inner_eval_seconds);
  w.Key("execQueueTime");
  w.Double(stats.exec_queue_seconds);
  w.Key("execTotalTime");
  w.Double(stats.exec_total_seconds);
  w.EndObject();
  w.Key("samples");
  w.BeginObject();
  w.Key("totalQueryableSamples");
  w.Int(stats.total_queryable_samples);
  w.Key("peakSamples");
  w.Int(stats.peak_samples);
  w.EndObject();
  w.EndObject();
}

void WriteQueryResult(httplib::Response& res, const promql::QueryResult& result, bool with_stats) {
  WriteApiSuccess(
      res,
      [&](JsonWriter& w) {
        w.BeginObject();
        w.Key("resultType");
        w.String(promql::ValueTypeName(result.value.type));
        w.Key("result");
        WriteResult(w, result.value);
        if (with_stats) {
          w.Key("stats");
          WriteStats(w, result.stats);
        }
        w.EndObject();
      },
      // As Prometheus 2.48's respond: at most 10, then "N more annotations omitted".
      promql::LimitAnnotations(result.warnings, 10));
}

// Parses ?timeout= into the query's options; the engine keeps the lower of
// it and --query.timeout.
Status ApplyTimeoutParam(const HttpCall& call, promql::QueryOptions* opts) {
  const std::string text = call.Param("timeout");
  if (text.empty()) return Status::OK();
  auto d = ParseApiDuration(text);
  if (!d.ok())
    return Status::InvalidArgument(InvalidParam("timeout", d.status().message()).message);
  opts->timeout_ms = *d;
  return Status::OK();
}

// Engine errors. Parse and type errors are bad_data; Prometheus 2.42 names the
// query parameter for instant queries only (its range handler reports the
// parser's message as is).
enum class QueryKind { kInstant, kRange };
void WriteEngineError(httplib::Response& res, const Status& status, QueryKind kind) {
  if (status.code() == StatusCode::kInvalidArgument) {
    WriteApiError(res, kind == QueryKind::kInstant
                           ? InvalidParam("query", status.message())
                           : ApiError{ApiErrorType::kBadData, status.message()});
    return;
  }
  WriteApiError(res, ApiErrorFromStatus(status));
}

void HandleQuery(ApiContext& ctx, const HttpCall& call, httplib::Response& res) {
  const auto ts = TimeParamOr(call, "time", ctx.NowMillis());
  if (!ts.ok()) return WriteApiError(res, ApiErrorFromStatus(ts.status()));
  promql::QueryOptions opts;
  if (Status st = ApplyTimeoutParam(call, &opts); !st.ok()) {
    return WriteApiError(res, ApiErrorFromStatus(st));
  }
  const auto result = ctx.deps.engine->InstantQuery(*ctx.deps.db, call.Param("query"), *ts, opts);
  if (!result.ok()) return WriteEngineError(res, result.status(), QueryKind::kInstant);
  WriteQueryResult(res, *result, !call.Param("stats").empty());
}

void HandleQueryRange(ApiContext& ctx, const HttpCall& call, httplib::Response& res) {
  const auto start = ParseApiTime(call.Param("start"));
  if (!start.ok()) return WriteApiError(res, InvalidParam("start", start.status().message()));
  const auto end = ParseApiTime(call.Param("end"));
  if (!end.ok()) return WriteApiError(res, InvalidParam("end", end.status().message()));
  if (*end < *start) {
    return WriteApiError(res, InvalidParam("end", "end timestamp must not be before start time"));
  }
  const auto step = ParseApiDuration(call.Param("step"));
  if (!step.ok()) return WriteApiError(res, InvalidParam("step", step.status().message()));
  if (*step <= 0) {
    return WriteApiError(res, InvalidParam("step",
                                           "zero or negative query resolution step widths are "
                                           "not accepted. Try a positive integer"));
  }
  if (promql::RangeStepCount(*start, *end, *step) > kMaxPointsPerSeries) {
    return WriteApiError(res, {ApiErrorType::kBadData,
                               "exceeded maximum resolution of 11,000 points per timeseries. "
                               "Try decreasing the query resolution (?step=XX)"});
  }
  promql::QueryOptions opts;
  if (Status st = ApplyTimeoutParam(call, &opts); !st.ok()) {
    return WriteApiError(res, ApiErrorFromStatus(st));
  }
  const auto result =
      ctx.deps.engine->RangeQuery(*ctx.deps.db, call.Param("query"), *start, *end, *step, opts);
  if (!result.ok()) return WriteEngineError(res, result.status(), QueryKind::kRange);
  WriteQueryResult(res, *result, !call.Param("stats").empty());
}

void HandleFormatQuery(const HttpCall& call, httplib::Response& res) {
  const auto formatted = promql::FormatQuery(call.Param("query"));
  if (!formatted.ok())
    return WriteApiError(res, InvalidParam("query", formatted.status().message()));
  WriteApiSuccess(res, [&](JsonWriter& w) { w.String(*formatted); });
}

// Vigil stores no exemplars; the query is still validated like Prometheus.
void HandleQueryExemplars(const HttpCall& call, httplib::Response& res) {
  const auto start = TimeParamOr(call, "start", storage::kMinTime);
  if (!start.ok()) return WriteApiError(res, ApiErrorFromStatus(start.status()));
  const auto end = TimeParamOr(call, "end", storage::kMaxTime);
  if (!end.ok()) return WriteApiError(res, ApiErrorFromStatus(end.status()));
  const auto formatted = promql::FormatQuery(call.Param("query"));
  if (!formatted.ok())
    return WriteApiError(res, InvalidParam("query", formatted.status().message()));
  WriteApiSuccess(res, [](JsonWriter& w) {
    w.BeginArray();
    w.EndArray();
  });
}

}  // namespace

void RegisterQueryApi(Router& router, ApiContext& ctx) {
  router.HandleGetPost("/api/v1/query",
                       [&ctx](const HttpCall& c, httplib::Response& r) { HandleQuery(ctx, c, r); });
  router.HandleGetPost("/api/v1/query_range", [&ctx](const HttpCall& c, httplib::Response& r) {
    HandleQueryRange(ctx, c, r);
  });
  router.HandleGetPost("/api/v1/format_query", HandleFormatQuery);
  router.HandleGetPost("/api/v1/query_exemplars", HandleQueryExemplars);
}

}  // namespace vigil::web
