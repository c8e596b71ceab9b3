// Per-metric retention: which series a rule covers (the passes that apply
// the rules are in retention.cc).
#include "storage/retention_rules.h"

#include <algorithm>

namespace vigil::storage {

int64_t EffectiveRetention(const std::vector<RetentionRule>& rules, int64_t global_ms,
                           const Labels& labels) {
  for (const auto& rule : rules) {
    if (MatchesAll(rule.matchers, labels)) return rule.retention_ms;
  }
  return global_ms;
}

int64_t PartitionDropRetention(const std::vector<RetentionRule>& rules, int64_t global_ms) {
  if (global_ms <= 0) return 0;
  int64_t longest = global_ms;
  for (const auto& rule : rules) longest = std::max(longest, rule.retention_ms);
  return longest;
}

}  // namespace vigil::storage
