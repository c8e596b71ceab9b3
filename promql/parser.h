// The PromQL parser: a hand-written recursive-descent parser with
// Prometheus's operator precedence, followed by Prometheus's type checks.
// Errors read "<line>:<col>: parse error: <what>" and have kInvalidArgument.
#pragma once

#include <string_view>

#include "promql/ast.h"
#include "base/status.h"

namespace vigil::promql {

// Deeper nesting is rejected rather than risking the stack.
inline constexpr int kMaxParseDepth = 256;

// Parses and type-checks a whole expression.
Result<NodePtr> ParseExpr(std::string_view query);

// Parses a bare series selector (`up{job="x"}`) into matchers, name last.
Result<LabelMatchers> ParseMetricSelector(std::string_view selector);

// Type-checks a parsed tree as Prometheus's checkAST does (parser.cc runs it;
// exposed for tests). `query` is only used to position error messages.
Status CheckTypes(const Node& root, std::string_view query);

}  // namespace vigil::promql
