#include "rules/alerting_rule.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <utility>

#include "base/url_escape.h"
#include "rules/alert_template.h"

namespace vigil::rules {
namespace {

constexpr std::string_view kAlertNameLabel = "alertname";

// Prometheus keeps resolved alerts this long so Alertmanager learns they ended.
constexpr int64_t kResolvedRetentionMs = 15 * 60 * 1000;

Labels WithName(const Labels& labels, std::string_view name, std::string_view extra_name = {},
                std::string_view extra_value = {}) {
  LabelsBuilder b(labels);
  b.Set(kMetricNameLabel, name);
  if (!extra_name.empty()) b.Set(extra_name, extra_value);
  return b.Build();
}

}  // namespace

Labels ForStateLabels(const Labels& alert_labels) {
  return WithName(alert_labels, "ALERTS_FOR_STATE");
}

Result<std::vector<promql::Sample>> AlertingRule::Eval(const EvalContext& ctx, int64_t t_ms) {
  auto vec = ctx.query(spec().expr, t_ms);
  if (!vec.ok()) return vec.status();
  auto current = AlertsOf(*vec, ctx, t_ms);
  if (!current.ok()) return current.status();
  Merge(*current);
  std::vector<promql::Sample> out;
  Advance(*current, t_ms, out);
  // As Prometheus, the limit counts the pending and firing alerts after
  // the evaluation, those kept firing included.
  const auto active = std::count_if(active_.begin(), active_.end(), [](const auto& kv) {
    return kv.second.state != AlertState::kInactive;
  });
  if (ctx.limit > 0 && active > ctx.limit) {
    active_.clear();
    return Status::InvalidArgument("exceeded limit of " + std::to_string(ctx.limit) + " with " +
                                   std::to_string(active) + " alerts");
  }
  return out;
}

Result<std::map<uint64_t, Alert>> AlertingRule::AlertsOf(const promql::Vector& vec,
                                                         const EvalContext& ctx,
                                                         int64_t t_ms) const {
  std::map<uint64_t, Alert> current;
  for (const auto& s : vec) {
    const AlertTemplateData data{&s.metric, &ctx.external_labels, ctx.external_url, s.point.v,
                                 spec().name};
    LabelsBuilder b(s.metric);
    b.Del(kMetricNameLabel);
    for (const auto& l : spec().labels) b.Set(l.name, ExpandAlertTemplate(l.value, data));
    b.Set(kAlertNameLabel, spec().name);
    Alert alert;
    alert.labels = b.Build();
    for (const auto& a : spec().annotations) {
      alert.annotations.push_back({a.name, ExpandAlertTemplate(a.value, data)});
    }
    alert.active_at_ms = t_ms;
    alert.value = s.point.v;
    if (!current.emplace(alert.labels.Hash(), std::move(alert)).second) {
      return Status::InvalidArgument(
          "vector contains metrics with the same labelset after applying alert labels");
    }
  }
  return current;
}

void AlertingRule::Merge(std::map<uint64_t, Alert>& current) {
  for (auto& [h, a] : current) {
    auto it = active_.find(h);
    if (it != active_.end() && it->second.state != AlertState::kInactive) {
      it->second.value = a.value;
      it->second.annotations = std::move(a.annotations);
    } else {
      active_[h] = std::move(a);
    }
  }
}

bool AlertingRule::KeepsFiring(Alert& a, int64_t t_ms) const {
  if (a.state != AlertState::kFiring || spec().keep_firing_for_ms <= 0) return false;
  if (a.keep_firing_since_ms == 0) a.keep_firing_since_ms = t_ms;
  return t_ms - a.keep_firing_since_ms < spec().keep_firing_for_ms;
}

void AlertingRule::Advance(const std::map<uint64_t, Alert>& current, int64_t t_ms,
                           std::vector<promql::Sample>& out) {
  for (auto it = active_.begin(); it != active_.end();) {
    Alert& a = it->second;
    if (current.count(it->first)) {
      a.keep_firing_since_ms = 0;
    } else if (!KeepsFiring(a, t_ms)) {
      const bool drop = a.state == AlertState::kPending ||
                        (a.resolved_at_ms != 0 && t_ms - a.resolved_at_ms > kResolvedRetentionMs);
      if (a.state != AlertState::kInactive) {
        a.state = AlertState::kInactive;
        a.resolved_at_ms = t_ms;
      }
      it = drop ? active_.erase(it) : std::next(it);
      continue;
    }
    if (a.state == AlertState::kPending && t_ms - a.active_at_ms >= spec().for_ms) {
      a.state = AlertState::kFiring;
      a.fired_at_ms = t_ms;
    }
    if (restored_) {
      out.push_back(
          {WithName(a.labels, "ALERTS", "alertstate", AlertStateName(a.state)), {t_ms, 1}});
      out.push_back({ForStateLabels(a.labels), {t_ms, static_cast<double>(a.active_at_ms / 1000)}});
    }
    ++it;
  }
}

std::optional<int64_t> RestoredActiveAt(const vigil::Sample& last, int64_t for_ms, int64_t now_ms,
                                        int64_t grace_period_ms) {
  if (vigil::IsStaleNaN(last.v)) return std::nullopt;
  // The value is activeAt in seconds; one that is not a time (NaN, 1e300:
  // e.g. written by remote write) restores nothing instead of being cast
  // out of int64's range.
  constexpr double kMaxActiveAtSeconds = 9e12;  // x1000 stays far inside int64
  if (!(std::fabs(last.v) <= kMaxActiveAtSeconds)) return std::nullopt;
  const int64_t down_at = last.t / 1000 * 1000;
  const int64_t active_at = static_cast<int64_t>(last.v) * 1000;
  const int64_t remaining = for_ms - (down_at - active_at);
  if (remaining <= 0) return active_at;  // it was firing; the next evaluation fires it again
  if (remaining < grace_period_ms) return now_ms + grace_period_ms - for_ms;
  return active_at + (now_ms - down_at);  // the pending time does not count the downtime
}

void AlertingRule::RestoreForState(const ForStateLookup& lookup, int64_t now_ms,
                                   int64_t grace_period_ms) {
  if (spec().for_ms < grace_period_ms) return;
  for (auto& [h, a] : active_) {
    const auto last = lookup(ForStateLabels(a.labels));
    if (!last) continue;
    if (auto active_at = RestoredActiveAt(*last, spec().for_ms, now_ms, grace_period_ms)) {
      a.active_at_ms = *active_at;
    }
  }
}

std::vector<NotifiedAlert> AlertingRule::AlertsToSend(int64_t t_ms, int64_t resend_delay_ms,
                                                      int64_t interval_ms,
                                                      const std::string& generator_url) {
  std::vector<NotifiedAlert> due;
  for (auto& [h, a] : active_) {
    if (a.state == AlertState::kPending) continue;
    const bool resolved_since_sent = a.resolved_at_ms > a.last_sent_ms;
    if (!resolved_since_sent && a.last_sent_ms + resend_delay_ms >= t_ms) continue;
    a.last_sent_ms = t_ms;
    a.valid_until_ms = t_ms + 4 * std::max(resend_delay_ms, interval_ms);
    due.push_back({a.labels, a.annotations, a.fired_at_ms,
                   a.resolved_at_ms != 0 ? a.resolved_at_ms : a.valid_until_ms, generator_url});
  }
  return due;
}

void AlertingRule::TakeStateFrom(Rule& old) {
  Rule::TakeStateFrom(old);
  if (auto* alerting = dynamic_cast<AlertingRule*>(&old)) active_ = std::move(alerting->active_);
}

RuleStatus AlertingRule::Snapshot() const {
  RuleStatus s = Rule::Snapshot();
  for (const auto& [h, a] : active_) {
    if (a.state == AlertState::kInactive) continue;
    s.alerts.push_back(a);
    if (a.state == AlertState::kFiring || s.state == AlertState::kInactive) s.state = a.state;
  }
  return s;
}

std::string GeneratorUrl(std::string_view external_url, std::string_view expr) {
  std::string base(external_url);
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/graph?g0.expr=" + QueryEscape(expr) + "&g0.tab=1";
}

}  // namespace vigil::rules
