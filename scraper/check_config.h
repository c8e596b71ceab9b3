// `vigil check config FILE...`: promtool check config's behaviour and output.
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "storage/status.h"

namespace vigil::scraper {

// Validates a PromQL expression of a rule; the caller (main) passes the
// PromQL parser so the scraper does not depend on promql. May be empty.
using ExprChecker = std::function<Status(const std::string& expr)>;

// Checks each config file and the rule files it names, printing like
// promtool 2.42:
//   Checking FILE
//    SUCCESS: FILE is valid prometheus config file syntax
// and "  FAILED: <reason>" on `err`. Returns 0 when all are valid, else 1.
int RunCheckConfig(const std::vector<std::string>& files, std::ostream& out, std::ostream& err,
                   const ExprChecker& check_expr = {});

// `vigil check rules FILE...`, as promtool check rules: "Checking FILE",
// "  SUCCESS: N rules found" or "  FAILED:" and the reason on `err`.
int RunCheckRules(const std::vector<std::string>& files, std::ostream& out, std::ostream& err,
                  const ExprChecker& check_expr = {});

// Checks one rule file's structure (groups, names, record/alert, expr,
// labels); returns the number of rules.
Result<size_t> CheckRuleFile(const std::string& path, const ExprChecker& check_expr);

}  // namespace vigil::scraper
