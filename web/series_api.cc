// Series metadata endpoints: /api/v1/series, /api/v1/labels and
// /api/v1/label/<name>/values, each with match[], start and end.
#include <httplib.h>

#include <set>

#include "web/api_context.h"
#include "web/api_params.h"
#include "web/api_response.h"

namespace vigil::web {
namespace {

// The parameters the three endpoints share.
struct SeriesQuery {
  int64_t start = storage::kMinTime;
  int64_t end = storage::kMaxTime;
  std::vector<LabelMatchers> match_sets;
};

Result<SeriesQuery> ParseSeriesQuery(const HttpCall& call, MatchErrorPrefix style) {
  SeriesQuery q;
  auto start = TimeParamOr(call, "start", storage::kMinTime);
  if (!start.ok()) return start.status();
  auto end = TimeParamOr(call, "end", storage::kMaxTime);
  if (!end.ok()) return end.status();
  auto sets = MatchParams(call, style);
  if (!sets.ok()) return sets.status();
  q.start = *start;
  q.end = *end;
  q.match_sets = std::move(sets).value();
  return q;
}

Result<std::unique_ptr<storage::Querier>> OpenQuerier(ApiContext& ctx) {
  return ctx.deps.db->NewQuerier();
}

void HandleSeries(ApiContext& ctx, const HttpCall& call, httplib::Response& res) {
  if (!call.HasParam("match[]")) {
    return WriteApiError(res, {ApiErrorType::kBadData, "no match[] parameter provided"});
  }
  const auto q = ParseSeriesQuery(call, MatchErrorPrefix::kNamed);
  if (!q.ok()) return WriteApiError(res, ApiErrorFromStatus(q.status()));
  auto querier = OpenQuerier(ctx);
  if (!querier.ok())
    return WriteApiError(res, {ApiErrorType::kInternal, querier.status().message()});
  // Several selectors may match the same series: merge into one sorted set.
  std::set<Labels> found;
  for (const auto& matchers : q->match_sets) {
    auto series = (*querier)->Select(q->start, q->end, matchers);
    if (!series.ok()) return WriteApiError(res, ApiErrorFromStatus(series.status()));
    for (const auto& s : *series) found.insert(s->labels());
  }
  WriteApiSuccess(res, [&](JsonWriter& w) {
    w.BeginArray();
    for (const auto& labels : found) w.LabelSet(labels);
    w.EndArray();
  });
}

// Runs `fetch` once without matchers or once per match[] set and unions the
// sorted results.
template <typename Fetch>
Result<std::vector<std::string>> UnionOverMatchSets(const SeriesQuery& q, Fetch fetch) {
  if (q.match_sets.empty()) return fetch(LabelMatchers{});
  std::set<std::string> merged;
  for (const auto& matchers : q.match_sets) {
    auto part = fetch(matchers);
    if (!part.ok()) return part.status();
    merged.insert(part->begin(), part->end());
  }
  return std::vector<std::string>(merged.begin(), merged.end());
}

void HandleLabels(ApiContext& ctx, const HttpCall& call, httplib::Response& res) {
  const auto q = ParseSeriesQuery(call, MatchErrorPrefix::kBare);
  if (!q.ok()) return WriteApiError(res, ApiErrorFromStatus(q.status()));
  auto querier = OpenQuerier(ctx);
  if (!querier.ok())
    return WriteApiError(res, {ApiErrorType::kInternal, querier.status().message()});
  const auto names = UnionOverMatchSets(
      *q, [&](const LabelMatchers& m) { return (*querier)->LabelNames(q->start, q->end, m); });
  if (!names.ok()) return WriteApiError(res, ApiErrorFromStatus(names.status()));
  WriteApiSuccess(res, [&](JsonWriter& w) { w.StringArray(*names); });
}

void HandleLabelValues(ApiContext& ctx, const HttpCall& call, httplib::Response& res) {
  const std::string name = call.path_params.at("name");
  if (!IsValidLabelName(name)) {
    std::string message = "invalid label name: ";
    AppendJsonString(message, name);
    return WriteApiError(res, {ApiErrorType::kBadData, message});
  }
  const auto q = ParseSeriesQuery(call, MatchErrorPrefix::kBare);
  if (!q.ok()) return WriteApiError(res, ApiErrorFromStatus(q.status()));
  auto querier = OpenQuerier(ctx);
  if (!querier.ok())
    return WriteApiError(res, {ApiErrorType::kInternal, querier.status().message()});
  const auto values = UnionOverMatchSets(*q, [&](const LabelMatchers& m) {
    return (*querier)->LabelValues(name, q->start, q->end, m);
  });
  if (!values.ok()) return WriteApiError(res, ApiErrorFromStatus(values.status()));
  WriteApiSuccess(res, [&](JsonWriter& w) { w.StringArray(*values); });
}

}  // namespace

void RegisterSeriesApi(Router& router, ApiContext& ctx) {
  router.HandleGetPost("/api/v1/series", [&ctx](const HttpCall& c, httplib::Response& r) {
    HandleSeries(ctx, c, r);
  });
  router.HandleGetPost("/api/v1/labels", [&ctx](const HttpCall& c, httplib::Response& r) {
    HandleLabels(ctx, c, r);
  });
  router.Handle("GET", "/api/v1/label/:name/values",
                [&ctx](const HttpCall& c, httplib::Response& r) { HandleLabelValues(ctx, c, r); });
}

}  // namespace vigil::web
