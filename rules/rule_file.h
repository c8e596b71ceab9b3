// Rule files (Prometheus's rulefmt): groups of recording and alerting rules,
// loaded from the globs of the config's rule_files.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/labels.h"
#include "base/status.h"

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
  // Alerting only: how long a firing alert keeps firing after its
  // expression stopped returning it (Prometheus 2.42's keep_firing_for).
  int64_t keep_firing_for_ms = 0;
};

struct GroupSpec {
  std::string file;
  std::string name;
  int64_t interval_ms = 0;
  int64_t limit = 0;  // 0: no limit on series/alerts per rule
  std::vector<RuleSpec> rules;
};

// The fields a rule group and a rule may have (Prometheus 2.48's
// rulefmt.RuleGroup and rulefmt.RuleNode); any other field is refused.
std::span<const std::string_view> RuleGroupFields();
std::span<const std::string_view> RuleNodeFields();

// Rule files larger than this are refused (Prometheus has no limit; a real
// rule file is a few hundred KiB).
inline constexpr uintmax_t kMaxRuleFileBytes = 64 << 20;

// Loads every group of `files`; groups without `interval` get `default_interval_ms`
// (the global evaluation_interval). Errors name the file, and for a bad rule
// its group, index and name as promtool does: `f.yml: group "g", rule 2, "A":
// annotation "summary": template: __alert_A:1: function "x" not defined`.
// Fields Prometheus does not know, and `for`, `keep_firing_for` or
// `annotations` on a recording rule, are refused as Prometheus refuses them.
Result<std::vector<GroupSpec>> LoadRuleFiles(const std::vector<std::string>& files,
                                             int64_t default_interval_ms);

// The groups of one rule file's text; `file` names it in errors.
Result<std::vector<GroupSpec>> ParseRuleFile(const std::string& yaml, const std::string& file,
                                             int64_t default_interval_ms);

}  // namespace vigil::rules
