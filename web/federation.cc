// /federate: the newest sample of every series matching match[] within the
// lookback window, in the text exposition format. A series whose newest
// sample is a staleness marker has ended and is left out, as in Prometheus.
#include <httplib.h>

#include <algorithm>
#include <map>

#include "base/metrics_registry.h"
#include "web/api_context.h"
#include "web/api_params.h"
#include "web/api_response.h"

namespace vigil::web {
namespace {

struct LatestSample {
  Labels labels;
  vigil::Sample sample;
};

// The newest sample at or before `maxt`, unless it is a staleness marker.
std::optional<vigil::Sample> Latest(const storage::Series& series) {
  auto it = series.Iterator();
  std::optional<vigil::Sample> latest;
  while (it->Next()) latest = it->At();
  if (!latest || vigil::IsStaleNaN(latest->v)) return std::nullopt;
  return latest;
}

// The config's external labels plus instance="" when absent, sorted: what
// Prometheus attaches to federated series that lack them.
std::vector<Label> FederationLabels(const Labels& external) {
  std::vector<Label> pairs = external.vec();
  if (!external.Has("instance")) pairs.push_back({"instance", ""});
  std::sort(pairs.begin(), pairs.end());
  return pairs;
}

void AppendSampleLine(std::string& out, const LatestSample& s, const std::vector<Label>& external) {
  out += s.labels.MetricName();
  out += '{';
  bool first = true;
  const auto append_label = [&](const std::string& name, const std::string& value) {
    if (!first) out += ',';
    first = false;
    out += name;
    out += "=\"";
    out += EscapeLabelValue(value);
    out += '"';
  };
  for (const auto& l : s.labels) {
    if (l.name != kMetricNameLabel) append_label(l.name, l.value);
  }
  for (const auto& l : external) {
    if (!s.labels.Has(l.name)) append_label(l.name, l.value);
  }
  out += "} ";
  out += FormatFloat(s.sample.v);
  out += ' ';
  out += std::to_string(s.sample.t);
  out += '\n';
}

void HandleFederate(ApiContext& ctx, const HttpCall& call, httplib::Response& res) {
  const auto sets = MatchParams(call);
  if (!sets.ok()) {
    // Prometheus answers /federate errors in plain text without the wrapper.
    std::string message = sets.status().message();
    constexpr std::string_view kWrap = "invalid parameter \"match[]\": ";
    if (message.starts_with(kWrap)) message.erase(0, kWrap.size());
    return WritePlainError(res, 400, message);
  }
  const int64_t maxt = ctx.NowMillis();
  const int64_t mint = maxt - ctx.deps.engine->options().lookback_delta_ms;
  auto querier = ctx.deps.db->NewQuerier();
  if (!querier.ok()) return WritePlainError(res, 500, querier.status().message());
  std::map<Labels, vigil::Sample> latest;
  for (const auto& matchers : *sets) {
    auto series = (*querier)->Select(mint, maxt, matchers);
    if (!series.ok()) return WritePlainError(res, 500, series.status().message());
    for (const auto& s : *series) {
      if (auto sample = Latest(*s)) latest.emplace(s->labels(), *sample);
    }
  }
  // Group by metric name, as the text format requires one family per name.
  std::map<std::string, std::vector<LatestSample>> families;
  for (const auto& [labels, sample] : latest) {
    families[std::string(labels.MetricName())].push_back({labels, sample});
  }
  const std::vector<Label> external =
      FederationLabels(ctx.deps.external_labels ? ctx.deps.external_labels() : Labels());
  std::string out;
  for (const auto& [name, samples] : families) {
    out += "# TYPE " + name + " untyped\n";
    for (const auto& s : samples) AppendSampleLine(out, s, external);
  }
  res.set_content(std::move(out), "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace

void RegisterFederation(Router& router, ApiContext& ctx) {
  router.Handle("GET", "/federate",
                [&ctx](const HttpCall& c, httplib::Response& r) { HandleFederate(ctx, c, r); });
}

}  // namespace vigil::web
