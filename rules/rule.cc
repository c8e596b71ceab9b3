#include "rules/rule.h"

#include <algorithm>
#include <utility>

namespace vigil::rules {

const char* RuleHealthName(RuleHealth h) {
  switch (h) {
    case RuleHealth::kUnknown:
      return "unknown";
    case RuleHealth::kOk:
      return "ok";
    case RuleHealth::kErr:
      return "err";
  }
  return "unknown";
}

const char* AlertStateName(AlertState s) {
  switch (s) {
    case AlertState::kInactive:
      return "inactive";
    case AlertState::kPending:
      return "pending";
    case AlertState::kFiring:
      return "firing";
  }
  return "inactive";
}

QueryFunc EngineQueryFunc(promql::Engine* engine, storage::Storage* db) {
  return [engine, db](const std::string& expr, int64_t t_ms) -> Result<promql::Vector> {
    auto result = engine->InstantQuery(*db, expr, t_ms);
    if (!result.ok()) return result.status();
    switch (result->value.type) {
      case promql::ValueType::kVector:
        return std::move(result->value.vector);
      case promql::ValueType::kScalar:
        return promql::Vector{promql::Sample{Labels{}, result->value.scalar}};
      default:
        return Status::InvalidArgument("rule result is not a vector or scalar");
    }
  };
}

Rule::Rule(RuleSpec spec, std::string query) : spec_(std::move(spec)), query_(std::move(query)) {}

void Rule::SetEvaluation(const Status& outcome, int64_t t_ms, double seconds) {
  health_ = outcome.ok() ? RuleHealth::kOk : RuleHealth::kErr;
  last_error_ = outcome.ok() ? std::string() : outcome.message();
  last_evaluation_ms_ = t_ms;
  evaluation_seconds_ = seconds;
}

void Rule::TakeStateFrom(Rule& old) {
  health_ = old.health_;
  last_error_ = old.last_error_;
  last_evaluation_ms_ = old.last_evaluation_ms_;
  evaluation_seconds_ = old.evaluation_seconds_;
}

RuleStatus Rule::Snapshot() const {
  RuleStatus s;
  s.spec = spec_;
  s.query = query_;
  s.health = health_;
  s.last_error = last_error_;
  s.last_evaluation_ms = last_evaluation_ms_;
  s.evaluation_seconds = evaluation_seconds_;
  return s;
}

bool SameRule(const RuleSpec& a, const RuleSpec& b) {
  auto same_labels = [](const std::vector<Label>& x, const std::vector<Label>& y) {
    return std::equal(x.begin(), x.end(), y.begin(), y.end(), [](const Label& l, const Label& r) {
      return l.name == r.name && l.value == r.value;
    });
  };
  return a.kind == b.kind && a.name == b.name && a.expr == b.expr && a.for_ms == b.for_ms &&
         a.keep_firing_for_ms == b.keep_firing_for_ms && same_labels(a.labels, b.labels) &&
         same_labels(a.annotations, b.annotations);
}

}  // namespace vigil::rules
