// Rule-file audit (issue 22): every field a rule file may have has a verdict,
// and a field Vigil starts to accept without one fails this test. Prometheus
// 2.48's rulefmt (v2.48.0:model/rulefmt/rulefmt.go) has the same fields as
// 2.42: RuleGroup {name, interval, limit, rules} and RuleNode {record, alert,
// expr, for, keep_firing_for, labels, annotations}; all of them work. Fields
// of later Prometheus versions or of Cortex/Mimir/Thanos rule files are
// refused as Prometheus 2.48 refuses them (yaml.v3 strict decoding).
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "rules/rule_file.h"

namespace vigil::rules {
namespace {

// Each accepted field with a rule file that sets it, and a check that the
// value reached the loaded group (so "accepted" is never "ignored").
struct WorkingField {
  std::string yaml;
  std::function<bool(const GroupSpec&)> took_effect;
};

const std::map<std::string, WorkingField>& GroupFieldVerdicts() {
  static const std::map<std::string, WorkingField> verdicts = {
      {"name",
       {"groups: [{name: g, rules: []}]", [](const GroupSpec& g) { return g.name == "g"; }}},
      {"interval",
       {"groups: [{name: g, interval: 30s, rules: []}]",
        [](const GroupSpec& g) { return g.interval_ms == 30'000; }}},
      {"limit",
       {"groups: [{name: g, limit: 7, rules: []}]",
        [](const GroupSpec& g) { return g.limit == 7; }}},
      {"rules",
       {"groups: [{name: g, rules: [{record: r, expr: up}]}]",
        [](const GroupSpec& g) { return g.rules.size() == 1; }}},
  };
  return verdicts;
}

std::string AlertFile(const std::string& extra) {
  return "groups: [{name: g, rules: [{alert: A, expr: up == 0" + extra + "}]}]";
}

const std::map<std::string, WorkingField>& RuleFieldVerdicts() {
  static const std::map<std::string, WorkingField> verdicts = {
      {"record",
       {"groups: [{name: g, rules: [{record: 'job:up:sum', expr: sum(up)}]}]",
        [](const GroupSpec& g) {
          return g.rules[0].kind == RuleKind::kRecording && g.rules[0].name == "job:up:sum";
        }}},
      {"alert",
       {AlertFile(""),
        [](const GroupSpec& g) {
          return g.rules[0].kind == RuleKind::kAlerting && g.rules[0].name == "A";
        }}},
      {"expr", {AlertFile(""), [](const GroupSpec& g) { return g.rules[0].expr == "up == 0"; }}},
      {"for",
       {AlertFile(", for: 2m"), [](const GroupSpec& g) { return g.rules[0].for_ms == 120'000; }}},
      {"keep_firing_for",
       {AlertFile(", keep_firing_for: 5m"),
        [](const GroupSpec& g) { return g.rules[0].keep_firing_for_ms == 300'000; }}},
      {"labels",
       {AlertFile(", labels: {severity: page}"),
        [](const GroupSpec& g) {
          return g.rules[0].labels.size() == 1 && g.rules[0].labels[0].value == "page";
        }}},
      {"annotations",
       {AlertFile(", annotations: {summary: down}"),
        [](const GroupSpec& g) {
          return g.rules[0].annotations.size() == 1 && g.rules[0].annotations[0].value == "down";
        }}},
  };
  return verdicts;
}

void ExpectSameFieldSets(std::span<const std::string_view> accepted,
                         const std::map<std::string, WorkingField>& verdicts) {
  std::set<std::string> accepted_set(accepted.begin(), accepted.end());
  for (const std::string& field : accepted_set) {
    EXPECT_TRUE(verdicts.count(field)) << field << " is accepted without a verdict";
  }
  for (const auto& [field, unused] : verdicts) {
    EXPECT_TRUE(accepted_set.count(field)) << "verdict for a field not accepted: " << field;
  }
}

TEST(RuleFileAudit, EveryAcceptedGroupAndRuleFieldHasAVerdict) {
  ExpectSameFieldSets(RuleGroupFields(), GroupFieldVerdicts());
  ExpectSameFieldSets(RuleNodeFields(), RuleFieldVerdicts());
}

TEST(RuleFileAudit, EveryAcceptedFieldTakesEffect) {
  for (const auto* verdicts : {&GroupFieldVerdicts(), &RuleFieldVerdicts()}) {
    for (const auto& [field, working] : *verdicts) {
      auto groups = ParseRuleFile(working.yaml, "audit.yml", 60'000);
      ASSERT_TRUE(groups.ok()) << field << ": " << groups.status().message();
      ASSERT_EQ(groups->size(), 1u) << field;
      EXPECT_TRUE(working.took_effect(groups->front())) << field << " was accepted but ignored";
    }
  }
}

// Group fields of Prometheus 2.53+ (query_offset) and of Cortex/Mimir/Thanos
// rulers, and rule fields of nothing at all: Prometheus 2.48 refuses them
// ("field X not found in type rulefmt.RuleGroup"), and so does Vigil.
TEST(RuleFileAudit, FieldsPrometheus248DoesNotHaveAreRefusedNamingThem) {
  for (std::string_view field :
       {"query_offset", "source_tenants", "evaluation_delay", "align_evaluation_time_on_interval",
        "partial_response_strategy"}) {
    const std::string yaml = "groups: [{name: g, " + std::string(field) + ": x, rules: []}]";
    auto groups = ParseRuleFile(yaml, "audit.yml", 60'000);
    ASSERT_FALSE(groups.ok()) << field;
    EXPECT_NE(groups.status().message().find("field " + std::string(field) +
                                             " not found in type rulefmt.RuleGroup"),
              std::string::npos)
        << groups.status().message();
  }
  auto groups = ParseRuleFile(AlertFile(", severity: page"), "audit.yml", 60'000);
  ASSERT_FALSE(groups.ok());
  EXPECT_NE(groups.status().message().find("field severity not found in type rulefmt.RuleNode"),
            std::string::npos)
      << groups.status().message();
}

}  // namespace
}  // namespace vigil::rules
