// AlertingRule: an `alert:` rule and its alerts, as Prometheus's
// rules.AlertingRule. Every series of the expression's result is one alert
// (its labels plus the rule's expanded label templates and alertname). A new
// alert is pending; it fires once it has been active for the rule's `for`.
// An alert that leaves the result is dropped when pending, and resolved when
// firing, unless the rule has a keep_firing_for: then a firing alert keeps
// firing (and is sent as firing) until it has been out of the result that
// long. A resolved alert is kept (inactive) for 15 minutes so Alertmanager
// learns it ended. Each evaluation writes ALERTS{alertstate} and
// ALERTS_FOR_STATE (value: activeAt in seconds) for the active alerts, once
// the rule's `for` state has been restored after a restart.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/sample.h"
#include "rules/notifier.h"
#include "rules/rule.h"

namespace vigil::rules {

// The last sample of an ALERTS_FOR_STATE series with exactly `labels`
// written before a restart, or nullopt when there is none.
using ForStateLookup = std::function<std::optional<vigil::Sample>(const Labels& labels)>;

class AlertingRule : public Rule {
 public:
  using Rule::Rule;

  // Updates the alerts from the expression's result at `t_ms`; returns the
  // ALERTS and ALERTS_FOR_STATE samples (none until restored()). On a failed
  // evaluation the alerts stay as they were, except that exceeding the
  // group's limit drops them all.
  Result<std::vector<promql::Sample>> Eval(const EvalContext& ctx, int64_t t_ms) override;

  // Whether the `for` state was restored (or did not need to be): only then
  // does Eval write ALERTS series. New rules start restored.
  bool restored() const { return restored_; }
  void SetRestored(bool restored) { restored_ = restored; }

  // Prometheus's RestoreForState for this rule: the active alerts get back
  // their activeAt from the ALERTS_FOR_STATE sample `lookup` finds, moved by
  // the downtime; an alert whose remaining `for` is shorter than
  // `grace_period_ms` fires no earlier than `grace_period_ms` after `now_ms`.
  // Rules whose `for` is shorter than the grace period are left alone.
  void RestoreForState(const ForStateLookup& lookup, int64_t now_ms, int64_t grace_period_ms);

  // The firing and resolved alerts due to go to Alertmanager at `t_ms`: ones
  // not sent for `resend_delay_ms`, and ones resolved since they were last
  // sent. Marks them sent; a firing alert is valid for four times the larger
  // of resend delay and group interval.
  std::vector<NotifiedAlert> AlertsToSend(int64_t t_ms, int64_t resend_delay_ms,
                                          int64_t interval_ms, const std::string& generator_url);

  void TakeStateFrom(Rule& old) override;
  RuleStatus Snapshot() const override;

  // The state of all alerts by label hash, resolved ones included (tests).
  const std::map<uint64_t, Alert>& alerts() const { return active_; }

 private:
  // The alerts the result `vec` stands for, keyed by label hash.
  Result<std::map<uint64_t, Alert>> AlertsOf(const promql::Vector& vec, const EvalContext& ctx,
                                             int64_t t_ms) const;
  // Adds the new alerts of `current`; active ones take its value and annotations.
  void Merge(std::map<uint64_t, Alert>& current);
  // Whether `a`, not in the result at `t_ms`, keeps firing for the rule's
  // keep_firing_for; starts its keep_firing_since when it just left.
  bool KeepsFiring(Alert& a, int64_t t_ms) const;
  // Moves every alert on by one evaluation at `t_ms` (pending -> firing, or
  // resolved / dropped when not in `current` and not kept firing); appends
  // its series to `out`.
  void Advance(const std::map<uint64_t, Alert>& current, int64_t t_ms,
               std::vector<promql::Sample>& out);

  std::map<uint64_t, Alert> active_;  // by label hash
  bool restored_ = true;
};

// The labels of an alert's ALERTS_FOR_STATE series.
Labels ForStateLabels(const Labels& alert_labels);

// Prometheus's activeAt for an alert restored from `last`, its
// ALERTS_FOR_STATE sample before the restart (see RestoreForState); nullopt
// when the sample restores nothing (a staleness marker, or a value that is
// not a time).
std::optional<int64_t> RestoredActiveAt(const vigil::Sample& last, int64_t for_ms, int64_t now_ms,
                                        int64_t grace_period_ms);

// An alert's generatorURL: the Prometheus graph page of `expr` under `external_url`.
std::string GeneratorUrl(std::string_view external_url, std::string_view expr);

}  // namespace vigil::rules
