// The PromQL abstract syntax tree. One Node type tagged by `kind` keeps the
// parser, type checker, printer and evaluator small: each reads only the
// fields its kind documents below.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "promql/engine.h"
#include "base/matcher.h"

namespace vigil::promql {

struct FunctionDef;

enum class NodeKind {
  kNumber,          // number
  kString,          // text
  kVectorSelector,  // metric_name, matchers, time
  kMatrixSelector,  // children[0] (a kVectorSelector carrying offset/@), range_ms
  kSubquery,        // children[0], range_ms, step_ms (0: default), time
  kParen,           // children[0]
  kUnary,           // op (kSub or kAdd), children[0]
  kBinary,          // op, children[0] lhs, children[1] rhs, return_bool, matching
  kCall,            // func, children = arguments
  kAggregate,       // op, children[0] expr, children[1] param (topk, quantile, ...)
};

// Operators and aggregations, as the lexer/parser name them.
enum class Op {
  kNone,
  // Binary operators, lowest precedence first.
  kOr,
  kAnd,
  kUnless,
  kEql,
  kNeq,
  kLte,
  kLss,
  kGte,
  kGtr,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kAtan2,
  kPow,
  // Aggregations.
  kSum,
  kAvg,
  kCount,
  kMin,
  kMax,
  kGroup,
  kStddev,
  kStdvar,
  kTopk,
  kBottomk,
  kCountValues,
  kQuantile,
};

// The operator's PromQL spelling ("+", "and", "count_values", ...).
const char* OpName(Op op);
bool IsComparisonOp(Op op);
bool IsSetOp(Op op);
// Aggregations taking a parameter before the expression.
bool AggregationHasParam(Op op);

// `@ <timestamp>`, `@ start()`, `@ end()`.
enum class AtKind { kNone, kTimestamp, kStart, kEnd };

// The offset and @ modifiers of a selector or subquery.
struct TimeModifiers {
  int64_t offset_ms = 0;
  AtKind at = AtKind::kNone;
  int64_t at_ms = 0;  // for AtKind::kTimestamp
};

enum class Cardinality { kOneToOne, kManyToOne, kOneToMany, kManyToMany };

// on/ignoring and group_left/group_right of a binary operation.
struct VectorMatching {
  Cardinality card = Cardinality::kOneToOne;
  bool on = false;                       // on(...) rather than ignoring(...)
  std::vector<std::string> labels;       // the on/ignoring list
  std::vector<std::string> include;      // the group_x list
};

// Byte offsets [start, end) of a node in the query text.
struct PosRange {
  size_t start = 0;
  size_t end = 0;
};

struct Node;
using NodePtr = std::unique_ptr<Node>;

struct Node {
  NodeKind kind = NodeKind::kNumber;
  PosRange pos;
  std::vector<NodePtr> children;

  double number = 0;                      // kNumber
  std::string text;                       // kString
  std::string metric_name;                // kVectorSelector: the name outside braces
  LabelMatchers matchers;                 // kVectorSelector, name matcher last
  TimeModifiers time;                     // kVectorSelector, kSubquery
  int64_t range_ms = 0;                   // kMatrixSelector, kSubquery
  int64_t step_ms = 0;                    // kSubquery
  Op op = Op::kNone;                      // kUnary, kBinary, kAggregate
  bool return_bool = false;               // kBinary
  size_t op_pos = 0;                      // kBinary: offset of the operator
  VectorMatching matching;                // kBinary (between two vectors)
  const FunctionDef* func = nullptr;      // kCall
  std::vector<std::string> grouping;      // kAggregate
  bool without = false;                   // kAggregate

  // The static type of the expression.
  ValueType Type() const;
  // The aggregation's parameter, or nullptr.
  const Node* Param() const { return children.size() > 1 ? children[1].get() : nullptr; }
};

// `n` without enclosing parentheses.
const Node& UnwrapParens(const Node& n);

// "instant vector", "range vector", "scalar", "string" (as error messages say).
const char* DocumentedTypeName(ValueType type);

}  // namespace vigil::promql
