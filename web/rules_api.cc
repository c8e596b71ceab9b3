// /api/v1/rules and /api/v1/alerts: the rule manager's groups, rules and
// active alerts in Prometheus 2.48's JSON shape (keepFiringFor, keepFiringSince).
#include <httplib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "web/api_context.h"
#include "web/api_params.h"
#include "web/api_response.h"

namespace vigil::web {
namespace {

// Go's strconv.FormatFloat(v, 'e', -1, 64), as Prometheus prints alert values.
std::string GoExponent(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  for (int precision = 0; precision < 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*e", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

// Prometheus's zero time.Time for rules never evaluated.
std::string EvalTime(int64_t ms) { return ms == 0 ? "0001-01-01T00:00:00Z" : FormatRfc3339(ms); }

void WriteLabelMap(JsonWriter& w, const std::vector<Label>& labels) {
  w.BeginObject();
  for (const auto& l : labels) {
    w.Key(l.name);
    w.String(l.value);
  }
  w.EndObject();
}

void WriteAlert(JsonWriter& w, const rules::Alert& a) {
  w.BeginObject();
  w.Key("labels");
  w.LabelSet(a.labels);
  w.Key("annotations");
  WriteLabelMap(w, a.annotations);
  w.Key("state");
  w.String(rules::AlertStateName(a.state));
  w.Key("activeAt");
  w.String(FormatRfc3339(a.active_at_ms));
  if (a.keep_firing_since_ms != 0) {
    w.Key("keepFiringSince");
    w.String(FormatRfc3339(a.keep_firing_since_ms));
  }
  w.Key("value");
  w.String(GoExponent(a.value));
  w.EndObject();
}

std::vector<rules::Alert> SortedAlerts(std::vector<rules::Alert> alerts) {
  std::sort(alerts.begin(), alerts.end(),
            [](const rules::Alert& x, const rules::Alert& y) { return x.labels < y.labels; });
  return alerts;
}

void WriteRule(JsonWriter& w, const rules::RuleStatus& r) {
  const bool alerting = r.spec.kind == rules::RuleKind::kAlerting;
  w.BeginObject();
  if (alerting) {
    w.Key("state");
    w.String(rules::AlertStateName(r.state));
  }
  w.Key("name");
  w.String(r.spec.name);
  w.Key("query");
  w.String(r.query);
  if (alerting) {
    w.Key("duration");
    w.Double(static_cast<double>(r.spec.for_ms) / 1000);
    w.Key("keepFiringFor");
    w.Double(static_cast<double>(r.spec.keep_firing_for_ms) / 1000);
  }
  if (alerting || !r.spec.labels.empty()) {
    w.Key("labels");
    WriteLabelMap(w, r.spec.labels);
  }
  if (alerting) {
    w.Key("annotations");
    WriteLabelMap(w, r.spec.annotations);
    w.Key("alerts");
    w.BeginArray();
    for (const auto& a : SortedAlerts(r.alerts)) WriteAlert(w, a);
    w.EndArray();
  }
  w.Key("health");
  w.String(rules::RuleHealthName(r.health));
  if (!r.last_error.empty()) {
    w.Key("lastError");
    w.String(r.last_error);
  }
  w.Key("evaluationTime");
  w.Double(r.evaluation_seconds);
  w.Key("lastEvaluation");
  w.String(EvalTime(r.last_evaluation_ms));
  w.Key("type");
  w.String(alerting ? "alerting" : "recording");
  w.EndObject();
}

void HandleRules(ApiContext& ctx, const HttpCall& call, httplib::Response& res) {
  const std::string type = call.Param("type");
  if (!type.empty() && type != "alert" && type != "record") {
    return WriteApiError(res, InvalidParam("type", "not supported value \"" + type + "\""));
  }
  const auto groups =
      ctx.deps.rule_manager ? ctx.deps.rule_manager->Groups() : std::vector<rules::GroupStatus>{};
  const auto wanted = [&](const rules::RuleStatus& r) {
    if (type.empty()) return true;
    return (r.spec.kind == rules::RuleKind::kAlerting) == (type == "alert");
  };
  WriteApiSuccess(res, [&](JsonWriter& w) {
    w.BeginObject();
    w.Key("groups");
    w.BeginArray();
    for (const auto& g : groups) {
      if (!type.empty() && std::none_of(g.rules.begin(), g.rules.end(), wanted)) continue;
      w.BeginObject();
      w.Key("name");
      w.String(g.name);
      w.Key("file");
      w.String(g.file);
      w.Key("rules");
      w.BeginArray();
      for (const auto& r : g.rules) {
        if (wanted(r)) WriteRule(w, r);
      }
      w.EndArray();
      w.Key("interval");
      w.Double(static_cast<double>(g.interval_ms) / 1000);
      w.Key("limit");
      w.Int(g.limit);
      w.Key("evaluationTime");
      w.Double(g.evaluation_seconds);
      w.Key("lastEvaluation");
      w.String(EvalTime(g.last_evaluation_ms));
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  });
}

void HandleAlerts(ApiContext& ctx, httplib::Response& res) {
  const auto groups =
      ctx.deps.rule_manager ? ctx.deps.rule_manager->Groups() : std::vector<rules::GroupStatus>{};
  WriteApiSuccess(res, [&](JsonWriter& w) {
    w.BeginObject();
    w.Key("alerts");
    w.BeginArray();
    for (const auto& g : groups) {
      for (const auto& r : g.rules) {
        for (const auto& a : SortedAlerts(r.alerts)) WriteAlert(w, a);
      }
    }
    w.EndArray();
    w.EndObject();
  });
}

}  // namespace

void RegisterRulesApi(Router& router, ApiContext& ctx) {
  router.Handle("GET", "/api/v1/rules",
                [&ctx](const HttpCall& c, httplib::Response& r) { HandleRules(ctx, c, r); });
  router.Handle("GET", "/api/v1/alerts",
                [&ctx](const HttpCall&, httplib::Response& r) { HandleAlerts(ctx, r); });
}

}  // namespace vigil::web
