// Scrape target endpoints: /api/v1/targets (with ?state=), the per-target
// /api/v1/targets/metadata and the merged /api/v1/metadata.
#include <httplib.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <tuple>

#include "promql/engine.h"
#include "base/duration.h"
#include "web/api_context.h"
#include "web/api_params.h"
#include "web/api_response.h"

namespace vigil::web {
namespace {

// Go's zero time, which Prometheus reports for a target never scraped.
constexpr const char* kZeroTime = "0001-01-01T00:00:00Z";

void WriteActiveTarget(JsonWriter& w, const scraper::TargetStatus& t) {
  w.BeginObject();
  w.Key("discoveredLabels");
  w.LabelSet(t.discovered_labels);
  w.Key("labels");
  w.LabelSet(t.labels);
  w.Key("scrapePool");
  w.String(t.scrape_pool);
  w.Key("scrapeUrl");
  w.String(t.scrape_url);
  w.Key("globalUrl");
  w.String(t.global_url);
  w.Key("lastError");
  w.String(t.last_error);
  w.Key("lastScrape");
  w.String(t.last_scrape_ms == 0 ? std::string(kZeroTime) : FormatRfc3339(t.last_scrape_ms));
  w.Key("lastScrapeDuration");
  w.Double(t.last_scrape_duration_seconds);
  w.Key("health");
  w.String(t.health);
  w.Key("scrapeInterval");
  w.String(FormatDuration(t.scrape_interval_ms));
  w.Key("scrapeTimeout");
  w.String(FormatDuration(t.scrape_timeout_ms));
  w.EndObject();
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  const auto first = s.find_first_not_of(" \t\r\n");
  const auto last = s.find_last_not_of(" \t\r\n");
  return first == std::string::npos ? std::string() : s.substr(first, last - first + 1);
}

void HandleTargets(ApiContext& ctx, const HttpCall& call, httplib::Response& res) {
  const std::string state = Lower(call.Param("state"));
  const bool any = state.empty() || state == "any";
  const bool show_active = any || state == "active";
  const bool show_dropped = any || state == "dropped";
  std::vector<scraper::TargetStatus> active;
  std::vector<scraper::DroppedTarget> dropped;
  std::map<std::string, size_t> dropped_counts;
  if (ctx.deps.scrape_manager != nullptr) {
    if (show_active) active = ctx.deps.scrape_manager->ActiveTargets();
    if (show_dropped) {
      dropped = ctx.deps.scrape_manager->DroppedTargets();
      dropped_counts = ctx.deps.scrape_manager->DroppedTargetCounts();
    }
  }
  std::stable_sort(active.begin(), active.end(),
                   [](const auto& a, const auto& b) { return a.scrape_pool < b.scrape_pool; });
  WriteApiSuccess(res, [&](JsonWriter& w) {
    w.BeginObject();
    w.Key("activeTargets");
    w.BeginArray();
    for (const auto& t : active) WriteActiveTarget(w, t);
    w.EndArray();
    w.Key("droppedTargets");
    w.BeginArray();
    for (const auto& t : dropped) {
      w.BeginObject();
      w.Key("discoveredLabels");
      w.LabelSet(t.discovered_labels);
      w.EndObject();
    }
    w.EndArray();
    // Prometheus 2.47+: every dropped target counted, also those
    // keep_dropped_targets leaves out of the list; null unless dropped ones are shown.
    w.Key("droppedTargetCounts");
    if (show_dropped) {
      w.BeginObject();
      for (const auto& [pool, count] : dropped_counts) {
        w.Key(pool);
        w.Int(static_cast<int64_t>(count));
      }
      w.EndObject();
    } else {
      w.Null();
    }
    w.EndObject();
  });
}

// ?limit=: -1 (no limit) when absent.
Result<int> LimitParam(const HttpCall& call) {
  const std::string text = call.Param("limit");
  if (text.empty()) return -1;
  int limit = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), limit);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size()) {
    return Status::InvalidArgument("limit must be a number");
  }
  return limit;
}

std::vector<scraper::TargetMetadata> AllMetadata(ApiContext& ctx, const std::string& metric) {
  if (ctx.deps.scrape_manager == nullptr) return {};
  return ctx.deps.scrape_manager->Metadata(metric);
}

void HandleTargetsMetadata(ApiContext& ctx, const HttpCall& call, httplib::Response& res) {
  const auto limit = LimitParam(call);
  if (!limit.ok()) return WriteApiError(res, ApiErrorFromStatus(limit.status()));
  const std::string match_target = call.Param("match_target");
  LabelMatchers matchers;
  if (!match_target.empty()) {
    auto parsed = promql::ParseSeriesSelector(match_target);
    if (!parsed.ok()) return WriteApiError(res, ApiErrorFromStatus(parsed.status()));
    matchers = std::move(parsed).value();
  }
  const std::string metric = call.Param("metric");
  const auto all = AllMetadata(ctx, metric);
  WriteApiSuccess(res, [&](JsonWriter& w) {
    w.BeginArray();
    int count = 0;
    for (const auto& m : all) {
      if (*limit >= 0 && count >= *limit) break;
      if (!MatchesAll(matchers, m.target)) continue;
      ++count;
      w.BeginObject();
      w.Key("target");
      w.LabelSet(m.target);
      if (metric.empty()) {
        w.Key("metric");
        w.String(m.metadata.metric);
      }
      w.Key("type");
      w.String(m.metadata.type);
      w.Key("help");
      w.String(m.metadata.help);
      w.Key("unit");
      w.String(m.metadata.unit);
      w.EndObject();
    }
    w.EndArray();
  });
}

void HandleMetadata(ApiContext& ctx, const HttpCall& call, httplib::Response& res) {
  const auto limit = LimitParam(call);
  if (!limit.ok()) return WriteApiError(res, ApiErrorFromStatus(limit.status()));
  // metric name -> distinct (type, help, unit) across targets.
  std::map<std::string, std::set<std::tuple<std::string, std::string, std::string>>> merged;
  const std::string metric = call.Param("metric");
  for (const auto& m : AllMetadata(ctx, metric)) {
    const std::string& name = metric.empty() ? m.metadata.metric : metric;
    merged[name].emplace(m.metadata.type, m.metadata.help, m.metadata.unit);
  }
  WriteApiSuccess(res, [&](JsonWriter& w) {
    w.BeginObject();
    int count = 0;
    for (const auto& [name, entries] : merged) {
      if (*limit >= 0 && count >= *limit) break;
      ++count;
      w.Key(name);
      w.BeginArray();
      for (const auto& [type, help, unit] : entries) {
        w.BeginObject();
        w.Key("type");
        w.String(type);
        w.Key("help");
        w.String(help);
        w.Key("unit");
        w.String(unit);
        w.EndObject();
      }
      w.EndArray();
    }
    w.EndObject();
  });
}

}  // namespace

void RegisterTargetsApi(Router& router, ApiContext& ctx) {
  router.Handle("GET", "/api/v1/targets",
                [&ctx](const HttpCall& c, httplib::Response& r) { HandleTargets(ctx, c, r); });
  router.Handle("GET", "/api/v1/targets/metadata", [&ctx](const HttpCall& c, httplib::Response& r) {
    HandleTargetsMetadata(ctx, c, r);
  });
  router.Handle("GET", "/api/v1/metadata",
                [&ctx](const HttpCall& c, httplib::Response& r) { HandleMetadata(ctx, c, r); });
}

}  // namespace vigil::web
