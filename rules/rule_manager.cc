#include "rules/rule_manager.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <set>

#include "rules/alert_template.h"
#include "base/logger.h"

namespace vigil::rules {
namespace {

constexpr std::string_view kAlertNameLabel = "alertname";

// Prometheus keeps resolved alerts this long so Alertmanager learns they ended.
constexpr int64_t kResolvedRetentionMs = 15 * 60 * 1000;

bool SameRule(const RuleSpec& a, const RuleSpec& b) {
  auto same_labels = [](const std::vector<Label>& x, const std::vector<Label>& y) {
    return x.size() == y.size() &&
           std::equal(x.begin(), x.end(), y.begin(), [](const Label& l, const Label& r) {
             return l.name == r.name && l.value == r.value;
           });
  };
  return a.kind == b.kind && a.name == b.name && a.expr == b.expr && a.for_ms == b.for_ms &&
         same_labels(a.labels, b.labels) && same_labels(a.annotations, b.annotations);
}

Labels WithName(const Labels& labels, std::string_view name, std::string_view extra_name = {},
                std::string_view extra_value = {}) {
  LabelsBuilder b(labels);
  b.Set(kMetricNameLabel, name);
  if (!extra_name.empty()) b.Set(extra_name, extra_value);
  return b.Build();
}

}  // namespace

const char* AlertStateName(AlertState s) {
  switch (s) {
    case AlertState::kInactive:
      return "inactive";
    case AlertState::kPending:
      return "pending";
    case AlertState::kFiring:
      return "firing";
  }
  return "inactive";
}

// One group's rules and their state; `mu` is held while the group evaluates.
struct RuleManager::Group {
  GroupSpec spec;
  std::mutex mu;
  std::vector<RuleStatus> rules;
  std::vector<std::map<uint64_t, Alert>> active;  // per rule: alerts by label hash
  std::vector<std::set<Labels>> written;          // per rule: series of the last evaluation
  int64_t last_evaluation_ms = 0;
  double evaluation_seconds = 0;
  int64_t next_eval_ms = 0;
  uint64_t evaluations = 0;
  uint64_t failures = 0;
  int evals_until_restore = 0;  // >0: `for` state is restored after that many evaluations
};

RuleManager::RuleManager(storage::Storage* db, promql::Engine* engine, const Clock* clock,
                         RuleManagerOptions options)
    : db_(db),
      engine_(engine),
      clock_(clock),
      options_(options),
      collector_([this](MetricsWriter& w) { Collect(w); }) {}

void RuleManager::Collect(MetricsWriter& w) const {
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

RuleManager::~RuleManager() { Stop(); }

int64_t RuleManager::NextEvalTime(const GroupSpec& group, int64_t now_ms) {
  const int64_t interval = std::max<int64_t>(group.interval_ms, 1);
  const auto offset = static_cast<int64_t>(
      Labels{{"file", group.file}, {"name", group.name}}.Hash() % static_cast<uint64_t>(interval));
  const int64_t adjusted = now_ms - offset;
  const int64_t base = adjusted - ((adjusted % interval) + interval) % interval;
  const int64_t t = base + offset;
  return t >= now_ms ? t : t + interval;
}

Status RuleManager::Update(std::vector<GroupSpec> specs, Labels external_labels,
                           std::string external_url) {
  for (const auto& g : specs) {
    for (const auto& r : g.rules) {
      auto formatted = promql::FormatQuery(r.expr);
      if (!formatted.ok()) {
        return Status::InvalidArgument(g.file + ": group \"" + g.name + "\", rule \"" + r.name +
                                       "\": " + formatted.status().message());
      }
    }
  }
  std::vector<std::shared_ptr<Group>> fresh;
  std::lock_guard lock(mu_);
  const int64_t now = clock_->NowMillis();
  for (auto& spec : specs) {
    auto g = std::make_shared<Group>();
    g->next_eval_ms = NextEvalTime(spec, now);
    for (const auto& r : spec.rules) {
      RuleStatus status;
      status.spec = r;
      status.query = promql::FormatQuery(r.expr).value();
      g->rules.push_back(std::move(status));
    }
    g->active.resize(g->rules.size());
    g->written.resize(g->rules.size());
    // Keep the state of unchanged rules of a group with the same file and name.
    for (auto& old : groups_) {
      if (old->spec.file != spec.file || old->spec.name != spec.name) continue;
      std::lock_guard old_lock(old->mu);
      for (size_t i = 0; i < g->rules.size() && i < old->rules.size(); ++i) {
        if (!SameRule(old->rules[i].spec, g->rules[i].spec)) continue;
        g->rules[i] = old->rules[i];
        g->active[i] = std::move(old->active[i]);
        g->written[i] = std::move(old->written[i]);
      }
      g->last_evaluation_ms = old->last_evaluation_ms;
      g->evaluation_seconds = old->evaluation_seconds;
    }
    if (!loaded_once_) g->evals_until_restore = 2;
    g->spec = std::move(spec);
    fresh.push_back(std::move(g));
  }
  groups_ = std::move(fresh);
  loaded_once_ = true;
  external_labels_ = std::move(external_labels);
  external_url_ = std::move(external_url);
  changed_ = true;
  cv_.notify_all();
  return Status::OK();
}

void RuleManager::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void RuleManager::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RuleManager::Run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    changed_ = false;
    Group* due = nullptr;
    for (auto& g : groups_) {
      if (due == nullptr || g->next_eval_ms < due->next_eval_ms) due = g.get();
    }
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
    const auto index =
        static_cast<size_t>(std::find_if(groups_.begin(), groups_.end(),
                                         [&](const auto& g) { return g.get() == due; }) -
                            groups_.begin());
    // Missed iterations are skipped, as Prometheus does when an evaluation overruns.
    const int64_t interval = std::max<int64_t>(due->spec.interval_ms, 1);
    due->next_eval_ms =
        t + interval * (1 + std::max<int64_t>(0, (clock_->NowMillis() - t) / interval));
    lock.unlock();
    EvalGroup(index, t);
    lock.lock();
  }
}

Result<promql::Vector> RuleManager::Query(const std::string& expr, int64_t t_ms) {
  auto result = engine_->InstantQuery(*db_, expr, t_ms);
  if (!result.ok()) return result.status();
  switch (result->value.type) {
    case promql::ValueType::kVector:
      return std::move(result->value.vector);
    case promql::ValueType::kScalar:
      return promql::Vector{promql::Sample{Labels{}, result->value.scalar}};
    default:
      return Status::InvalidArgument("rule result is not a vector or scalar");
  }
}

void RuleManager::EvalRecording(RuleStatus& rule, int64_t t_ms, int64_t limit,
                                std::vector<promql::Sample>& out) {
  auto vec = Query(rule.spec.expr, t_ms);
  if (!vec.ok()) {
    rule.health = "err";
    rule.last_error = vec.status().message();
    return;
  }
  std::set<Labels> seen;
  std::vector<promql::Sample> samples;
  for (auto& s : *vec) {
    LabelsBuilder b(s.metric);
    b.Set(kMetricNameLabel, rule.spec.name);
    for (const auto& l : rule.spec.labels) b.Set(l.name, l.value);
    Labels labels = b.Build();
    if (!seen.insert(labels).second) {
      rule.health = "err";
      rule.last_error = "vector contains metrics with the same labelset after applying rule labels";
      return;
    }
    samples.push_back({std::move(labels), {t_ms, s.point.v}});
  }
  if (limit > 0 && static_cast<int64_t>(samples.size()) > limit) {
    rule.health = "err";
    rule.last_error = "exceeded limit of " + std::to_string(limit) + " with " +
                      std::to_string(samples.size()) + " series";
    return;
  }
  rule.health = "ok";
  rule.last_error.clear();
  out = std::move(samples);
}

void RuleManager::EvalAlerting(RuleStatus& rule, std::map<uint64_t, Alert>& active, int64_t t_ms,
                               int64_t limit, bool restored, std::vector<promql::Sample>& out) {
  auto vec = Query(rule.spec.expr, t_ms);
  if (!vec.ok()) {
    rule.health = "err";
    rule.last_error = vec.status().message();
    return;
  }
  std::map<uint64_t, Alert> current;
  for (const auto& s : *vec) {
    AlertTemplateData data{&s.metric, &external_labels_, external_url_, s.point.v, rule.spec.name};
    LabelsBuilder b(s.metric);
    b.Del(kMetricNameLabel);
    for (const auto& l : rule.spec.labels) b.Set(l.name, ExpandAlertTemplate(l.value, data));
    b.Set(kAlertNameLabel, rule.spec.name);
    Alert alert;
    alert.labels = b.Build();
    for (const auto& a : rule.spec.annotations) {
      alert.annotations.push_back({a.name, ExpandAlertTemplate(a.value, data)});
    }
    alert.active_at_ms = t_ms;
    alert.value = s.point.v;
    const uint64_t h = alert.labels.Hash();
    if (current.count(h)) {
      rule.health = "err";
      rule.last_error =
          "vector contains metrics with the same labelset after applying alert labels";
      return;
    }
    current.emplace(h, std::move(alert));
  }
  if (limit > 0 && static_cast<int64_t>(current.size()) > limit) {
    active.clear();
    rule.health = "err";
    rule.last_error = "exceeded limit of " + std::to_string(limit) + " with " +
                      std::to_string(current.size()) + " alerts";
    return;
  }
  for (auto& [h, a] : current) {
    auto it = active.find(h);
    if (it != active.end() && it->second.state != AlertState::kInactive) {
      it->second.value = a.value;
      it->second.annotations = std::move(a.annotations);
    } else {
      active[h] = std::move(a);
    }
  }
  for (auto it = active.begin(); it != active.end();) {
    Alert& a = it->second;
    if (!current.count(it->first)) {
      const bool drop = a.state == AlertState::kPending ||
                        (a.resolved_at_ms != 0 && t_ms - a.resolved_at_ms > kResolvedRetentionMs);
      if (a.state != AlertState::kInactive) {
        a.state = AlertState::kInactive;
        a.resolved_at_ms = t_ms;
      }
      it = drop ? active.erase(it) : std::next(it);
      continue;
    }
    if (a.state == AlertState::kPending && t_ms - a.active_at_ms >= rule.spec.for_ms) {
      a.state = AlertState::kFiring;
      a.fired_at_ms = t_ms;
    }
    if (restored) {
      out.push_back(
          {WithName(a.labels, "ALERTS", "alertstate", AlertStateName(a.state)), {t_ms, 1}});
      out.push_back({WithName(a.labels, "ALERTS_FOR_STATE"),
                     {t_ms, static_cast<double>(a.active_at_ms / 1000)}});
    }
    ++it;
  }
  rule.health = "ok";
  rule.last_error.clear();
  PublishAlerts(rule, active);
}

void RuleManager::PublishAlerts(RuleStatus& rule, const std::map<uint64_t, Alert>& active) {
  rule.alerts.clear();
  rule.state = AlertState::kInactive;
  for (const auto& [h, a] : active) {
    if (a.state == AlertState::kInactive) continue;
    rule.alerts.push_back(a);
    if (a.state == AlertState::kFiring || rule.state == AlertState::kInactive) rule.state = a.state;
  }
}

// Go's url.QueryEscape.
std::string QueryEscape(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
        c == '~') {
      out += c;
    } else if (c == ' ') {
      out += '+';
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += '%';
      out += kHex[static_cast<unsigned char>(c) >> 4];
      out += kHex[static_cast<unsigned char>(c) & 15];
    }
  }
  return out;
}

void RuleManager::Notify(const RuleStatus& rule, std::map<uint64_t, Alert>& active, int64_t t_ms,
                         int64_t interval_ms) {
  if (options_.notifier == nullptr) return;
  std::string base = external_url_;
  while (!base.empty() && base.back() == '/') base.pop_back();
  const std::string generator =
      base + "/graph?g0.expr=" + QueryEscape(rule.spec.expr) + "&g0.tab=1";
  std::vector<NotifiedAlert> due;
  for (auto& [h, a] : active) {
    if (a.state == AlertState::kPending) continue;
    const bool resolved_since_sent = a.resolved_at_ms > a.last_sent_ms;
    if (!resolved_since_sent && a.last_sent_ms + options_.resend_delay_ms >= t_ms) continue;
    a.last_sent_ms = t_ms;
    a.valid_until_ms = t_ms + 4 * std::max(options_.resend_delay_ms, interval_ms);
    due.push_back({a.labels, a.annotations, a.fired_at_ms,
                   a.resolved_at_ms != 0 ? a.resolved_at_ms : a.valid_until_ms, generator});
  }
  if (!due.empty()) options_.notifier->Send(std::move(due));
}

void RuleManager::Write(const std::vector<promql::Sample>& samples, std::set<Labels>& previous,
                        int64_t t_ms) {
  auto app = db_->NewAppender();
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
  if (Status st = app->Commit(); !st.ok()) {
    VLOG_WARN("Rule evaluation result discarded", {{"err", st.message()}});
  }
  previous = std::move(now);
}

void RuleManager::EvalGroup(size_t index, int64_t t_ms) {
  std::shared_ptr<Group> held;
  {
    std::lock_guard manager_lock(mu_);
    if (index >= groups_.size()) return;
    held = groups_[index];
  }
  Group& g = *held;
  std::lock_guard group_lock(g.mu);
  const auto group_start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < g.rules.size(); ++i) {
    RuleStatus& rule = g.rules[i];
    const auto start = std::chrono::steady_clock::now();
    std::vector<promql::Sample> out;
    const std::string before = rule.health;
    rule.health = "unknown";
    if (rule.spec.kind == RuleKind::kRecording) {
      EvalRecording(rule, t_ms, g.spec.limit, out);
    } else {
      EvalAlerting(rule, g.active[i], t_ms, g.spec.limit, g.evals_until_restore == 0, out);
      if (rule.health == "ok") Notify(rule, g.active[i], t_ms, g.spec.interval_ms);
    }
    ++g.evaluations;
    if (rule.health == "ok") {
      Write(out, g.written[i], t_ms);
    } else {
      ++g.failures;
      VLOG_WARN("Evaluating rule failed",
                {{"group", g.spec.name}, {"rule", rule.spec.name}, {"err", rule.last_error}});
    }
    rule.last_evaluation_ms = t_ms;
    rule.evaluation_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  g.last_evaluation_ms = t_ms;
  g.evaluation_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - group_start).count();
  // As Prometheus: the state comes back after the second evaluation, once
  // recording rules the alerts depend on have fresh values.
  if (g.evals_until_restore > 0 && --g.evals_until_restore == 0) {
    RestoreForState(g, std::max(t_ms, clock_->NowMillis()));
  }
}

void RuleManager::RestoreForState(Group& g, int64_t now_ms) {
  auto querier = db_->NewQuerier();
  if (!querier.ok()) return;
  for (size_t i = 0; i < g.rules.size(); ++i) {
    const RuleSpec& spec = g.rules[i].spec;
    if (spec.kind != RuleKind::kAlerting || spec.for_ms < options_.for_grace_period_ms) continue;
    for (auto& [h, a] : g.active[i]) {
      const Labels wanted = WithName(a.labels, "ALERTS_FOR_STATE");
      LabelMatchers matchers;
      for (const auto& l : wanted) {
        matchers.push_back(LabelMatcher::Make(MatchType::kEqual, l.name, l.value).value());
      }
      auto series = (*querier)->Select(now_ms - options_.outage_tolerance_ms, now_ms, matchers);
      if (!series.ok()) continue;
      for (const auto& s : *series) {
        if (s->labels().size() != wanted.size()) continue;
        auto it = s->Iterator();
        bool any = false;
        vigil::Sample last{};
        while (it->Next()) {
          last = it->At();
          any = true;
        }
        if (!any || vigil::IsStaleNaN(last.v)) break;
        // The value is activeAt in seconds; one that is not a time (NaN, 1e300:
        // e.g. written by remote write) restores nothing instead of being cast
        // out of int64's range.
        constexpr double kMaxActiveAtSeconds = 9e12;  // x1000 stays far inside int64
        if (!(std::fabs(last.v) <= kMaxActiveAtSeconds)) break;
        const int64_t down_at = last.t / 1000 * 1000;
        int64_t restored = static_cast<int64_t>(last.v) * 1000;
        const int64_t remaining = spec.for_ms - (down_at - restored);
        if (remaining <= 0) {
          // It was firing when the server stopped; the next evaluation fires it again.
        } else if (remaining < options_.for_grace_period_ms) {
          restored = now_ms + options_.for_grace_period_ms - spec.for_ms;
        } else {
          restored += now_ms - down_at;  // the pending time does not count the downtime
        }
        a.active_at_ms = restored;
        break;
      }
    }
    PublishAlerts(g.rules[i], g.active[i]);
  }
}

std::vector<GroupStatus> RuleManager::Groups() const {
  std::lock_guard lock(mu_);
  std::vector<GroupStatus> out;
  for (const auto& g : groups_) {
    std::lock_guard group_lock(g->mu);
    out.push_back({g->spec.file, g->spec.name, g->spec.interval_ms, g->spec.limit,
                   g->last_evaluation_ms, g->evaluation_seconds, g->rules, g->evaluations,
                   g->failures});
  }
  return out;
}

}  // namespace vigil::rules
