// RuleManager: evaluates the recording and alerting rule groups of the
// config's rule_files on their intervals, as Prometheus 2.42's rules manager:
// recording rules write their result series, alerting rules keep per-alert
// state (pending -> firing after `for`, resolved alerts kept 15 minutes) and
// write ALERTS / ALERTS_FOR_STATE; series a rule stops producing get a
// staleness marker. One thread evaluates all groups; Update() swaps the groups
// on a config reload, keeping the alert state of rules that did not change.
// Firing and resolved alerts go to the Notifier (Alertmanager). After a
// restart, alerts get back their `for` state from ALERTS_FOR_STATE (after the
// second evaluation, as Prometheus; ALERTS are not written until then).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "promql/engine.h"
#include "rules/notifier.h"
#include "rules/rule_file.h"
#include "base/clock.h"
#include "base/metrics_registry.h"
#include "storage/storage.h"

namespace vigil::rules {

enum class AlertState { kInactive, kPending, kFiring };
const char* AlertStateName(AlertState s);  // "inactive", "pending", "firing"

struct Alert {
  Labels labels;  // the alert's identity, alertname included
  std::vector<Label> annotations;
  AlertState state = AlertState::kPending;
  int64_t active_at_ms = 0;
  int64_t fired_at_ms = 0;
  int64_t resolved_at_ms = 0;  // 0 while active
  int64_t last_sent_ms = 0;    // last time it went to the notifier
  int64_t valid_until_ms = 0;  // endsAt sent while it fires
  double value = 0;
};

// What the API and UI show for one rule.
struct RuleStatus {
  RuleSpec spec;
  std::string query;               // the expression, formatted as Prometheus prints it
  std::string health = "unknown";  // "ok", "err", "unknown"
  std::string last_error;
  int64_t last_evaluation_ms = 0;  // 0: never
  double evaluation_seconds = 0;
  std::vector<Alert> alerts;                 // alerting rules: pending and firing alerts
  AlertState state = AlertState::kInactive;  // alerting rules: the most severe alert state
};

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

struct RuleManagerOptions {
  // Receives firing and resolved alerts (optional), each again every
  // `resend_delay_ms` (--rules.alert.resend-delay) while it lasts.
  Notifier* notifier = nullptr;
  int64_t resend_delay_ms = 60'000;
  // `for` state restoration at startup (--rules.alert.for-outage-tolerance,
  // --rules.alert.for-grace-period): alerts active before a restart keep their
  // activeAt, shifted by the downtime, when the outage was shorter than the tolerance.
  int64_t outage_tolerance_ms = 3600'000;
  int64_t for_grace_period_ms = 600'000;
};

class RuleManager {
 public:
  RuleManager(storage::Storage* db, promql::Engine* engine, const Clock* clock,
              RuleManagerOptions options = {});
  ~RuleManager();  // Stop()
  RuleManager(const RuleManager&) = delete;
  RuleManager& operator=(const RuleManager&) = delete;

  // Replaces the groups (on start and on every config reload). Fails, leaving
  // the old groups running, when an expression does not parse.
  [[nodiscard]] Status Update(std::vector<GroupSpec> groups, Labels external_labels,
                              std::string external_url);

  // Starts / stops the evaluation thread.
  void Start();
  void Stop();

  // Evaluates group `index` (in Update's order) at `t_ms` now; tests drive time with it.
  void EvalGroup(size_t index, int64_t t_ms);

  std::vector<GroupStatus> Groups() const;

  // Prometheus's first evaluation time of a group at or after `now_ms`: every
  // group runs at a fixed offset (a hash of file and name) into its interval.
  static int64_t NextEvalTime(const GroupSpec& group, int64_t now_ms);

 private:
  struct Group;
  void Run();
  void EvalRecording(RuleStatus& rule, int64_t t_ms, int64_t limit,
                     std::vector<promql::Sample>& out);
  void EvalAlerting(RuleStatus& rule, std::map<uint64_t, Alert>& active, int64_t t_ms,
                    int64_t limit, bool restored, std::vector<promql::Sample>& out);
  // Prometheus's RestoreForState: activeAt of the active alerts of `group`
  // from their ALERTS_FOR_STATE series written before the restart.
  void RestoreForState(Group& group, int64_t now_ms);
  // Copies the pending and firing alerts into the rule's status.
  static void PublishAlerts(RuleStatus& rule, const std::map<uint64_t, Alert>& active);
  // Hands the alerts of one rule that are due to the notifier.
  void Notify(const RuleStatus& rule, std::map<uint64_t, Alert>& active, int64_t t_ms,
              int64_t interval_ms);
  Result<promql::Vector> Query(const std::string& expr, int64_t t_ms);
  void Write(const std::vector<promql::Sample>& samples, std::set<Labels>& previous, int64_t t_ms);
  void Collect(MetricsWriter& w) const;

  storage::Storage* const db_;
  promql::Engine* const engine_;
  const Clock* const clock_;
  const RuleManagerOptions options_;
  bool loaded_once_ = false;  // groups of the first Update restore their `for` state

  mutable std::mutex mu_;                       // guards everything below
  std::vector<std::shared_ptr<Group>> groups_;  // shared: an evaluation keeps its group alive
  Labels external_labels_;
  std::string external_url_;
  bool stop_ = false;
  bool changed_ = false;  // groups replaced: the thread recomputes its schedule
  std::condition_variable cv_;
  std::thread thread_;
  ScopedCollector collector_;  // prometheus_rule_* on /metrics; last, so it goes first
};

}  // namespace vigil::rules
