// The rule manager against the in-memory store with driven time: recording
// rules, the alert state machine, ALERTS series, staleness markers, reloads,
// restarts and the evaluation thread.
#include "rules/manager.h"

#include <gtest/gtest.h>

#include <limits>

#include "promql/engine.h"
#include "tests/support/memory_storage.h"

namespace vigil::rules {
namespace {

constexpr int64_t kStep = 15'000;

class RuleManagerTest : public ::testing::Test {
 protected:
  RuleManagerTest() : engine_(EngineOptionsWithClock()), rules_(&db_, &engine_, &clock_) {
    // The groups of a manager's first load restore `for` state (and write no
    // ALERTS) for two evaluations; load nothing first so tests see steady state.
    EXPECT_TRUE(rules_.Update({}, Labels{}, "").ok());
  }

  promql::EngineOptions EngineOptionsWithClock() {
    promql::EngineOptions o;
    o.clock = &clock_;
    return o;
  }

  // Writes `value` for up{job, instance} at time t.
  void Up(const std::string& instance, int64_t t, double value) {
    auto app = db_.NewAppender();
    ASSERT_TRUE(app->Append(0, Labels{{"__name__", "up"}, {"instance", instance}, {"job", "node"}},
                            t, value)
                    .ok());
    ASSERT_TRUE(app->Commit().ok());
  }

  void Load(std::vector<RuleSpec> rules, int64_t limit = 0) {
    GroupSpec g{"rules.yml", "g", kStep, limit, std::move(rules)};
    ASSERT_TRUE(rules_.Update({g}, Labels{}, "").ok());
  }

  // The instant vector of `expr` at t, as "labels=value" strings.
  std::vector<std::string> Query(const std::string& expr, int64_t t) {
    auto r = engine_.InstantQuery(db_, expr, t);
    std::vector<std::string> out;
    if (!r.ok()) return {"error: " + r.status().message()};
    for (const auto& s : r->value.vector) {
      out.push_back(s.metric.ToString() + "=" + std::to_string(static_cast<int64_t>(s.point.v)));
    }
    return out;
  }

  const RuleStatus& Rule(size_t i) {
    groups_ = rules_.Groups();
    return groups_.at(0).rules.at(i);
  }

  ManualClock clock_{1'000'000};
  storage::MemoryStorage db_;
  promql::Engine engine_;
  Manager rules_;
  std::vector<GroupStatus> groups_;
};

RuleSpec Recording(std::string name, std::string expr, std::vector<Label> labels = {}) {
  return {RuleKind::kRecording, std::move(name), std::move(expr), 0, std::move(labels), {}};
}

RuleSpec Alerting(std::string name, std::string expr, int64_t for_ms,
                  std::vector<Label> labels = {}, std::vector<Label> annotations = {}) {
  return {RuleKind::kAlerting, std::move(name),       std::move(expr), for_ms,
          std::move(labels),   std::move(annotations)};
}

TEST_F(RuleManagerTest, RecordingRuleWritesItsResultUnderTheRecordNameWithRuleLabels) {
  Up("a", 1'000'000, 1);
  Up("b", 1'000'000, 0);
  Load({Recording("job:up:sum", "sum by (job) (up)", {{"team", "infra"}})});
  rules_.EvalGroup(0, 1'000'000);
  EXPECT_EQ(Query("job:up:sum", 1'000'000),
            std::vector<std::string>{"job:up:sum{job=\"node\", team=\"infra\"}=1"});
  EXPECT_EQ(Rule(0).health, RuleHealth::kOk);
  EXPECT_EQ(Rule(0).query, "sum by (job) (up)");
}

TEST_F(RuleManagerTest, SeriesARuleStopsProducingGetAStalenessMarker) {
  Up("a", 1'000'000, 1);
  Load({Recording("up:copy", "up")});
  rules_.EvalGroup(0, 1'000'000);
  EXPECT_EQ(Query("up:copy", 1'000'000 + kStep).size(), 1u);  // within the lookback
  rules_.EvalGroup(0, 1'000'000 + 400'000);                   // `up` is older than the lookback now
  EXPECT_TRUE(Query("up:copy", 1'000'000 + 400'000).empty());
  EXPECT_TRUE(Query("up:copy", 1'000'000 + 400'001).empty()) << "stale marker hides it";
}

TEST_F(RuleManagerTest, AlertIsPendingUntilForElapsesThenFiringWithAlertsSeries) {
  Load({Alerting("Down", "up == 0", 30'000, {{"severity", "page"}},
                 {{"summary", "{{ $labels.instance }} is down"}})});
  int64_t t = 1'000'000;
  Up("a", t, 0);
  rules_.EvalGroup(0, t);
  ASSERT_EQ(Rule(0).alerts.size(), 1u);
  EXPECT_EQ(Rule(0).alerts[0].state, AlertState::kPending);
  EXPECT_EQ(Rule(0).alerts[0].annotations[0].value, "a is down");
  EXPECT_EQ(Rule(0).alerts[0].labels.ToString(),
            "{alertname=\"Down\", instance=\"a\", job=\"node\", severity=\"page\"}");
  EXPECT_EQ(Query("ALERTS", t),
            std::vector<std::string>{"ALERTS{alertname=\"Down\", alertstate=\"pending\", "
                                     "instance=\"a\", job=\"node\", severity=\"page\"}=1"});
  for (int i = 0; i < 2; ++i) {
    t += kStep;
    Up("a", t, 0);
    rules_.EvalGroup(0, t);
  }
  EXPECT_EQ(Rule(0).state, AlertState::kFiring);
  EXPECT_EQ(Query("ALERTS{alertstate=\"firing\"}", t).size(), 1u);
  EXPECT_EQ(Query("ALERTS_FOR_STATE", t),
            std::vector<std::string>{"ALERTS_FOR_STATE{alertname=\"Down\", "
                                     "instance=\"a\", job=\"node\", severity=\"page\"}=1000"});
}

TEST_F(RuleManagerTest, ResolvedAlertLeavesTheApiAndItsAlertsSeriesGoesStale) {
  Load({Alerting("Down", "up == 0", 0)});
  int64_t t = 1'000'000;
  Up("a", t, 0);
  rules_.EvalGroup(0, t);
  EXPECT_EQ(Rule(0).state, AlertState::kFiring);
  t += kStep;
  Up("a", t, 1);
  rules_.EvalGroup(0, t);
  EXPECT_TRUE(Rule(0).alerts.empty());
  EXPECT_EQ(Rule(0).state, AlertState::kInactive);
  EXPECT_TRUE(Query("ALERTS", t).empty());
}

TEST_F(RuleManagerTest, PendingAlertThatClearsIsDroppedAndStartsOverNextTime) {
  Load({Alerting("Down", "up == 0", 60'000)});
  int64_t t = 1'000'000;
  Up("a", t, 0);
  rules_.EvalGroup(0, t);
  t += kStep;
  Up("a", t, 1);
  rules_.EvalGroup(0, t);
  EXPECT_TRUE(Rule(0).alerts.empty());
  t += kStep;
  Up("a", t, 0);
  rules_.EvalGroup(0, t);
  ASSERT_EQ(Rule(0).alerts.size(), 1u);
  EXPECT_EQ(Rule(0).alerts[0].active_at_ms, t);
}

TEST_F(RuleManagerTest, DuplicateOutputLabelSetsMakeTheRuleUnhealthy) {
  Up("a", 1'000'000, 1);
  Up("b", 1'000'000, 1);
  Load({Recording("dup", "up", {{"instance", ""}})});  // empty value removes `instance`
  rules_.EvalGroup(0, 1'000'000);
  EXPECT_EQ(Rule(0).health, RuleHealth::kErr);
  EXPECT_EQ(Rule(0).last_error,
            "vector contains metrics with the same labelset after applying rule labels");
  EXPECT_TRUE(Query("dup", 1'000'000).empty());
}

TEST_F(RuleManagerTest, GroupLimitIsEnforcedPerRule) {
  Up("a", 1'000'000, 1);
  Up("b", 1'000'000, 1);
  Load({Recording("copy", "up")}, /*limit=*/1);
  rules_.EvalGroup(0, 1'000'000);
  EXPECT_EQ(Rule(0).last_error, "exceeded limit of 1 with 2 series");
  EXPECT_EQ(groups_[0].failures, 1u);
  const std::string metrics = MetricsRegistry::Global().Render();
  EXPECT_NE(
      metrics.find("prometheus_rule_evaluation_failures_total{rule_group=\"rules.yml;g\"} 1\n"),
      std::string::npos)
      << metrics;
}

TEST_F(RuleManagerTest, ReloadKeepsTheStateOfUnchangedRules) {
  Load({Alerting("Down", "up == 0", 60'000)});
  Up("a", 1'000'000, 0);
  rules_.EvalGroup(0, 1'000'000);
  Load({Alerting("Down", "up == 0", 60'000)});
  ASSERT_EQ(Rule(0).alerts.size(), 1u);
  EXPECT_EQ(Rule(0).alerts[0].active_at_ms, 1'000'000);
  Load({Alerting("Down", "up == 0", 120'000)});  // changed: starts afresh
  EXPECT_TRUE(Rule(0).alerts.empty());
}

TEST_F(RuleManagerTest, RestartRestoresForStateShiftedByTheDowntime) {
  const int64_t t0 = 1'000'000'000;  // whole seconds: ALERTS_FOR_STATE keeps seconds
  const auto rule = Alerting("Down", "up == 0", 20 * 60'000);
  Load({rule});
  for (int64_t t = t0; t <= t0 + 5 * 60'000; t += kStep) {
    Up("a", t, 0);
    rules_.EvalGroup(0, t);
  }
  // A new manager on the same store, as after a restart 2 minutes later.
  const int64_t t1 = t0 + 7 * 60'000;
  clock_.Set(t1 + kStep);
  Manager restarted(&db_, &engine_, &clock_);
  ASSERT_TRUE(restarted.Update({GroupSpec{"rules.yml", "g", kStep, 0, {rule}}}, Labels{}, "").ok());
  Up("a", t1, 0);
  restarted.EvalGroup(0, t1);
  EXPECT_TRUE(Query("count_over_time(ALERTS[1s])", t1).empty())
      << "no ALERTS before the state is restored";
  Up("a", t1 + kStep, 0);
  restarted.EvalGroup(0, t1 + kStep);
  const auto alerts = restarted.Groups()[0].rules[0].alerts;
  ASSERT_EQ(alerts.size(), 1u);
  // activeAt moves forward by the downtime (last ALERTS_FOR_STATE at t0+5m, now t1+15s).
  EXPECT_EQ(alerts[0].active_at_ms, t0 + (t1 + kStep - (t0 + 5 * 60'000)));
  EXPECT_EQ(alerts[0].state, AlertState::kPending);
  Up("a", t1 + 2 * kStep, 0);
  restarted.EvalGroup(0, t1 + 2 * kStep);
  EXPECT_EQ(Query("ALERTS_FOR_STATE", t1 + 2 * kStep).size(), 1u);
}

TEST_F(RuleManagerTest, RestartIgnoresAForStateValueThatIsNotATime) {
  // ALERTS_FOR_STATE is an ordinary series (remote write can store anything
  // there): 1e300 or NaN seconds must not be cast to int64, the alert starts over.
  const auto rule = Alerting("Down", "up == 0", 20 * 60'000);
  const int64_t t1 = 1'000'000'000;
  for (const double bad : {1e300, -1e300, std::numeric_limits<double>::quiet_NaN()}) {
    storage::MemoryStorage db;
    auto app = db.NewAppender();
    ASSERT_TRUE(app->Append(0,
                            Labels{{"__name__", "ALERTS_FOR_STATE"},
                                   {"alertname", "Down"},
                                   {"instance", "a"},
                                   {"job", "node"}},
                            t1 - 60'000, bad)
                    .ok());
    ASSERT_TRUE(
        app->Append(0, Labels{{"__name__", "up"}, {"instance", "a"}, {"job", "node"}}, t1, 0).ok());
    ASSERT_TRUE(app->Commit().ok());
    clock_.Set(t1);
    Manager restarted(&db, &engine_, &clock_);
    ASSERT_TRUE(
        restarted.Update({GroupSpec{"rules.yml", "g", kStep, 0, {rule}}}, Labels{}, "").ok());
    restarted.EvalGroup(0, t1);
    restarted.EvalGroup(0, t1 + kStep);
    const auto alerts = restarted.Groups()[0].rules[0].alerts;
    ASSERT_EQ(alerts.size(), 1u) << bad;
    EXPECT_EQ(alerts[0].active_at_ms, t1) << bad;
    EXPECT_EQ(alerts[0].state, AlertState::kPending) << bad;
  }
}

TEST_F(RuleManagerTest, UpdateRefusesAnExpressionThatDoesNotParse) {
  Load({Recording("ok", "up")});
  GroupSpec bad{"rules.yml", "g", kStep, 0, {Recording("bad", "sum(")}};
  const Status st = rules_.Update({bad}, Labels{}, "");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("parse error"), std::string::npos) << st.message();
  EXPECT_EQ(Rule(0).spec.name, "ok");  // the old groups keep running
}

TEST_F(RuleManagerTest, EvaluationTimesAreAlignedToTheIntervalAtAFixedOffset) {
  const GroupSpec g{"rules.yml", "g", 60'000, 0, {}};
  const int64_t first = NextEvalTime(g, 1'000'123);
  EXPECT_GE(first, 1'000'123);
  EXPECT_LT(first, 1'000'123 + 60'000);
  EXPECT_EQ(NextEvalTime(g, first + 1), first + 60'000);
  EXPECT_EQ(NextEvalTime(g, first), first);
}

TEST_F(RuleManagerTest, ThreadEvaluatesGroupsOnTheirSchedule) {
  Up("a", clock_.NowMillis(), 1);
  GroupSpec g{"rules.yml", "g", 1'000, 0, {Recording("up:copy", "up")}};
  ASSERT_TRUE(rules_.Update({g}, Labels{}, "").ok());
  rules_.Start();
  clock_.Advance(2'000);
  for (int i = 0; i < 100 && Rule(0).last_evaluation_ms == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  rules_.Stop();
  EXPECT_NE(Rule(0).last_evaluation_ms, 0);
  EXPECT_EQ(Rule(0).health, RuleHealth::kOk);
}

}  // namespace
}  // namespace vigil::rules
