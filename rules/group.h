// Group: one rule group of a rule file, as Prometheus's rules.Group. Its rules
// are evaluated in file order at one time, so a rule sees the results of the
// rules before it; results are written to storage, and series a rule stopped
// producing get a staleness marker. Alerting rules hand due alerts to the
// notifier. A group loaded when the server starts restores the `for` state of
// its alerts from ALERTS_FOR_STATE after its second evaluation (once the
// recording rules its alerts depend on have fresh values). Thread-safe: an
// evaluation and Status() exclude each other.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "base/clock.h"
#include "rules/notifier.h"
#include "rules/rule.h"
#include "rules/rule_file.h"
#include "storage/storage.h"

namespace vigil::rules {

// What the API and /metrics show for one group.
struct GroupStatus {
  std::string file;
  std::string name;
  int64_t interval_ms = 0;
  int64_t limit = 0;
  int64_t last_evaluation_ms = 0;
  double evaluation_seconds = 0;
  std::vector<RuleStatus> rules;
  uint64_t evaluations = 0;  // rule evaluations since the group was loaded
  uint64_t failures = 0;     // of which failed
};

struct GroupOptions {
  storage::Storage* db = nullptr;
  promql::Engine* engine = nullptr;
  const Clock* clock = nullptr;
  // Receives firing and resolved alerts (optional), each again every
  // `resend_delay_ms` while it lasts.
  Notifier* notifier = nullptr;
  int64_t resend_delay_ms = 60'000;
  // `for` state restoration (see AlertingRule::RestoreForState): only
  // ALERTS_FOR_STATE samples younger than `outage_tolerance_ms` count.
  bool restore_for_state = false;
  int64_t outage_tolerance_ms = 3600'000;
  int64_t for_grace_period_ms = 600'000;
  Labels external_labels;
  std::string external_url;
};

class Group {
 public:
  // Fails when an expression of `spec` does not parse.
  static Result<std::unique_ptr<Group>> Make(GroupSpec spec, GroupOptions options);
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;

  const GroupSpec& spec() const { return spec_; }

  // Takes over the state of `old` (the group with the same file and name
  // before a reload): unchanged rules, at the same position, keep theirs;
  // the group keeps its last evaluation time.
  void TakeStateFrom(Group& old);

  // Evaluates every rule at `t_ms`.
  void Eval(int64_t t_ms);

  GroupStatus Status() const;

 private:
  Group(GroupSpec spec, GroupOptions options, std::vector<std::unique_ptr<Rule>> rules);
  void EvalRule(size_t i, int64_t t_ms);
  void SendAlerts(Rule& rule, int64_t t_ms);
  // Appends `samples`, and staleness markers for the series in `previous`
  // that are gone; `previous` becomes the series written now.
  void Write(const std::vector<promql::Sample>& samples, std::set<Labels>& previous, int64_t t_ms);
  void RestoreForState(int64_t now_ms);

  const GroupSpec spec_;
  const GroupOptions options_;
  const EvalContext context_;

  mutable std::mutex mu_;  // held while the group evaluates; guards everything below
  std::vector<std::unique_ptr<Rule>> rules_;
  std::vector<std::set<Labels>> written_;  // per rule: series of the last evaluation
  int64_t last_evaluation_ms_ = 0;
  double evaluation_seconds_ = 0;
  uint64_t evaluations_ = 0;
  uint64_t failures_ = 0;
  int evals_until_restore_ = 0;  // >0: `for` state is restored after that many evaluations
};

// Prometheus's first evaluation time of a group at or after `now_ms`: every
// group runs at a fixed offset (a hash of file and name) into its interval.
int64_t NextEvalTime(const GroupSpec& group, int64_t now_ms);

}  // namespace vigil::rules
