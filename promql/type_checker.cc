// Prometheus's checkAST: static type rules applied after parsing.
#include <string>

#include "promql/functions.h"
#include "promql/lexer.h"
#include "promql/parser.h"

namespace vigil::promql {
namespace {

class TypeChecker {
 public:
  explicit TypeChecker(std::string_view query) : query_(query) {}

  ValueType Check(const Node& n) {
    switch (n.kind) {
      case NodeKind::kNumber:
      case NodeKind::kString: break;
      case NodeKind::kVectorSelector: CheckSelector(n); break;
      case NodeKind::kMatrixSelector:
      case NodeKind::kParen: Check(*n.children[0]); break;
      case NodeKind::kSubquery: CheckSubquery(n); break;
      case NodeKind::kUnary: CheckUnary(n); break;
      case NodeKind::kBinary: CheckBinary(n); break;
      case NodeKind::kCall: CheckCall(n); break;
      case NodeKind::kAggregate: CheckAggregate(n); break;
    }
    return n.Type();
  }

  const Status& error() const { return error_; }

 private:
  void Fail(size_t pos, const std::string& msg) {
    if (error_.ok()) {
      error_ = Status::InvalidArgument(PositionPrefix(query_, pos) + " parse error: " + msg);
    }
  }

  void ExpectType(const Node& n, ValueType want, const std::string& context) {
    const ValueType got = Check(n);
    if (got != want) {
      Fail(n.pos.start, std::string("expected type ") + DocumentedTypeName(want) + " in " +
                            context + ", got " + DocumentedTypeName(got));
    }
  }

  void CheckSelector(const Node& n) {
    if (!n.metric_name.empty()) {
      for (size_t i = 0; i + 1 < n.matchers.size(); ++i) {
        if (n.matchers[i].name() == kMetricNameLabel) {
          Fail(n.pos.start, "metric name must not be set twice: \"" + n.metric_name + "\" or \"" +
                                n.matchers[i].value() + "\"");
        }
      }
      return;
    }
    for (const auto& m : n.matchers) {
      if (!m.MatchesEmpty()) return;
    }
    Fail(n.pos.start, "vector selector must contain at least one non-empty matcher");
  }

  void CheckSubquery(const Node& n) {
    const ValueType t = Check(*n.children[0]);
    if (t != ValueType::kVector) {
      Fail(n.pos.start, std::string("subquery is only allowed on instant vector, got ") +
                            ValueTypeName(t) + " instead");
    }
  }

  void CheckUnary(const Node& n) {
    const ValueType t = Check(*n.children[0]);
    if (t != ValueType::kScalar && t != ValueType::kVector) {
      Fail(n.pos.start,
           std::string("unary expression only allowed on expressions of type scalar or instant "
                       "vector, got \"") +
               DocumentedTypeName(t) + "\"");
    }
  }

  void CheckBinary(const Node& n) {
    const Node& lhs = *n.children[0];
    const Node& rhs = *n.children[1];
    const ValueType lt = Check(lhs);
    const ValueType rt = Check(rhs);
    const size_t op_pos = n.op_pos;
    if (n.return_bool && !IsComparisonOp(n.op)) {
      Fail(op_pos, "bool modifier can only be used on comparison operators");
    }
    if (IsComparisonOp(n.op) && !n.return_bool && lt == ValueType::kScalar &&
        rt == ValueType::kScalar) {
      Fail(op_pos, "comparisons between scalars must use BOOL modifier");
    }
    if (n.matching.on) {
      for (const auto& l : n.matching.labels) {
        for (const auto& inc : n.matching.include) {
          if (l == inc) {
            Fail(op_pos, "label \"" + l + "\" must not occur in ON and GROUP clause at once");
          }
        }
      }
    }
    if (lt != ValueType::kScalar && lt != ValueType::kVector) {
      Fail(lhs.pos.start, "binary expression must contain only scalar and instant vector types");
    }
    if (rt != ValueType::kScalar && rt != ValueType::kVector) {
      Fail(rhs.pos.start, "binary expression must contain only scalar and instant vector types");
    }
    const bool both_vectors = lt == ValueType::kVector && rt == ValueType::kVector;
    if (!both_vectors && !n.matching.labels.empty()) {
      Fail(n.pos.start, "vector matching only allowed between instant vectors");
    } else if (both_vectors && IsSetOp(n.op) && (n.matching.card == Cardinality::kOneToMany ||
                                                n.matching.card == Cardinality::kManyToOne)) {
      Fail(n.pos.start, std::string("no grouping allowed for \"") + OpName(n.op) + "\" operation");
    }
    if ((lt == ValueType::kScalar || rt == ValueType::kScalar) && IsSetOp(n.op)) {
      Fail(n.pos.start,
           std::string("set operator \"") + OpName(n.op) + "\" not allowed in binary scalar expression");
    }
  }

  void CheckCall(const Node& n) {
    const FunctionDef& f = *n.func;
    const size_t nargs = f.arg_types.size();
    const size_t got = n.children.size();
    const std::string name = "\"" + std::string(f.name) + "\"";
    if (f.variadic == 0) {
      if (nargs != got) {
        Fail(n.pos.start, "expected " + std::to_string(nargs) + " argument(s) in call to " + name +
                              ", got " + std::to_string(got));
      }
    } else {
      const size_t na = nargs - 1;
      if (na > got) {
        Fail(n.pos.start, "expected at least " + std::to_string(na) + " argument(s) in call to " +
                              name + ", got " + std::to_string(got));
      } else if (f.variadic > 0 && na + static_cast<size_t>(f.variadic) < got) {
        Fail(n.pos.start, "expected at most " + std::to_string(na + f.variadic) +
                              " argument(s) in call to " + name + ", got " + std::to_string(got));
      }
    }
    for (size_t i = 0; i < got; ++i) {
      size_t type_index = i;
      if (i >= nargs) {
        if (f.variadic == 0) break;
        type_index = nargs - 1;
      }
      ExpectType(*n.children[i], f.arg_types[type_index], "call to function " + name);
    }
  }

  void CheckAggregate(const Node& n) {
    ExpectType(*n.children[0], ValueType::kVector, "aggregation expression");
    if (n.op == Op::kTopk || n.op == Op::kBottomk || n.op == Op::kQuantile) {
      ExpectType(*n.children[1], ValueType::kScalar, "aggregation parameter");
    }
    if (n.op == Op::kCountValues) {
      ExpectType(*n.children[1], ValueType::kString, "aggregation parameter");
    }
  }

  std::string_view query_;
  Status error_;
};

}  // namespace

Status CheckTypes(const Node& root, std::string_view query) {
  TypeChecker checker(query);
  checker.Check(root);
  return checker.error();
}

}  // namespace vigil::promql
