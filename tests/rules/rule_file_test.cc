#include "rules/rule_file.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "tests/support/test_dirs_and_ports.h"

namespace vigil::rules {
namespace {

TEST(RuleFile, LoadsGroupsWithDefaultsFromTheGlobalInterval) {
  test_support::TempDir dir;
  const std::string path = (dir.path() / "r.yml").string();
  std::ofstream(path) << "groups:\n"
                         "  - name: a\n"
                         "    rules:\n"
                         "      - record: job:up:sum\n"
                         "        expr: sum by (job) (up)\n"
                         "  - name: b\n"
                         "    interval: 30s\n"
                         "    limit: 5\n"
                         "    rules:\n"
                         "      - alert: Down\n"
                         "        expr: up == 0\n"
                         "        for: 2m\n"
                         "        labels: {severity: page}\n"
                         "        annotations: {summary: '{{ $labels.instance }}'}\n";
  auto groups = LoadRuleFiles({path}, 15'000);
  ASSERT_TRUE(groups.ok()) << groups.status().message();
  ASSERT_EQ(groups->size(), 2u);
  EXPECT_EQ((*groups)[0].interval_ms, 15'000);
  EXPECT_EQ((*groups)[0].rules[0].kind, RuleKind::kRecording);
  EXPECT_EQ((*groups)[1].interval_ms, 30'000);
  EXPECT_EQ((*groups)[1].limit, 5);
  const RuleSpec& alert = (*groups)[1].rules[0];
  EXPECT_EQ(alert.kind, RuleKind::kAlerting);
  EXPECT_EQ(alert.for_ms, 120'000);
  EXPECT_EQ(alert.labels[0].value, "page");
  EXPECT_EQ(alert.annotations[0].value, "{{ $labels.instance }}");
}

TEST(RuleFile, DuplicateGroupNameIsAnErrorNamingTheFile) {
  test_support::TempDir dir;
  const std::string path = (dir.path() / "dup.yml").string();
  std::ofstream(path) << "groups:\n  - name: a\n    rules: []\n  - name: a\n    rules: []\n";
  auto groups = LoadRuleFiles({path}, 15'000);
  ASSERT_FALSE(groups.ok());
  EXPECT_NE(groups.status().message().find("dup.yml"), std::string::npos);
  EXPECT_NE(groups.status().message().find("groupname must be unique"), std::string::npos);
}

TEST(RuleFile, TemplateThatPrometheusWouldRefuseIsAnErrorWithGroupRuleAndName) {
  auto groups = ParseRuleFile(
      "groups:\n  - name: g\n    rules:\n      - record: r\n        expr: up\n"
      "      - alert: A\n        expr: up\n        annotations:\n          s: '{{ nosuch $value "
      "}}'\n",
      "r.yml", 15'000);
  ASSERT_FALSE(groups.ok());
  EXPECT_EQ(groups.status().message(),
            "r.yml: group \"g\", rule 2, \"A\": annotation \"s\": template: __alert_A:1: "
            "function \"nosuch\" not defined");
  groups = ParseRuleFile(
      "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n"
      "        labels:\n          l: '{{ $nope }}'\n",
      "r.yml", 15'000);
  ASSERT_FALSE(groups.ok());
  EXPECT_EQ(groups.status().message(),
            "r.yml: group \"g\", rule 1, \"A\": label \"l\": template: __alert_A:1: "
            "undefined variable \"$nope\"");
}

TEST(RuleFile, KeepFiringForIsReadForAlertingRules) {
  auto groups = ParseRuleFile(
      "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n"
      "        for: 1m\n        keep_firing_for: 5m\n",
      "r.yml", 15'000);
  ASSERT_TRUE(groups.ok()) << groups.status().message();
  EXPECT_EQ(groups->at(0).rules.at(0).for_ms, 60'000);
  EXPECT_EQ(groups->at(0).rules.at(0).keep_firing_for_ms, 300'000);
}

// The messages are Prometheus 2.42's (promtool check rules printed them for
// the same files) and 2.48's model/rulefmt/rulefmt.go.
TEST(RuleFile, AlertingOnlyFieldsAndUnknownFieldsAreRefusedAsPrometheusDoes) {
  struct Case {
    std::string rule;
    std::string error;
  };
  for (const Case& c : {
           Case{"      - record: r\n        expr: up\n        keep_firing_for: 5m\n",
                "r.yml: group \"g\", rule 1, \"r\": invalid field 'keep_firing_for' in recording "
                "rule"},
           Case{"      - record: r\n        expr: up\n        for: 5m\n",
                "r.yml: group \"g\", rule 1, \"r\": invalid field 'for' in recording rule"},
           Case{"      - record: r\n        expr: up\n        annotations: {a: b}\n",
                "r.yml: group \"g\", rule 1, \"r\": invalid field 'annotations' in recording "
                "rule"},
           Case{"      - alert: A\n        expr: up\n        bogus: 1\n",
                "r.yml: yaml: unmarshal errors:\n  line 6: field bogus not found in type "
                "rulefmt.RuleNode"},
           Case{"      - alert: A\n        expr: up\n        keep_firing_for: soon\n",
                "r.yml: group \"g\", rule 1, \"A\": "},
       }) {
    auto groups = ParseRuleFile("groups:\n  - name: g\n    rules:\n" + c.rule, "r.yml", 15'000);
    ASSERT_FALSE(groups.ok()) << c.rule;
    EXPECT_EQ(groups.status().message().substr(0, c.error.size()), c.error);
  }
  auto groups = ParseRuleFile("groups:\n  - name: g\n    query_offset: 1m\n", "r.yml", 15'000);
  ASSERT_FALSE(groups.ok());
  EXPECT_EQ(groups.status().message(),
            "r.yml: yaml: unmarshal errors:\n  line 3: field query_offset not found in type "
            "rulefmt.RuleGroup");
  EXPECT_TRUE(ParseRuleFile("groups:\n  - name: g\n    rules:\n      - record: r\n"
                            "        expr: up\n        for: 0s\n        keep_firing_for: 0m\n",
                            "r.yml", 15'000)
                  .ok())
      << "zero durations are as good as none";
}

TEST(RuleFile, HostileYamlIsRefusedQuickly) {
  const auto start = std::chrono::steady_clock::now();
  std::string bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 30; ++i) {
    std::string refs;
    for (int k = 0; k < 9; ++k) refs += (k ? ", *a" : "*a") + std::to_string(i - 1);
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + refs + "]\n";
  }
  struct Case {
    std::string yaml;
    const char* error;
  };
  for (const Case& c : {
           Case{std::string(2'000'000, '[') + std::string(2'000'000, ']'),
                "nested deeper than 500"},
           Case{"groups: [" + std::string(100'000, '{') + "]", "nested deeper than 500"},
           // The anchors are fields a rule file does not have, refused before
           // anything expands them.
           Case{bomb + "groups: *a29\n", "field a0 not found in type rulefmt.RuleGroups"},
           Case{bomb + "groups:\n  - name: g\n    rules: *a29\n",
                "field a0 not found in type rulefmt.RuleGroups"},
           Case{bomb + "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n"
                       "        labels: {x: *a29}\n",
                "field a0 not found in type rulefmt.RuleGroups"},
           Case{"groups: {a: 1}\n", "groups must be a list"},
           Case{"[1, 2]\n", "a rule file is a map"},
           Case{"groups:\n  - name: g\n    rules: 5\n", "rules must be a list"},
           Case{"groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n"
                "        annotations: [a, b]\n",
                "annotations: cannot unmarshal !!seq into map[string]string"},
           Case{"groups: [\n", "r.yml: "},
           Case{"groups:\n  - name: \"a\xff\"\n", "r.yml: yaml: invalid UTF-8"},
       }) {
    auto groups = ParseRuleFile(c.yaml, "r.yml", 15'000);
    ASSERT_FALSE(groups.ok()) << c.yaml.substr(0, 80);
    EXPECT_NE(groups.status().message().find(c.error), std::string::npos)
        << groups.status().message();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(RuleFile, BlockNestingIsRefusedByYamlCpp) {
  std::string deep;
  for (int i = 0; i < 5000; ++i) deep += "- ";
  auto groups = ParseRuleFile("groups:\n  " + deep + "x\n", "r.yml", 15'000);
  ASSERT_FALSE(groups.ok());
}

TEST(RuleFile, FileAboveTheSizeLimitIsRefused) {
  test_support::TempDir dir;
  const std::filesystem::path path = dir.path() / "big.yml";
  std::ofstream(path) << "groups: []\n";
  std::filesystem::resize_file(path, kMaxRuleFileBytes + 1);
  auto groups = LoadRuleFiles({path.string()}, 15'000);
  ASSERT_FALSE(groups.ok());
  EXPECT_NE(groups.status().message().find("rule file is larger than 67108864 bytes"),
            std::string::npos)
      << groups.status().message();
}

}  // namespace
}  // namespace vigil::rules
