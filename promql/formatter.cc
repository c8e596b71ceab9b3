// FormatQuery: prints a parsed expression back as Prometheus's String() and
// Pretty() do (/api/v1/format_query), splitting lines longer than 100 chars.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>

#include "promql/engine.h"
#include "promql/functions.h"
#include "promql/parser.h"
#include "base/duration.h"
#include "base/quote.h"

namespace vigil::promql {
namespace {

constexpr size_t kMaxCharactersPerLine = 100;

// Go's fmt %v for float64: shortest digits, exponent form below 1e-4 and
// from 1e6 on.
std::string GoFloat(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto sci = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  const std::string s(buf, sci.ptr);
  const int exp = std::stoi(s.substr(s.find('e') + 1));
  if (exp < -4 || exp >= 6) return s;
  auto fixed = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  return std::string(buf, fixed.ptr);
}

std::string Join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += sep;
    out += items[i];
  }
  return out;
}

std::string Modifiers(const TimeModifiers& m) {
  std::string out;
  switch (m.at) {
    case AtKind::kTimestamp: {
      char buf[64];
      std::snprintf(buf, sizeof(buf), " @ %.3f", static_cast<double>(m.at_ms) / 1000.0);
      out += buf;
      break;
    }
    case AtKind::kStart: out += " @ start()"; break;
    case AtKind::kEnd: out += " @ end()"; break;
    case AtKind::kNone: break;
  }
  if (m.offset_ms > 0) out += " offset " + FormatDuration(m.offset_ms);
  if (m.offset_ms < 0) out += " offset -" + FormatDuration(-m.offset_ms);
  return out;
}

std::string SelectorString(const Node& n, bool with_modifiers) {
  std::vector<std::string> matchers;
  for (const auto& m : n.matchers) {
    if (m.name() == kMetricNameLabel && m.type() == MatchType::kEqual &&
        m.value() == n.metric_name) {
      continue;
    }
    matchers.push_back(m.name() + MatchTypeString(m.type()) + GoQuote(m.value()));
  }
  std::sort(matchers.begin(), matchers.end());
  std::string out = n.metric_name;
  if (!matchers.empty()) out += "{" + Join(matchers, ",") + "}";
  if (with_modifiers) out += Modifiers(n.time);
  return out;
}

std::string MatchingString(const Node& n) {
  const VectorMatching& vm = n.matching;
  const bool vectors = n.children[0]->Type() == ValueType::kVector &&
                       n.children[1]->Type() == ValueType::kVector;
  if (!vectors || (vm.labels.empty() && !vm.on)) return "";
  std::string out = std::string(" ") + (vm.on ? "on" : "ignoring") + " (" + Join(vm.labels, ", ") + ")";
  if (vm.card == Cardinality::kManyToOne || vm.card == Cardinality::kOneToMany) {
    out += std::string(" group_") + (vm.card == Cardinality::kManyToOne ? "left" : "right") + " (" +
           Join(vm.include, ", ") + ")";
  }
  return out;
}

std::string AggregationPrefix(const Node& n) {
  std::string out = OpName(n.op);
  if (n.without) {
    out += " without (" + Join(n.grouping, ", ") + ") ";
  } else if (!n.grouping.empty()) {
    out += " by (" + Join(n.grouping, ", ") + ") ";
  }
  return out;
}

std::string SubquerySuffix(const Node& n) {
  std::string out = "[" + FormatDuration(n.range_ms) + ":";
  if (n.step_ms > 0) out += FormatDuration(n.step_ms);
  return out + "]" + Modifiers(n.time);
}

std::string ToString(const Node& n) {
  switch (n.kind) {
    case NodeKind::kNumber: return GoFloat(n.number);
    case NodeKind::kString: return GoQuote(n.text);
    case NodeKind::kVectorSelector: return SelectorString(n, true);
    case NodeKind::kMatrixSelector: {
      const Node& vs = *n.children[0];
      return SelectorString(vs, false) + "[" + FormatDuration(n.range_ms) + "]" +
             Modifiers(vs.time);
    }
    case NodeKind::kSubquery: return ToString(*n.children[0]) + SubquerySuffix(n);
    case NodeKind::kParen: return "(" + ToString(*n.children[0]) + ")";
    case NodeKind::kUnary: return OpName(n.op) + ToString(*n.children[0]);
    case NodeKind::kBinary:
      return ToString(*n.children[0]) + " " + OpName(n.op) + (n.return_bool ? " bool" : "") +
             MatchingString(n) + " " + ToString(*n.children[1]);
    case NodeKind::kCall: {
      std::vector<std::string> args;
      for (const auto& c : n.children) args.push_back(ToString(*c));
      return std::string(n.func->name) + "(" + Join(args, ", ") + ")";
    }
    case NodeKind::kAggregate: {
      std::string out = AggregationPrefix(n) + "(";
      if (const Node* p = n.Param()) out += ToString(*p) + ", ";
      return out + ToString(*n.children[0]) + ")";
    }
  }
  return "";
}

std::string Indent(int level) { return std::string(static_cast<size_t>(level) * 2, ' '); }

std::string Pretty(const Node& n, int level) {
  const std::string flat = ToString(n);
  if (flat.size() <= kMaxCharactersPerLine) {
    // Subqueries print without indentation when they fit, as Prometheus does.
    return n.kind == NodeKind::kSubquery ? flat : Indent(level) + flat;
  }
  switch (n.kind) {
    case NodeKind::kAggregate: {
      std::string out = Indent(level) + AggregationPrefix(n) + "(\n";
      if (const Node* p = n.Param()) out += Pretty(*p, level + 1) + ",\n";
      return out + Pretty(*n.children[0], level + 1) + "\n" + Indent(level) + ")";
    }
    case NodeKind::kBinary:
      return Pretty(*n.children[0], level + 1) + "\n" + Indent(level) + OpName(n.op) +
             (n.return_bool ? " bool" : "") + MatchingString(n) + "\n" +
             Pretty(*n.children[1], level + 1);
    case NodeKind::kCall: {
      std::string out = Indent(level) + std::string(n.func->name) + "(\n";
      for (size_t i = 0; i < n.children.size(); ++i) {
        out += Pretty(*n.children[i], level + 1);
        out += i + 1 < n.children.size() ? ",\n" : "\n";
      }
      return out + Indent(level) + ")";
    }
    case NodeKind::kParen:
      return Indent(level) + "(\n" + Pretty(*n.children[0], level + 1) + "\n" + Indent(level) + ")";
    case NodeKind::kSubquery: return Pretty(*n.children[0], level) + SubquerySuffix(n);
    case NodeKind::kUnary: {
      std::string child = Pretty(*n.children[0], level);
      const size_t first = child.find_first_not_of(" \n\t");
      child = first == std::string::npos ? "" : child.substr(first);
      return Indent(level) + OpName(n.op) + child;
    }
    default: return Indent(level) + flat;
  }
}

}  // namespace

Result<std::string> FormatQuery(std::string_view query) {
  auto root = ParseExpr(query);
  if (!root.ok()) return root.status();
  return Pretty(**root, 0);
}

}  // namespace vigil::promql
