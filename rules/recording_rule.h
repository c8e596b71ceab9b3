// RecordingRule: a `record:` rule, as Prometheus's rules.RecordingRule. Its
// result is written under the record name with the rule's labels set (an
// empty value removes a label); two output series with the same labels, or
// more than the group's limit, fail the evaluation and write nothing.
#pragma once

#include "rules/rule.h"

namespace vigil::rules {

class RecordingRule : public Rule {
 public:
  using Rule::Rule;

  Result<std::vector<promql::Sample>> Eval(const EvalContext& ctx, int64_t t_ms) override;
};

}  // namespace vigil::rules
