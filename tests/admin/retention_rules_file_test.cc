// The per-metric retention rules file (docs/format/retention_rules.md).
#include "src/retention_rules_file.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

constexpr int64_t kDay = 24LL * 3600 * 1000;

TEST(RetentionRulesFile, ParsesRulesInOrder) {
  auto rules = ParseRetentionRules(
      "rules:\n"
      "  - match: '{__name__=~\"node_.*\"}'\n"
      "    retention: 7d\n"
      "  - match: inventory_items_total{shop=\"a\"}\n"
      "    retention: 90d\n");
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  ASSERT_EQ(rules->size(), 2u);
  EXPECT_EQ((*rules)[0].retention_ms, 7 * kDay);
  EXPECT_EQ((*rules)[0].selector, "{__name__=~\"node_.*\"}");
  EXPECT_TRUE(MatchesAll((*rules)[0].matchers, Labels{{"__name__", "node_load1"}}));
  EXPECT_EQ((*rules)[1].retention_ms, 90 * kDay);
  EXPECT_FALSE(MatchesAll((*rules)[1].matchers, Labels{{"__name__", "inventory_items_total"}}));
}

TEST(RetentionRulesFile, EmptyFileMeansNoRules) {
  auto rules = ParseRetentionRules("");
  ASSERT_TRUE(rules.ok());
  EXPECT_TRUE(rules->empty());
}

TEST(RetentionRulesFile, RejectsBadRulesNamingTheRule) {
  const std::pair<const char*, const char*> cases[] = {
      {"rules:\n  - match: up\n    retention: 0s\n", "rule 1: retention must be positive"},
      {"rules:\n  - match: up\n    retention: 1d\n  - match: 'up{'\n    retention: 1d\n",
       "rule 2: "},
      {"rules:\n  - match: up\n    retention: 1d\n    keep: forever\n",
       "rule 1: unknown field \"keep\""},
      {"rules:\n  - match: up\n", "rule 1: needs both match and retention"},
      {"rules:\n  - match: up\n    retention: soon\n", "rule 1: not a valid duration string"},
      {"other: 1\n", "expected a top-level \"rules:\" list"},
      {"rules: [\n", "invalid YAML"},
  };
  for (const auto& [yaml, message] : cases) {
    auto rules = ParseRetentionRules(yaml);
    ASSERT_FALSE(rules.ok()) << yaml;
    EXPECT_NE(rules.status().message().find(message), std::string::npos)
        << rules.status().message();
  }
}

TEST(RetentionRulesFile, MissingFileIsAnError) {
  auto rules = LoadRetentionRulesFile("/nonexistent/vigil-retention.yml");
  ASSERT_FALSE(rules.ok());
  EXPECT_NE(rules.status().message().find("/nonexistent/vigil-retention.yml"), std::string::npos);
}

}  // namespace
}  // namespace vigil
