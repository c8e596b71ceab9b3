#include "promql/ast.h"

#include "promql/functions.h"

namespace vigil::promql {

const char* OpName(Op op) {
  switch (op) {
    case Op::kNone: return "";
    case Op::kOr: return "or";
    case Op::kAnd: return "and";
    case Op::kUnless: return "unless";
    case Op::kEql: return "==";
    case Op::kNeq: return "!=";
    case Op::kLte: return "<=";
    case Op::kLss: return "<";
    case Op::kGte: return ">=";
    case Op::kGtr: return ">";
    case Op::kAdd: return "+";
    case Op::kSub: return "-";
    case Op::kMul: return "*";
    case Op::kDiv: return "/";
    case Op::kMod: return "%";
    case Op::kAtan2: return "atan2";
    case Op::kPow: return "^";
    case Op::kSum: return "sum";
    case Op::kAvg: return "avg";
    case Op::kCount: return "count";
    case Op::kMin: return "min";
    case Op::kMax: return "max";
    case Op::kGroup: return "group";
    case Op::kStddev: return "stddev";
    case Op::kStdvar: return "stdvar";
    case Op::kTopk: return "topk";
    case Op::kBottomk: return "bottomk";
    case Op::kCountValues: return "count_values";
    case Op::kQuantile: return "quantile";
  }
  return "";
}

bool IsComparisonOp(Op op) {
  return op == Op::kEql || op == Op::kNeq || op == Op::kLte || op == Op::kLss ||
         op == Op::kGte || op == Op::kGtr;
}

bool IsSetOp(Op op) { return op == Op::kAnd || op == Op::kOr || op == Op::kUnless; }

bool AggregationHasParam(Op op) {
  return op == Op::kTopk || op == Op::kBottomk || op == Op::kCountValues || op == Op::kQuantile;
}

ValueType Node::Type() const {
  switch (kind) {
    case NodeKind::kNumber: return ValueType::kScalar;
    case NodeKind::kString: return ValueType::kString;
    case NodeKind::kVectorSelector: return ValueType::kVector;
    case NodeKind::kMatrixSelector:
    case NodeKind::kSubquery: return ValueType::kMatrix;
    case NodeKind::kParen:
    case NodeKind::kUnary: return children[0]->Type();
    case NodeKind::kBinary:
      return children[0]->Type() == ValueType::kScalar && children[1]->Type() == ValueType::kScalar
                 ? ValueType::kScalar
                 : ValueType::kVector;
    case NodeKind::kCall: return func->return_type;
    case NodeKind::kAggregate: return ValueType::kVector;
  }
  return ValueType::kNone;
}

const Node& UnwrapParens(const Node& n) {
  return n.kind == NodeKind::kParen ? UnwrapParens(*n.children[0]) : n;
}

const char* DocumentedTypeName(ValueType type) {
  switch (type) {
    case ValueType::kVector: return "instant vector";
    case ValueType::kMatrix: return "range vector";
    case ValueType::kScalar: return "scalar";
    case ValueType::kString: return "string";
    case ValueType::kNone: return "none";
  }
  return "none";
}

}  // namespace vigil::promql
