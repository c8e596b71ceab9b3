// Aggregation operators (sum, avg, topk, count_values, ...) over one step.
#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <string>

#include "promql/functions.h"
#include "promql/operators.h"
#include "storage/metrics_registry.h"

namespace vigil::promql {
namespace {

// Running state of one output group.
struct Group {
  Labels labels;
  double value = 0;
  double mean = 0;
  double count = 0;
  std::vector<double> values;    // quantile
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
  const double v = s.point.v;
  const bool first = g.count == 0;
  g.count += 1;
  switch (op) {
    case Op::kSum: g.value = first ? v : g.value + v; break;
    case Op::kAvg:
      if (first) {
        g.mean = v;
        break;
      }
      if (std::isinf(g.mean)) {
        if (std::isinf(v) && (g.mean > 0) == (v > 0)) break;
        if (!std::isinf(v) && !std::isnan(v)) break;
      }
      // Dividing each term by the count avoids overflow, as Prometheus does.
      g.mean += v / g.count - g.mean / g.count;
      break;
    case Op::kMin:
      if (first || g.value > v || std::isnan(g.value)) g.value = v;
      break;
    case Op::kMax:
      if (first || g.value < v || std::isnan(g.value)) g.value = v;
      break;
    case Op::kStddev:
    case Op::kStdvar: {
      if (first) {
        g.mean = v;
        g.value = 0;
        break;
      }
      const double delta = v - g.mean;
      g.mean += delta / g.count;
      g.value += delta * (v - g.mean);
      break;
    }
    case Op::kQuantile: g.values.push_back(v); break;
    case Op::kTopk:
    case Op::kBottomk: g.members.push_back(&s); break;
    default: break;  // count, group, count_values only count
  }
}

double Finish(Op op, Group& g, double param) {
  switch (op) {
    case Op::kAvg: return g.mean;
    case Op::kCount:
    case Op::kCountValues: return g.count;
    case Op::kGroup: return 1;
    case Op::kStdvar: return g.value / g.count;
    case Op::kStddev: return std::sqrt(g.value / g.count);
    case Op::kQuantile: return Quantile(param, g.values);
    default: return g.value;
  }
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

Result<Vector> ApplyAggregation(const Node& n, Vector input, const Value& param, int64_t ts) {
  const Op op = n.op;
  double k_or_q = 0;
  if (op == Op::kTopk || op == Op::kBottomk || op == Op::kQuantile) k_or_q = param.scalar.v;
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
  // Groups are found by a hash of the key's labels; the key itself is only
  // built once per group.
  std::unordered_map<uint64_t, std::vector<size_t>> index;
  std::vector<Group> groups;
  for (const auto& s : input) {
    std::vector<size_t>& candidates = index[KeyHash(s.metric, *grouping)];
    size_t g = groups.size();
    for (const size_t c : candidates) {
      if (KeyEquals(s.metric, groups[c].labels, *grouping)) g = c;
    }
    if (g == groups.size()) {
      candidates.push_back(g);
      groups.emplace_back();
      groups.back().labels = GroupingKey(s.metric, *grouping);
    }
    Accumulate(op, groups[g], s);
  }
  Vector out;
  for (auto& g : groups) {
    if (op == Op::kTopk || op == Op::kBottomk) {
      SelectK(op, g, k, ts, &out);
    } else {
      out.push_back(Sample{std::move(g.labels), Point{ts, Finish(op, g, k_or_q)}});
    }
  }
  return out;
}

}  // namespace vigil::promql
