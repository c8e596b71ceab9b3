#include "rules/group.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "base/logger.h"
#include "rules/alerting_rule.h"
#include "rules/recording_rule.h"

namespace vigil::rules {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

Result<std::unique_ptr<Rule>> NewRule(const GroupSpec& group, const RuleSpec& spec) {
  auto query = promql::FormatQuery(spec.expr);
  if (!query.ok()) {
    return Status::InvalidArgument(group.file + ": group \"" + group.name + "\", rule \"" +
                                   spec.name + "\": " + query.status().message());
  }
  if (spec.kind == RuleKind::kRecording) {
    return std::unique_ptr<Rule>(std::make_unique<RecordingRule>(spec, std::move(*query)));
  }
  return std::unique_ptr<Rule>(std::make_unique<AlertingRule>(spec, std::move(*query)));
}

// The last sample of the first series selecting exactly `labels`, in
// [mint, maxt]; nullopt when there is none or it has no sample.
std::optional<vigil::Sample> LastSample(storage::Querier& querier, const Labels& labels,
                                        int64_t mint, int64_t maxt) {
  LabelMatchers matchers;
  for (const auto& l : labels) {
    matchers.push_back(LabelMatcher::Make(MatchType::kEqual, l.name, l.value).value());
  }
  auto series = querier.Select(mint, maxt, matchers);
  if (!series.ok()) return std::nullopt;
  for (const auto& s : *series) {
    if (s->labels().size() != labels.size()) continue;
    auto it = s->Iterator();
    std::optional<vigil::Sample> last;
    while (it->Next()) last = it->At();
    return last;
  }
  return std::nullopt;
}

}  // namespace

Result<std::unique_ptr<Group>> Group::Make(GroupSpec spec, GroupOptions options) {
  std::vector<std::unique_ptr<Rule>> rules;
  for (const auto& r : spec.rules) {
    auto rule = NewRule(spec, r);
    if (!rule.ok()) return rule.status();
    rules.push_back(std::move(*rule));
  }
  return std::unique_ptr<Group>(new Group(std::move(spec), std::move(options), std::move(rules)));
}

Group::Group(GroupSpec spec, GroupOptions options, std::vector<std::unique_ptr<Rule>> rules)
    : spec_(std::move(spec)),
      options_(std::move(options)),
      context_{EngineQueryFunc(options_.engine, options_.db), options_.external_labels,
               options_.external_url, spec_.limit},
      rules_(std::move(rules)),
      written_(rules_.size()),
      evals_until_restore_(options_.restore_for_state ? 2 : 0) {
  for (auto& rule : rules_) {
    if (auto* alerting = dynamic_cast<AlertingRule*>(rule.get())) {
      alerting->SetRestored(!options_.restore_for_state);
    }
  }
}

void Group::TakeStateFrom(Group& old) {
  std::scoped_lock lock(mu_, old.mu_);
  for (size_t i = 0; i < rules_.size() && i < old.rules_.size(); ++i) {
    if (!SameRule(old.rules_[i]->spec(), rules_[i]->spec())) continue;
    rules_[i]->TakeStateFrom(*old.rules_[i]);
    written_[i] = std::move(old.written_[i]);
  }
  last_evaluation_ms_ = old.last_evaluation_ms_;
  evaluation_seconds_ = old.evaluation_seconds_;
}

void Group::Eval(int64_t t_ms) {
  std::lock_guard lock(mu_);
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < rules_.size(); ++i) EvalRule(i, t_ms);
  last_evaluation_ms_ = t_ms;
  evaluation_seconds_ = SecondsSince(start);
  // As Prometheus: the state comes back after the second evaluation, once
  // recording rules the alerts depend on have fresh values.
  if (evals_until_restore_ > 0 && --evals_until_restore_ == 0) {
    RestoreForState(std::max(t_ms, options_.clock->NowMillis()));
  }
}

void Group::EvalRule(size_t i, int64_t t_ms) {
  Rule& rule = *rules_[i];
  const auto start = std::chrono::steady_clock::now();
  auto samples = rule.Eval(context_, t_ms);
  ++evaluations_;
  if (samples.ok()) {
    SendAlerts(rule, t_ms);
    Write(*samples, written_[i], t_ms);
  } else {
    ++failures_;
    VLOG_WARN(
        "Evaluating rule failed",
        {{"group", spec_.name}, {"rule", rule.spec().name}, {"err", samples.status().message()}});
  }
  rule.SetEvaluation(samples.status(), t_ms, SecondsSince(start));
}

void Group::SendAlerts(Rule& rule, int64_t t_ms) {
  auto* alerting = dynamic_cast<AlertingRule*>(&rule);
  if (alerting == nullptr || options_.notifier == nullptr) return;
  auto due = alerting->AlertsToSend(t_ms, options_.resend_delay_ms, spec_.interval_ms,
                                    GeneratorUrl(options_.external_url, rule.spec().expr));
  if (!due.empty()) options_.notifier->Send(std::move(due));
}

void Group::Write(const std::vector<promql::Sample>& samples, std::set<Labels>& previous,
                  int64_t t_ms) {
  auto app = options_.db->NewAppender();
  std::set<Labels> now;
  for (const auto& s : samples) {
    auto r = app->Append(0, s.metric, t_ms, s.point.v);
    if (!r.ok()) {
      VLOG_WARN("Rule sample appending failed",
                {{"err", r.status().message()}, {"sample", s.metric.ToString()}});
    }
    now.insert(s.metric);
  }
  // Series the rule produced last time but not now end with a staleness marker.
  for (const auto& labels : previous) {
    if (!now.count(labels)) (void)app->Append(0, labels, t_ms, vigil::StaleNaN());
  }
  if (vigil::Status st = app->Commit(); !st.ok()) {
    VLOG_WARN("Rule evaluation result discarded", {{"err", st.message()}});
  }
  previous = std::move(now);
}

void Group::RestoreForState(int64_t now_ms) {
  auto querier = options_.db->NewQuerier();
  if (!querier.ok()) return;
  const ForStateLookup lookup = [&](const Labels& labels) {
    return LastSample(**querier, labels, now_ms - options_.outage_tolerance_ms, now_ms);
  };
  for (auto& rule : rules_) {
    auto* alerting = dynamic_cast<AlertingRule*>(rule.get());
    if (alerting == nullptr) continue;
    alerting->RestoreForState(lookup, now_ms, options_.for_grace_period_ms);
    alerting->SetRestored(true);
  }
}

GroupStatus Group::Status() const {
  std::lock_guard lock(mu_);
  GroupStatus s{spec_.file,  spec_.name,          spec_.interval_ms,
                spec_.limit, last_evaluation_ms_, evaluation_seconds_,
                {},          evaluations_,        failures_};
  for (const auto& rule : rules_) s.rules.push_back(rule->Snapshot());
  return s;
}

int64_t NextEvalTime(const GroupSpec& group, int64_t now_ms) {
  const int64_t interval = std::max<int64_t>(group.interval_ms, 1);
  const auto offset = static_cast<int64_t>(
      Labels{{"file", group.file}, {"name", group.name}}.Hash() % static_cast<uint64_t>(interval));
  const int64_t adjusted = now_ms - offset;
  const int64_t base = adjusted - ((adjusted % interval) + interval) % interval;
  const int64_t t = base + offset;
  return t >= now_ms ? t : t + interval;
}

}  // namespace vigil::rules
