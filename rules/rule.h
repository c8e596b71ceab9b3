// Rule: what recording and alerting rules share, as Prometheus's rules.Rule.
// A rule evaluates its expression at a time and returns the samples to write;
// its group records how each evaluation went (health, last error, timing),
// which the API shows through RuleStatus.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/labels.h"
#include "base/status.h"
#include "promql/engine.h"
#include "rules/rule_file.h"
#include "storage/storage.h"

namespace vigil::rules {

// The outcome of a rule's last evaluation.
enum class RuleHealth { kUnknown, kOk, kErr };
const char* RuleHealthName(RuleHealth h);  // "unknown", "ok", "err"

enum class AlertState { kInactive, kPending, kFiring };
const char* AlertStateName(AlertState s);  // "inactive", "pending", "firing"

// One alert of an alerting rule, identified by its labels.
struct Alert {
  Labels labels;  // the alert's identity, alertname included
  std::vector<Label> annotations;
  AlertState state = AlertState::kPending;
  int64_t active_at_ms = 0;
  int64_t fired_at_ms = 0;
  int64_t resolved_at_ms = 0;  // 0 while active
  int64_t last_sent_ms = 0;    // last time it went to the notifier
  int64_t valid_until_ms = 0;  // endsAt sent while it fires
  // Set while a firing alert no longer in the expression's result is kept
  // firing for the rule's keep_firing_for: when it left the result.
  int64_t keep_firing_since_ms = 0;
  double value = 0;
};

// What the API and UI show for one rule.
struct RuleStatus {
  RuleSpec spec;
  std::string query;  // the expression, formatted as Prometheus prints it
  RuleHealth health = RuleHealth::kUnknown;
  std::string last_error;
  int64_t last_evaluation_ms = 0;  // 0: never
  double evaluation_seconds = 0;
  std::vector<Alert> alerts;                 // alerting rules: pending and firing alerts
  AlertState state = AlertState::kInactive;  // alerting rules: the most severe alert state
};

// Evaluates a PromQL expression at a time to an instant vector (a scalar
// result becomes one sample without labels); rules query through it.
using QueryFunc = std::function<Result<promql::Vector>(const std::string& expr, int64_t t_ms)>;
QueryFunc EngineQueryFunc(promql::Engine* engine, storage::Storage* db);

// What a rule's evaluation needs besides its own spec.
struct EvalContext {
  QueryFunc query;
  Labels external_labels;    // $externalLabels in alert templates
  std::string external_url;  // $externalURL, and the base of generator URLs
  int64_t limit = 0;         // the group's limit on series/alerts per rule, 0: none
};

class Rule {
 public:
  // `query` is spec.expr as Prometheus prints it (the expression parses).
  Rule(RuleSpec spec, std::string query);
  virtual ~Rule() = default;
  Rule(const Rule&) = delete;
  Rule& operator=(const Rule&) = delete;

  const RuleSpec& spec() const { return spec_; }

  // The samples the rule produces at `t_ms`, or why it failed.
  virtual Result<std::vector<promql::Sample>> Eval(const EvalContext& ctx, int64_t t_ms) = 0;

  // Records the outcome and duration of the evaluation at `t_ms`.
  void SetEvaluation(const Status& outcome, int64_t t_ms, double seconds);
  RuleHealth health() const { return health_; }

  // Takes over the state of `old`, the same rule in the group before a
  // reload: its last evaluation (and, for alerting rules, its alerts).
  virtual void TakeStateFrom(Rule& old);

  virtual RuleStatus Snapshot() const;

 private:
  const RuleSpec spec_;
  const std::string query_;
  RuleHealth health_ = RuleHealth::kUnknown;
  std::string last_error_;
  int64_t last_evaluation_ms_ = 0;
  double evaluation_seconds_ = 0;
};

// Whether two rules are the same as written (kind, name, expression, `for`,
// `keep_firing_for`, labels and annotations): a reload keeps the state of such a rule.
bool SameRule(const RuleSpec& a, const RuleSpec& b);

}  // namespace vigil::rules
