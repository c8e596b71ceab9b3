#include "rules/rule_file.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace vigil::rules
