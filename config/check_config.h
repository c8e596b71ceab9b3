// `vigil check config FILE...`: promtool check config's behaviour and output.
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace vigil::config {

// Validates a PromQL expression of a rule; the caller (main) passes the
// PromQL parser so the scraper does not depend on promql. May be empty.
using ExprChecker = std::function<Status(const std::string& expr)>;
// Parses one label or annotation template of alert `alert` (rules::CheckAlertTemplate).
using TemplateChecker = std::function<Status(std::string_view text, std::string_view alert)>;

// Checks each config file and the rule files it names, printing like
// promtool 2.42:
//   Checking FILE
//    SUCCESS: FILE is valid prometheus config file syntax
// and "  FAILED: <reason>" on `err`. Returns 0 when all are valid, else 1.
int RunCheckConfig(const std::vector<std::string>& files, std::ostream& out, std::ostream& err,
                   const ExprChecker& check_expr = {}, const TemplateChecker& check_template = {});

// `vigil check rules FILE...`, as promtool check rules: "Checking FILE",
// "  SUCCESS: N rules found" or "  FAILED:" and the reason on `err`.
int RunCheckRules(const std::vector<std::string>& files, std::ostream& out, std::ostream& err,
                  const ExprChecker& check_expr = {}, const TemplateChecker& check_template = {});

// Checks one rule file's structure (groups, names, record/alert, expr,
// labels, and alert templates when `check_template` is set); returns the
// number of rules.
Result<size_t> CheckRuleFile(const std::string& path, const ExprChecker& check_expr,
                             const TemplateChecker& check_template = {});

}  // namespace vigil::config
