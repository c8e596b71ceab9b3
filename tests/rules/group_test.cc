// Group on its own, against the in-memory store: rules see the results of
// the rules before them in the same evaluation, firing alerts reach the
// notifier, and bad expressions are refused at load.
#include "rules/group.h"

#include <gtest/gtest.h>

#include "promql/engine.h"
#include "tests/support/memory_storage.h"

namespace vigil::rules {
namespace {

constexpr int64_t kT0 = 1'000'000;

class GroupTest : public ::testing::Test {
 protected:
  GroupTest() : engine_(EngineOptionsWithClock()) {
    auto app = db_.NewAppender();
    EXPECT_TRUE(app->Append(0, Labels{{"__name__", "up"}, {"job", "node"}}, kT0, 0).ok());
    EXPECT_TRUE(app->Commit().ok());
  }

  promql::EngineOptions EngineOptionsWithClock() {
    promql::EngineOptions o;
    o.clock = &clock_;
    return o;
  }

  std::unique_ptr<Group> Make(std::vector<RuleSpec> rules, Notifier* notifier = nullptr) {
    GroupOptions o;
    o.db = &db_;
    o.engine = &engine_;
    o.clock = &clock_;
    o.notifier = notifier;
    o.external_url = "http://vigil:9090/";
    auto g = Group::Make(GroupSpec{"rules.yml", "g", 15'000, 0, std::move(rules)}, o);
    EXPECT_TRUE(g.ok()) << g.status().message();
    return g.ok() ? std::move(*g) : nullptr;
  }

  ManualClock clock_{kT0};
  storage::MemoryStorage db_;
  promql::Engine engine_;
};

TEST_F(GroupTest, RuleSeesTheResultOfTheRuleBeforeItInTheSameEvaluation) {
  auto g = Make({{RuleKind::kRecording, "job:up", "up", 0, {}, {}},
                 {RuleKind::kAlerting, "JobDown", "job:up == 0", 0, {}, {}}});
  g->Eval(kT0);
  const GroupStatus s = g->Status();
  ASSERT_EQ(s.rules.size(), 2u);
  EXPECT_EQ(s.rules[0].health, RuleHealth::kOk);
  ASSERT_EQ(s.rules[1].alerts.size(), 1u);
  EXPECT_EQ(s.rules[1].alerts[0].state, AlertState::kFiring);
  EXPECT_EQ(s.evaluations, 2u);
  EXPECT_EQ(s.failures, 0u);
  EXPECT_EQ(s.last_evaluation_ms, kT0);
}

TEST_F(GroupTest, FiringAlertsGoToTheNotifierPendingOnesDoNot) {
  // A queue of capacity 0 drops (and counts) every alert handed to it.
  Notifier notifier(/*queue_capacity=*/0);
  auto g = Make({{RuleKind::kAlerting, "Down", "up == 0", 0, {}, {}},
                 {RuleKind::kAlerting, "DownLong", "up == 0", 600'000, {}, {}}},
                &notifier);
  g->Eval(kT0);
  EXPECT_EQ(notifier.dropped(), 1u);
  g->Eval(kT0 + 15'000);
  EXPECT_EQ(notifier.dropped(), 1u) << "not resent before the resend delay";
}

TEST_F(GroupTest, ExpressionThatDoesNotParseIsRefusedNamingFileGroupAndRule) {
  GroupOptions o;
  auto g = Group::Make(
      GroupSpec{"rules.yml", "g", 15'000, 0, {{RuleKind::kRecording, "bad", "sum(", 0, {}, {}}}},
      o);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().message().rfind("rules.yml: group \"g\", rule \"bad\": ", 0), 0u)
      << g.status().message();
}

}  // namespace
}  // namespace vigil::rules
