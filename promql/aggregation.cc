// Aggregation operators (sum, avg, topk, count_values, ...) over one step.
#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <string>

#include "promql/functions.h"
#include "promql/operators.h"
#include "base/metrics_registry.h"

namespace vigil::promql {
namespace {

// Running state of one output group.
struct Group {
  AggregateAccumulator acc;
  std::vector<double> values;          // quantile
  std::vector<const Sample*> members;  // topk, bottomk
};

Labels GroupingKey(const Labels& metric, const Node& n) {
  if (!n.without) return metric.Filter(n.grouping, true);
  std::vector<std::string> drop = n.grouping;
  drop.emplace_back(kMetricNameLabel);
  return metric.Filter(drop, false);
}

// Whether label `name` belongs to the grouping key.
bool InKey(std::string_view name, const Node& n) {
  const bool listed = std::find(n.grouping.begin(), n.grouping.end(), name) != n.grouping.end();
  return n.without ? !listed && name != kMetricNameLabel : listed;
}

// FNV-1a over the key's labels, computed without building the key.
uint64_t KeyHash(const Labels& metric, const Node& n) {
  uint64_t h = 14695981039346656037ULL;
  auto mix = [&h](std::string_view s) {
    for (const char c : s) {
      h ^= static_cast<unsigned char>(c);
      h *= 1099511628211ULL;
    }
    h ^= 0xff;  // separator: "ab"+"c" differs from "a"+"bc"
    h *= 1099511628211ULL;
  };
  for (const auto& l : metric) {
    if (!InKey(l.name, n)) continue;
    mix(l.name);
    mix(l.value);
  }
  return h;
}

// Whether `metric`'s grouping key equals `key`.
bool KeyEquals(const Labels& metric, const Labels& key, const Node& n) {
  size_t j = 0;
  for (const auto& l : metric) {
    if (!InKey(l.name, n)) continue;
    if (j >= key.size() || key[j].name != l.name || key[j].value != l.value) return false;
    ++j;
  }
  return j == key.size();
}

void Accumulate(Op op, Group& g, const Sample& s) {
  g.acc.Add(op, s.point.v);
  if (op == Op::kQuantile) g.values.push_back(s.point.v);
  if (op == Op::kTopk || op == Op::kBottomk) g.members.push_back(&s);
}

double Finish(Op op, Group& g, double param) {
  if (op == Op::kQuantile) return Quantile(param, g.values);
  return g.acc.Result(op);
}

// topk/bottomk: the k best members, best first; NaN ranks last either way.
void SelectK(Op op, Group& g, size_t k, int64_t ts, Vector* out) {
  const bool top = op == Op::kTopk;
  std::stable_sort(g.members.begin(), g.members.end(), [top](const Sample* a, const Sample* b) {
    const double x = a->point.v, y = b->point.v;
    if (std::isnan(x) || std::isnan(y)) return !std::isnan(x) && std::isnan(y);
    return top ? x > y : x < y;
  });
  for (size_t i = 0; i < g.members.size() && i < k; ++i) {
    out->push_back(Sample{g.members[i]->metric, Point{ts, g.members[i]->point.v}});
  }
}

}  // namespace

bool IsAccumulatorAggregation(Op op) {
  switch (op) {
    case Op::kSum:
    case Op::kAvg:
    case Op::kCount:
    case Op::kMin:
    case Op::kMax:
    case Op::kGroup:
    case Op::kStddev:
    case Op::kStdvar: return true;
    default: return false;
  }
}

void AggregateAccumulator::Add(Op op, double v) {
  const bool first = count == 0;
  count += 1;
  switch (op) {
    case Op::kSum: value = first ? v : value + v; break;
    case Op::kAvg:
      if (first) {
        mean = v;
        break;
      }
      if (std::isinf(mean)) {
        if (std::isinf(v) && (mean > 0) == (v > 0)) break;
        if (!std::isinf(v) && !std::isnan(v)) break;
      }
      // Dividing each term by the count avoids overflow, as Prometheus does.
      mean += v / count - mean / count;
      break;
    case Op::kMin:
      if (first || value > v || std::isnan(value)) value = v;
      break;
    case Op::kMax:
      if (first || value < v || std::isnan(value)) value = v;
      break;
    case Op::kStddev:
    case Op::kStdvar: {
      if (first) {
        mean = v;
        value = 0;
        break;
      }
      const double delta = v - mean;
      mean += delta / count;
      value += delta * (v - mean);
      break;
    }
    default: break;  // count, group, count_values only count
  }
}

double AggregateAccumulator::Result(Op op) const {
  switch (op) {
    case Op::kAvg: return mean;
    case Op::kCount:
    case Op::kCountValues: return count;
    case Op::kGroup: return 1;
    case Op::kStdvar: return value / count;
    case Op::kStddev: return std::sqrt(value / count);
    default: return value;
  }
}

size_t AggregationGroups::GroupOf(const Labels& metric) {
  std::vector<size_t>& candidates = index_[KeyHash(metric, grouping_)];
  for (const size_t c : candidates) {
    if (KeyEquals(metric, keys_[c], grouping_)) return c;
  }
  candidates.push_back(keys_.size());
  keys_.push_back(GroupingKey(metric, grouping_));
  return keys_.size() - 1;
}

Result<Vector> ApplyAggregation(const Node& n, Vector input, const Value& param, int64_t ts,
                                Annotations* annotations) {
  const Op op = n.op;
  double k_or_q = 0;
  if (op == Op::kTopk || op == Op::kBottomk || op == Op::kQuantile) k_or_q = param.scalar.v;
  // Prometheus 2.48 warns once it has a group to take the quantile of.
  if (op == Op::kQuantile && annotations != nullptr && !input.empty() &&
      !(k_or_q >= 0 && k_or_q <= 1)) {
    annotations->Add(InvalidQuantileWarning(k_or_q), n.Param()->pos.start);
  }
  if (op == Op::kCountValues) {
    const std::string& label = param.string;
    if (!IsValidLabelName(label)) return Status::Execution("invalid label name \"" + label + "\"");
    for (auto& s : input) {
      s.metric = LabelsBuilder(s.metric).Set(label, FormatFloatPlain(s.point.v)).Build();
    }
  }
  size_t k = 0;
  if (op == Op::kTopk || op == Op::kBottomk) {
    if (!(std::fabs(k_or_q) < 9.2e18)) {
      return Status::Execution("Scalar value " + FormatFloat(k_or_q) + " overflows int64");
    }
    if (!(k_or_q >= 1)) return Vector{};
    k = k_or_q >= 9.2e18 ? input.size() : static_cast<size_t>(static_cast<int64_t>(k_or_q));
  }
  Node grouping_node;  // count_values groups by its label too
  const Node* grouping = &n;
  if (op == Op::kCountValues && !n.without) {
    grouping_node.grouping = n.grouping;
    grouping_node.grouping.push_back(param.string);
    grouping = &grouping_node;
  }
  AggregationGroups index(*grouping);
  std::vector<Group> groups;
  for (const auto& s : input) {
    const size_t g = index.GroupOf(s.metric);
    if (g == groups.size()) groups.emplace_back();
    Accumulate(op, groups[g], s);
  }
  std::vector<Labels> keys = index.TakeKeys();
  Vector out;
  for (size_t g = 0; g < groups.size(); ++g) {
    if (op == Op::kTopk || op == Op::kBottomk) {
      SelectK(op, groups[g], k, ts, &out);
    } else {
      out.push_back(Sample{std::move(keys[g]), Point{ts, Finish(op, groups[g], k_or_q)}});
    }
  }
  return out;
}

}  // namespace vigil::promql
