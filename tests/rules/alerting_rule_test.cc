// AlertingRule on its own: the alert state machine step by step, driven by
// the expression results a test hands it, the samples it writes, what goes to
// Alertmanager when, and the `for` state restore arithmetic.
#include "rules/alerting_rule.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "rules/recording_rule.h"

namespace vigil::rules {
namespace {

constexpr int64_t kT0 = 1'000'000;
constexpr int64_t kStep = 15'000;

// An alerting rule whose expression returns what the test sets in `result`.
class AlertingRuleTest : public ::testing::Test {
 protected:
  AlertingRuleTest() {
    ctx_.query = [this](const std::string&, int64_t) -> Result<promql::Vector> {
      if (!query_error_.empty()) return Status::InvalidArgument(query_error_);
      return result_;
    };
  }

  static AlertingRule Make(int64_t for_ms, int64_t keep_firing_for_ms = 0) {
    return AlertingRule(RuleSpec{RuleKind::kAlerting,
                                 "Down",
                                 "up == 0",
                                 for_ms,
                                 {{"severity", "page"}},
                                 {{"summary", "{{ $labels.instance }}"}},
                                 keep_firing_for_ms},
                        "up == 0");
  }

  // The expression returns one series per instance.
  void Firing(std::initializer_list<const char*> instances) {
    result_.clear();
    for (const char* i : instances) {
      result_.push_back({Labels{{"__name__", "up"}, {"instance", i}}, {0, 0}});
    }
  }

  static std::vector<std::string> Names(const std::vector<promql::Sample>& samples) {
    std::vector<std::string> out;
    for (const auto& s : samples) out.push_back(s.metric.ToString());
    return out;
  }

  EvalContext ctx_;
  promql::Vector result_;
  std::string query_error_;
};

TEST_F(AlertingRuleTest, NewAlertIsPendingThenFiresOnceForHasElapsed) {
  AlertingRule rule = Make(2 * kStep);
  Firing({"a"});
  auto out = rule.Eval(ctx_, kT0);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(Names(*out),
            (std::vector<std::string>{
                "ALERTS{alertname=\"Down\", alertstate=\"pending\", instance=\"a\", "
                "severity=\"page\"}",
                "ALERTS_FOR_STATE{alertname=\"Down\", instance=\"a\", severity=\"page\"}"}));
  EXPECT_EQ((*out)[1].point.v, kT0 / 1000) << "ALERTS_FOR_STATE holds activeAt in seconds";
  ASSERT_TRUE(rule.Eval(ctx_, kT0 + kStep).ok());
  EXPECT_EQ(rule.Snapshot().state, AlertState::kPending);
  ASSERT_TRUE(rule.Eval(ctx_, kT0 + 2 * kStep).ok());
  const RuleStatus s = rule.Snapshot();
  EXPECT_EQ(s.state, AlertState::kFiring);
  ASSERT_EQ(s.alerts.size(), 1u);
  EXPECT_EQ(s.alerts[0].active_at_ms, kT0);
  EXPECT_EQ(s.alerts[0].fired_at_ms, kT0 + 2 * kStep);
  EXPECT_EQ(s.alerts[0].annotations[0].value, "a");
}

TEST_F(AlertingRuleTest, ResolvedAlertIsKeptInactiveForFifteenMinutesThenDropped) {
  AlertingRule rule = Make(0);
  Firing({"a"});
  ASSERT_TRUE(rule.Eval(ctx_, kT0).ok());
  Firing({});
  auto out = rule.Eval(ctx_, kT0 + kStep);
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->empty()) << "an inactive alert writes no ALERTS";
  EXPECT_TRUE(rule.Snapshot().alerts.empty());
  ASSERT_EQ(rule.alerts().size(), 1u);
  EXPECT_EQ(rule.alerts().begin()->second.state, AlertState::kInactive);
  EXPECT_EQ(rule.alerts().begin()->second.resolved_at_ms, kT0 + kStep);
  ASSERT_TRUE(rule.Eval(ctx_, kT0 + kStep + 15 * 60'000).ok());
  EXPECT_EQ(rule.alerts().size(), 1u) << "kept for exactly 15 minutes";
  ASSERT_TRUE(rule.Eval(ctx_, kT0 + kStep + 15 * 60'000 + 1).ok());
  EXPECT_TRUE(rule.alerts().empty());
}

TEST_F(AlertingRuleTest, FiringAlertIsSentThenResentAfterTheDelayAndOnceWhenResolved) {
  AlertingRule rule = Make(kStep);
  const int64_t resend = 60'000;
  Firing({"a"});
  ASSERT_TRUE(rule.Eval(ctx_, kT0).ok());
  EXPECT_TRUE(rule.AlertsToSend(kT0, resend, kStep, "url").empty()) << "pending is not sent";
  ASSERT_TRUE(rule.Eval(ctx_, kT0 + kStep).ok());
  auto sent = rule.AlertsToSend(kT0 + kStep, resend, kStep, "url");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].starts_at_ms, kT0 + kStep);
  EXPECT_EQ(sent[0].ends_at_ms, kT0 + kStep + 4 * resend);
  EXPECT_EQ(sent[0].generator_url, "url");
  EXPECT_TRUE(rule.AlertsToSend(kT0 + kStep + resend, resend, kStep, "url").empty());
  EXPECT_EQ(rule.AlertsToSend(kT0 + kStep + resend + 1, resend, kStep, "url").size(), 1u);
  Firing({});
  ASSERT_TRUE(rule.Eval(ctx_, kT0 + 10 * kStep).ok());
  sent = rule.AlertsToSend(kT0 + 10 * kStep, resend, kStep, "url");
  ASSERT_EQ(sent.size(), 1u) << "resolved: sent at once";
  EXPECT_EQ(sent[0].ends_at_ms, kT0 + 10 * kStep);
  EXPECT_TRUE(rule.AlertsToSend(kT0 + 11 * kStep, resend, kStep, "url").empty());
}

TEST_F(AlertingRuleTest, NoAlertsSeriesUntilRestored) {
  AlertingRule rule = Make(0);
  rule.SetRestored(false);
  Firing({"a"});
  auto out = rule.Eval(ctx_, kT0);
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->empty());
  EXPECT_EQ(rule.Snapshot().alerts.size(), 1u) << "the API shows the alert all the same";
  rule.SetRestored(true);
  out = rule.Eval(ctx_, kT0 + kStep);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->size(), 2u);
}

TEST_F(AlertingRuleTest, FailedQueryKeepsTheAlertsButExceedingTheLimitDropsThem) {
  AlertingRule rule = Make(0);
  Firing({"a", "b"});
  ASSERT_TRUE(rule.Eval(ctx_, kT0).ok());
  query_error_ = "boom";
  EXPECT_EQ(rule.Eval(ctx_, kT0 + kStep).status().message(), "boom");
  EXPECT_EQ(rule.Snapshot().alerts.size(), 2u);
  query_error_.clear();
  ctx_.limit = 1;
  EXPECT_EQ(rule.Eval(ctx_, kT0 + 2 * kStep).status().message(),
            "exceeded limit of 1 with 2 alerts");
  EXPECT_TRUE(rule.Snapshot().alerts.empty());
}

TEST_F(AlertingRuleTest, TwoSeriesWithTheSameAlertLabelsFailTheEvaluation) {
  AlertingRule rule = Make(0);
  result_ = {{Labels{{"__name__", "up"}, {"instance", "a"}}, {0, 0}},
             {Labels{{"__name__", "down"}, {"instance", "a"}}, {0, 0}}};  // same once __name__ goes
  EXPECT_EQ(rule.Eval(ctx_, kT0).status().message(),
            "vector contains metrics with the same labelset after applying alert labels");
}

TEST_F(AlertingRuleTest, ReloadedRuleTakesOverTheAlertsAndHealthOfTheOldOne) {
  AlertingRule old = Make(0);
  Firing({"a"});
  auto out = old.Eval(ctx_, kT0);
  old.SetEvaluation(out.status(), kT0, 0.5);
  AlertingRule fresh = Make(0);
  fresh.TakeStateFrom(old);
  const RuleStatus s = fresh.Snapshot();
  EXPECT_EQ(s.health, RuleHealth::kOk);
  EXPECT_EQ(s.last_evaluation_ms, kT0);
  ASSERT_EQ(s.alerts.size(), 1u);
  EXPECT_EQ(s.alerts[0].state, AlertState::kFiring);
}

// Prometheus 2.48 rules/alerting_test.go TestKeepFiringFor: `for: 1m`,
// `keep_firing_for: 1m`, evaluated every minute; the expression returns the
// alert at 0m..3m and not from 4m on. ALERTS says pending, then firing from
// 1m through 4m (kept firing), and nothing at 5m.
TEST_F(AlertingRuleTest, KeepFiringForKeepsAFiringAlertFiringAfterItsExpressionStops) {
  constexpr int64_t kMinute = 60'000;
  AlertingRule rule = Make(kMinute, kMinute);
  const auto alerts_state = [](const std::vector<promql::Sample>& out) {
    std::vector<std::string> states;
    for (const auto& s : out) {
      if (s.metric.Get("__name__") == "ALERTS") states.emplace_back(s.metric.Get("alertstate"));
    }
    return states;
  };
  using States = std::vector<std::string>;
  const States want[] = {{"pending"}, {"firing"}, {"firing"}, {"firing"}, {"firing"}, {}};
  for (int i = 0; i < 6; ++i) {
    if (i < 4)
      Firing({"a"});
    else
      Firing({});
    auto out = rule.Eval(ctx_, kT0 + i * kMinute);
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(alerts_state(*out), want[i]) << "minute " << i;
    if (i == 4) {
      ASSERT_EQ(out->size(), 2u);
      EXPECT_EQ((*out)[1].metric.Get("__name__"), "ALERTS_FOR_STATE");
      EXPECT_EQ((*out)[1].point.v, kT0 / 1000) << "still the original activeAt";
      const RuleStatus s = rule.Snapshot();
      ASSERT_EQ(s.alerts.size(), 1u);
      EXPECT_EQ(s.state, AlertState::kFiring);
      EXPECT_EQ(s.alerts[0].keep_firing_since_ms, kT0 + 4 * kMinute);
    }
  }
  ASSERT_EQ(rule.alerts().size(), 1u);
  EXPECT_EQ(rule.alerts().begin()->second.state, AlertState::kInactive);
  EXPECT_EQ(rule.alerts().begin()->second.resolved_at_ms, kT0 + 5 * kMinute);
}

// Prometheus 2.48 rules/alerting_test.go TestPendingAndKeepFiringFor: only a
// firing alert is kept; a pending one goes as soon as its expression stops.
TEST_F(AlertingRuleTest, PendingAlertIsNotKeptFiring) {
  AlertingRule rule = Make(kStep, 10 * kStep);
  Firing({"a"});
  ASSERT_EQ(rule.Eval(ctx_, kT0)->size(), 2u);
  Firing({});
  auto out = rule.Eval(ctx_, kT0 + kStep);
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->empty());
  EXPECT_TRUE(rule.alerts().empty());
}

TEST_F(AlertingRuleTest, AlertReturningWhileKeptFiringStartsItsKeepFiringForAfresh) {
  AlertingRule rule = Make(0, 2 * kStep);
  Firing({"a"});
  ASSERT_TRUE(rule.Eval(ctx_, kT0).ok());
  Firing({});
  ASSERT_TRUE(rule.Eval(ctx_, kT0 + kStep).ok());
  EXPECT_EQ(rule.Snapshot().alerts.at(0).keep_firing_since_ms, kT0 + kStep);
  Firing({"a"});
  ASSERT_TRUE(rule.Eval(ctx_, kT0 + 2 * kStep).ok());
  EXPECT_EQ(rule.Snapshot().alerts.at(0).keep_firing_since_ms, 0) << "back in the result";
  Firing({});
  for (int i = 3; i <= 4; ++i) {
    ASSERT_TRUE(rule.Eval(ctx_, kT0 + i * kStep).ok());
    EXPECT_EQ(rule.Snapshot().state, AlertState::kFiring) << "step " << i;
  }
  ASSERT_TRUE(rule.Eval(ctx_, kT0 + 5 * kStep).ok());
  EXPECT_EQ(rule.Snapshot().state, AlertState::kInactive);
  EXPECT_EQ(rule.alerts().begin()->second.resolved_at_ms, kT0 + 5 * kStep);
}

TEST_F(AlertingRuleTest, KeptFiringAlertIsSentAsFiringAndResolvedOnlyWhenKeepFiringForEnds) {
  const int64_t resend = 60'000;
  AlertingRule rule = Make(0, 4 * kStep);
  Firing({"a"});
  ASSERT_TRUE(rule.Eval(ctx_, kT0).ok());
  ASSERT_EQ(rule.AlertsToSend(kT0, resend, kStep, "url").size(), 1u);
  Firing({});
  for (int i = 1; i <= 4; ++i) {
    ASSERT_TRUE(rule.Eval(ctx_, kT0 + i * kStep).ok());
    for (const auto& sent : rule.AlertsToSend(kT0 + i * kStep, resend, kStep, "url")) {
      EXPECT_EQ(sent.ends_at_ms, kT0 + i * kStep + 4 * resend) << "step " << i << ": firing";
    }
  }
  ASSERT_TRUE(rule.Eval(ctx_, kT0 + 5 * kStep).ok());
  const auto sent = rule.AlertsToSend(kT0 + 5 * kStep, resend, kStep, "url");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].starts_at_ms, kT0);
  EXPECT_EQ(sent[0].ends_at_ms, kT0 + 5 * kStep) << "resolved when keep_firing_for ended";
}

// Prometheus 2.48 counts the alerts kept firing against the group's limit.
TEST_F(AlertingRuleTest, AlertsKeptFiringCountTowardsTheLimit) {
  AlertingRule rule = Make(0, 10 * kStep);
  ctx_.limit = 1;
  Firing({"a"});
  ASSERT_TRUE(rule.Eval(ctx_, kT0).ok());
  Firing({"b"});
  EXPECT_EQ(rule.Eval(ctx_, kT0 + kStep).status().message(), "exceeded limit of 1 with 2 alerts");
  EXPECT_TRUE(rule.alerts().empty());
}

TEST(RuleTest, HealthFollowsTheLastEvaluationAndIsNamedAsPrometheusDoes) {
  RecordingRule rule(RuleSpec{RuleKind::kRecording, "r", "up", 0, {}, {}}, "up");
  EXPECT_EQ(rule.health(), RuleHealth::kUnknown);
  rule.SetEvaluation(Status::InvalidArgument("bad"), kT0, 0);
  EXPECT_EQ(rule.Snapshot().last_error, "bad");
  EXPECT_EQ(rule.health(), RuleHealth::kErr);
  rule.SetEvaluation(Status::OK(), kT0 + kStep, 0);
  EXPECT_EQ(rule.Snapshot().last_error, "");
  EXPECT_STREQ(RuleHealthName(rule.health()), "ok");
  EXPECT_STREQ(RuleHealthName(RuleHealth::kErr), "err");
  EXPECT_STREQ(RuleHealthName(RuleHealth::kUnknown), "unknown");
}

// RestoredActiveAt, with `for` 20m and a grace period of 10m; the server
// went down at `down` (the last ALERTS_FOR_STATE sample) and is back at `now`.
TEST(RestoredActiveAtTest, PendingTimeBeforeTheOutageCountsAndTheOutageDoesNot) {
  const int64_t down = 2'000'000'000, now = down + 5 * 60'000;
  const int64_t for_ms = 20 * 60'000, grace = 10 * 60'000;
  const double active_at_s = (down - 3 * 60'000) / 1000;  // pending 3m at the outage
  EXPECT_EQ(RestoredActiveAt({down, active_at_s}, for_ms, now, grace), now - 3 * 60'000);
  // 15m pending of 20m: 5m left, under the grace period, so it fires 10m from now.
  EXPECT_EQ(RestoredActiveAt({down, (down - 15 * 60'000) / 1000.0}, for_ms, now, grace),
            now + grace - for_ms);
  // Already firing: keeps its activeAt and fires at the next evaluation.
  EXPECT_EQ(RestoredActiveAt({down, (down - 30 * 60'000) / 1000.0}, for_ms, now, grace),
            down - 30 * 60'000);
}

TEST(RestoredActiveAtTest, StaleMarkersAndValuesThatAreNotTimesRestoreNothing) {
  for (const double v : {vigil::StaleNaN(), std::numeric_limits<double>::quiet_NaN(), 1e300,
                         -std::numeric_limits<double>::infinity()}) {
    EXPECT_FALSE(RestoredActiveAt({1'000'000, v}, 60'000, 2'000'000, 10'000).has_value()) << v;
  }
}

TEST(GeneratorUrlTest, GraphLinkUnderTheExternalUrlWithTheQueryEscapedAsGo) {
  EXPECT_EQ(GeneratorUrl("http://vigil.example:9090/", "rate(x[5m]) > 0"),
            "http://vigil.example:9090/graph?g0.expr=rate%28x%5B5m%5D%29+%3E+0&g0.tab=1");
  EXPECT_EQ(GeneratorUrl("", "up"), "/graph?g0.expr=up&g0.tab=1");
}

}  // namespace
}  // namespace vigil::rules
