#include "rules/manager.h"

#include <algorithm>
#include <chrono>
#include <utility>

namespace vigil::rules {

Manager::Manager(storage::Storage* db, promql::Engine* engine, const Clock* clock,
                 ManagerOptions options)
    : db_(db),
      engine_(engine),
      clock_(clock),
      options_(options),
      collector_([this](MetricsWriter& w) { Collect(w); }) {}

Manager::~Manager() { Stop(); }

void Manager::Collect(MetricsWriter& w) const {
  const std::vector<GroupStatus> groups = Groups();
  struct Gauge {
    const char* name;
    const char* type;
    const char* help;
    double (*value)(const GroupStatus&);
  };
  static const Gauge kGauges[] = {
      {"prometheus_rule_evaluations_total", "counter", "The total number of rule evaluations.",
       [](const GroupStatus& g) { return static_cast<double>(g.evaluations); }},
      {"prometheus_rule_evaluation_failures_total", "counter",
       "The total number of rule evaluation failures.",
       [](const GroupStatus& g) { return static_cast<double>(g.failures); }},
      {"prometheus_rule_group_interval_seconds", "gauge", "The interval of a rule group.",
       [](const GroupStatus& g) { return static_cast<double>(g.interval_ms) / 1000; }},
      {"prometheus_rule_group_last_duration_seconds", "gauge",
       "The duration of the last rule group evaluation.",
       [](const GroupStatus& g) { return g.evaluation_seconds; }},
      {"prometheus_rule_group_last_evaluation_timestamp_seconds", "gauge",
       "The timestamp of the last rule group evaluation in seconds.",
       [](const GroupStatus& g) { return static_cast<double>(g.last_evaluation_ms) / 1000; }},
      {"prometheus_rule_group_rules", "gauge", "The number of rules.",
       [](const GroupStatus& g) { return static_cast<double>(g.rules.size()); }},
  };
  for (const Gauge& m : kGauges) {
    w.Family(m.name, m.type, m.help);
    for (const auto& g : groups) {
      w.Sample(m.name, Labels{{"rule_group", g.file + ";" + g.name}}, m.value(g));
    }
  }
}

GroupOptions Manager::OptionsForGroups(Labels external_labels, std::string external_url) const {
  GroupOptions o;
  o.db = db_;
  o.engine = engine_;
  o.clock = clock_;
  o.notifier = options_.notifier;
  o.resend_delay_ms = options_.resend_delay_ms;
  o.outage_tolerance_ms = options_.outage_tolerance_ms;
  o.for_grace_period_ms = options_.for_grace_period_ms;
  o.external_labels = std::move(external_labels);
  o.external_url = std::move(external_url);
  return o;
}

Status Manager::Update(std::vector<GroupSpec> specs, Labels external_labels,
                       std::string external_url) {
  GroupOptions options = OptionsForGroups(std::move(external_labels), std::move(external_url));
  {
    std::lock_guard lock(mu_);
    options.restore_for_state = !loaded_once_;
  }
  std::vector<std::unique_ptr<Group>> fresh;
  for (auto& spec : specs) {
    auto group = Group::Make(std::move(spec), options);
    if (!group.ok()) return group.status();
    fresh.push_back(std::move(*group));
  }
  std::lock_guard lock(mu_);
  const int64_t now = clock_->NowMillis();
  std::vector<Scheduled> scheduled;
  for (auto& group : fresh) {
    for (auto& old : groups_) {
      const GroupSpec& o = old.group->spec();
      if (o.file == group->spec().file && o.name == group->spec().name) {
        group->TakeStateFrom(*old.group);
      }
    }
    const int64_t next = NextEvalTime(group->spec(), now);
    scheduled.push_back({std::move(group), next});
  }
  groups_ = std::move(scheduled);
  loaded_once_ = true;
  changed_ = true;
  cv_.notify_all();
  return Status::OK();
}

void Manager::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void Manager::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Manager::Scheduled* Manager::NextDue() {
  Scheduled* due = nullptr;
  for (auto& s : groups_) {
    if (due == nullptr || s.next_eval_ms < due->next_eval_ms) due = &s;
  }
  return due;
}

void Manager::Run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    changed_ = false;
    Scheduled* due = NextDue();
    if (due == nullptr) {
      cv_.wait(lock, [this] { return stop_ || changed_; });
      continue;
    }
    const int64_t wait_ms = due->next_eval_ms - clock_->NowMillis();
    if (wait_ms > 0) {
      cv_.wait_for(lock, std::chrono::milliseconds(std::min<int64_t>(wait_ms, 1000)),
                   [this] { return stop_ || changed_; });
      continue;  // re-check: time passed, or the groups changed
    }
    const int64_t t = due->next_eval_ms;
    // Missed iterations are skipped, as Prometheus does when an evaluation overruns.
    const int64_t interval = std::max<int64_t>(due->group->spec().interval_ms, 1);
    due->next_eval_ms =
        t + interval * (1 + std::max<int64_t>(0, (clock_->NowMillis() - t) / interval));
    const std::shared_ptr<Group> group = due->group;
    lock.unlock();
    group->Eval(t);
    lock.lock();
  }
}

void Manager::EvalGroup(size_t index, int64_t t_ms) {
  std::shared_ptr<Group> group;
  {
    std::lock_guard lock(mu_);
    if (index >= groups_.size()) return;
    group = groups_[index].group;
  }
  group->Eval(t_ms);
}

std::vector<GroupStatus> Manager::Groups() const {
  std::lock_guard lock(mu_);
  std::vector<GroupStatus> out;
  for (const auto& s : groups_) out.push_back(s.group->Status());
  return out;
}

}  // namespace vigil::rules
