// Per-metric retention rules (beyond Prometheus): series matching a rule's
// matchers keep data for the rule's retention instead of the global one,
// e.g. node_.* for 7 days and inventory_.* for 90 days. The first matching
// rule wins; series matching none keep the global retention. The background
// retention applies them per time partition and series reference (a range
// delete of the series' chunk keys and its postings in that partition),
// never by scanning samples. Spec: docs/format/retention_rules.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/labels.h"
#include "base/matcher.h"

namespace vigil::storage {

struct RetentionRule {
  std::string selector;  // as written by the operator, for logs and status
  LabelMatchers matchers;
  int64_t retention_ms = 0;  // > 0
};

// The retention of a series: the first matching rule's, else `global_ms`
// (0: kept forever).
int64_t EffectiveRetention(const std::vector<RetentionRule>& rules, int64_t global_ms,
                           const Labels& labels);

// How far back whole partitions may be dropped: no rule may keep data longer
// than this. 0 when nothing may be dropped by time (global retention off).
int64_t PartitionDropRetention(const std::vector<RetentionRule>& rules, int64_t global_ms);

}  // namespace vigil::storage
