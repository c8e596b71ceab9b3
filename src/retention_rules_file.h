// The Vigil-specific per-metric retention file (--storage.tsdb.retention.rules-file),
// kept apart from prometheus.yml so that file stays Prometheus-compatible:
//
//   rules:
//     - match: '{__name__=~"node_.*"}'
//       retention: 7d
//     - match: '{__name__=~"inventory_.*"}'
//       retention: 90d
//
// The first rule whose selector matches a series sets its retention.
#pragma once

#include <string>
#include <vector>

#include "storage/retention_rules.h"
#include "base/status.h"

namespace vigil {

// Parses the file's text; errors name the rule (1-based) and the problem.
Result<std::vector<storage::RetentionRule>> ParseRetentionRules(const std::string& yaml);
// Reads and parses the file at `path`.
Result<std::vector<storage::RetentionRule>> LoadRetentionRulesFile(const std::string& path);

}  // namespace vigil
