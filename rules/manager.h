// Manager: runs the rule groups of the config's rule_files, as Prometheus's
// rules.Manager. Update() replaces the groups on start and on every config
// reload; a group with the same file and name keeps the state of its
// unchanged rules. One thread evaluates every group on its interval, at a
// fixed offset into it (NextEvalTime); missed evaluations are skipped.
// Publishes prometheus_rule_* on /metrics. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/metrics_registry.h"
#include "promql/engine.h"
#include "rules/group.h"
#include "rules/notifier.h"
#include "rules/rule_file.h"
#include "storage/storage.h"

namespace vigil::rules {

struct ManagerOptions {
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

class Manager {
 public:
  Manager(storage::Storage* db, promql::Engine* engine, const Clock* clock,
          ManagerOptions options = {});
  ~Manager();  // Stop()
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  // Replaces the groups (on start and on every config reload). Fails, leaving
  // the old groups running, when an expression does not parse. The groups
  // of the first call restore their alerts' `for` state.
  [[nodiscard]] Status Update(std::vector<GroupSpec> groups, Labels external_labels,
                              std::string external_url);

  // Starts / stops the evaluation thread.
  void Start();
  void Stop();

  // Evaluates group `index` (in Update's order) at `t_ms` now; tests drive time with it.
  void EvalGroup(size_t index, int64_t t_ms);

  std::vector<GroupStatus> Groups() const;

 private:
  // A group and the time of its next evaluation.
  struct Scheduled {
    std::shared_ptr<Group> group;  // shared: an evaluation keeps its group alive
    int64_t next_eval_ms = 0;
  };
  GroupOptions OptionsForGroups(Labels external_labels, std::string external_url) const;
  void Run();
  // The group due first, or nullptr when there is none. Requires mu_.
  Scheduled* NextDue();
  void Collect(MetricsWriter& w) const;

  storage::Storage* const db_;
  promql::Engine* const engine_;
  const Clock* const clock_;
  const ManagerOptions options_;

  mutable std::mutex mu_;  // guards everything below
  bool loaded_once_ = false;
  std::vector<Scheduled> groups_;
  bool stop_ = false;
  bool changed_ = false;  // groups replaced: the thread recomputes its schedule
  std::condition_variable cv_;
  std::thread thread_;
  ScopedCollector collector_;  // prometheus_rule_* on /metrics; last, so it goes first
};

}  // namespace vigil::rules
