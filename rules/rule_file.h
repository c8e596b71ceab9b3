// Rule files (Prometheus's rulefmt): groups of recording and alerting rules,
// loaded from the globs of the config's rule_files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "storage/labels.h"
#include "storage/status.h"

namespace vigil::rules {

enum class RuleKind { kRecording, kAlerting };

// One rule as written in its file. Label and annotation values of alerting
// rules are templates; a label with an empty value removes that label.
struct RuleSpec {
  RuleKind kind = RuleKind::kRecording;
  std::string name;  // `record:` or `alert:`
  std::string expr;
  int64_t for_ms = 0;  // alerting only
  std::vector<Label> labels;
  std::vector<Label> annotations;  // alerting only
};

struct GroupSpec {
  std::string file;
  std::string name;
  int64_t interval_ms = 0;
  int64_t limit = 0;  // 0: no limit on series/alerts per rule
  std::vector<RuleSpec> rules;
};

// Loads every group of `files`; groups without `interval` get `default_interval_ms`
// (the global evaluation_interval). Errors name the file.
Result<std::vector<GroupSpec>> LoadRuleFiles(const std::vector<std::string>& files,
                                             int64_t default_interval_ms);

}  // namespace vigil::rules
