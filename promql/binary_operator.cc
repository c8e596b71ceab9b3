// Binary operators with Prometheus's vector matching rules.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>

#include "promql/functions.h"
#include "promql/operators.h"

namespace vigil::promql {
namespace {

bool IsOddInt(double x) {
  if (std::fabs(x) >= 9007199254740992.0) return false;  // 2^53: all even
  double integral;
  return std::modf(x, &integral) == 0 && std::fmod(integral, 2) != 0;
}

// Go's math.Pow, which Prometheus uses: integer powers by repeated squaring
// (not glibc's correctly rounded pow), so results agree to the last bit,
// which matters once `%` or a comparison follows.
double GoPow(double x, double y) {
  if (y == 0 || x == 1) return 1;
  if (y == 1) return x;
  if (std::isnan(x) || std::isnan(y)) return NAN;
  if (x == 0) {
    if (y < 0) return std::signbit(x) && IsOddInt(y) ? -INFINITY : INFINITY;
    return std::signbit(x) && IsOddInt(y) ? x : 0;
  }
  if (std::isinf(y)) {
    if (x == -1) return 1;
    return (std::fabs(x) < 1) == (y > 0) ? 0 : INFINITY;
  }
  if (std::isinf(x)) {
    if (x < 0) return GoPow(1 / x, -y);
    return y < 0 ? 0 : INFINITY;
  }
  if (y == 0.5) return std::sqrt(x);
  if (y == -0.5) return 1 / std::sqrt(x);
  double yi;
  double yf = std::modf(std::fabs(y), &yi);
  if (yf != 0 && x < 0) return NAN;
  if (yi >= 9223372036854775808.0) {
    if (x == -1) return 1;
    return (std::fabs(x) < 1) == (y > 0) ? 0 : INFINITY;
  }
  double a1 = 1.0;
  int ae = 0;
  if (yf != 0) {
    if (yf > 0.5) {
      yf -= 1;
      yi += 1;
    }
    a1 = std::exp(yf * std::log(x));
  }
  int xe = 0;
  double x1 = std::frexp(x, &xe);
  for (int64_t i = static_cast<int64_t>(yi); i != 0; i >>= 1) {
    if (xe < -(1 << 12) || (1 << 12) < xe) {
      ae += xe;  // catastrophic overflow or underflow: ldexp handles it
      break;
    }
    if ((i & 1) == 1) {
      a1 *= x1;
      ae += xe;
    }
    x1 *= x1;
    xe <<= 1;
    if (x1 < 0.5) {
      x1 += x1;
      --xe;
    }
  }
  if (y < 0) {
    a1 = 1 / a1;
    ae = -ae;
  }
  return std::ldexp(a1, ae);
}

struct ElemResult {
  double value;
  bool keep;
};

ElemResult ElemBinop(Op op, double l, double r) {
  switch (op) {
    case Op::kAdd: return {l + r, true};
    case Op::kSub: return {l - r, true};
    case Op::kMul: return {l * r, true};
    case Op::kDiv: return {l / r, true};
    case Op::kPow: return {GoPow(l, r), true};
    case Op::kMod: return {std::fmod(l, r), true};
    case Op::kAtan2: return {std::atan2(l, r), true};
    case Op::kEql: return {l, l == r};
    case Op::kNeq: return {l, l != r};
    case Op::kGtr: return {l, l > r};
    case Op::kLss: return {l, l < r};
    case Op::kGte: return {l, l >= r};
    case Op::kLte: return {l, l <= r};
    default: return {NAN, false};
  }
}

// Arithmetic changes a metric's meaning, so the result loses its name
// (Prometheus 2.42 keeps it for atan2).
// Arithmetic changes a metric's meaning. atan2 is arithmetic too since
// Prometheus 2.48 (2.42 kept the name).
bool DropsMetricName(Op op) {
  return op == Op::kAdd || op == Op::kSub || op == Op::kMul || op == Op::kDiv ||
         op == Op::kMod || op == Op::kPow || op == Op::kAtan2;
}

// The labels two samples are matched on.
Labels Signature(const Labels& l, const VectorMatching& m) {
  if (m.on) return l.Filter(m.labels, true);
  std::vector<std::string> drop = m.labels;
  drop.emplace_back(kMetricNameLabel);
  return l.Filter(drop, false);
}

Value VectorValue(Vector v) {
  Value out;
  out.type = ValueType::kVector;
  out.vector = std::move(v);
  return out;
}

Vector SetOperation(const Node& n, Vector lhs, Vector rhs, int64_t ts) {
  Vector out;
  if (n.op == Op::kOr) {
    std::set<Labels> left;
    for (auto& s : lhs) {
      left.insert(Signature(s.metric, n.matching));
      out.push_back(std::move(s));
    }
    for (auto& s : rhs) {
      if (!left.contains(Signature(s.metric, n.matching))) out.push_back(std::move(s));
    }
  } else {
    std::set<Labels> right;
    for (const auto& s : rhs) right.insert(Signature(s.metric, n.matching));
    const bool want_match = n.op == Op::kAnd;
    for (auto& s : lhs) {
      if (right.contains(Signature(s.metric, n.matching)) == want_match) out.push_back(std::move(s));
    }
  }
  for (auto& s : out) s.point.t = ts;
  return out;
}

Labels ResultMetric(const Labels& lhs, const Labels& rhs, const Node& n) {
  LabelsBuilder b(lhs);
  if (DropsMetricName(n.op)) b.Del(kMetricNameLabel);
  const VectorMatching& m = n.matching;
  if (m.card == Cardinality::kOneToOne) {
    if (m.on) {
      for (const auto& l : lhs) {
        if (std::find(m.labels.begin(), m.labels.end(), l.name) == m.labels.end()) b.Del(l.name);
      }
    } else {
      for (const auto& l : m.labels) b.Del(l);
    }
  }
  for (const auto& l : m.include) {
    const std::string_view v = rhs.Get(l);
    if (v.empty()) {
      b.Del(l);
    } else {
      b.Set(l, v);
    }
  }
  return b.Build();
}

Result<Vector> VectorBinop(const Node& n, Vector lhs, Vector rhs, int64_t ts) {
  const VectorMatching& m = n.matching;
  if (lhs.empty() || rhs.empty()) return Vector{};
  const bool swapped = m.card == Cardinality::kOneToMany;
  if (swapped) std::swap(lhs, rhs);
  // The right side is the "one" side: its signatures must be unique.
  std::map<Labels, const Sample*> right;
  for (const auto& s : rhs) {
    auto [it, inserted] = right.emplace(Signature(s.metric, m), &s);
    if (!inserted) {
      return Status::Execution("found duplicate series for the match group " + it->first.ToString() +
                               " on the " + (swapped ? "left" : "right") +
                               " hand-side of the operation: [" + s.metric.ToString() + ", " +
                               it->second->metric.ToString() +
                               "];many-to-many matching not allowed: matching labels must be "
                               "unique on one side");
    }
  }
  std::map<Labels, std::set<Labels>> matched;
  Vector out;
  for (const auto& ls : lhs) {
    Labels sig = Signature(ls.metric, m);
    auto it = right.find(sig);
    if (it == right.end()) continue;
    const Sample& rs = *it->second;
    double vl = ls.point.v, vr = rs.point.v;
    if (swapped) std::swap(vl, vr);
    auto [value, keep] = ElemBinop(n.op, vl, vr);
    if (n.return_bool) {
      value = keep ? 1.0 : 0.0;
    } else if (!keep) {
      continue;
    }
    Labels metric = ResultMetric(ls.metric, rs.metric, n);
    if (n.return_bool) metric = DropMetricName(metric);
    auto [mit, first] = matched.try_emplace(std::move(sig));
    if (m.card == Cardinality::kOneToOne) {
      if (!first) {
        return Status::Execution(
            "multiple matches for labels: many-to-one matching must be explicit "
            "(group_left/group_right)");
      }
    } else if (!mit->second.insert(metric).second) {
      return Status::Execution("multiple matches for labels: grouping labels must ensure unique matches");
    }
    out.push_back(Sample{std::move(metric), Point{ts, value}});
  }
  return out;
}

Vector VectorScalarBinop(const Node& n, Vector vec, double scalar, bool scalar_on_left,
                         int64_t ts) {
  Vector out;
  out.reserve(vec.size());
  for (auto& s : vec) {
    double l = s.point.v, r = scalar;
    if (scalar_on_left) std::swap(l, r);
    auto [value, keep] = ElemBinop(n.op, l, r);
    // A comparison keeps the vector's value even when the scalar is on the left.
    if (IsComparisonOp(n.op) && scalar_on_left) value = r;
    if (n.return_bool) {
      value = keep ? 1.0 : 0.0;
      keep = true;
    }
    if (!keep) continue;
    if (DropsMetricName(n.op) || n.return_bool) s.metric = DropMetricName(s.metric);
    s.point = Point{ts, value};
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

Result<Value> ApplyBinary(const Node& n, Value lhs, Value rhs, int64_t ts) {
  const bool ls = lhs.type == ValueType::kScalar, rs = rhs.type == ValueType::kScalar;
  if (ls && rs) {
    auto [value, keep] = ElemBinop(n.op, lhs.scalar.v, rhs.scalar.v);
    Value out;
    out.type = ValueType::kScalar;
    out.scalar = Point{ts, IsComparisonOp(n.op) ? (keep ? 1.0 : 0.0) : value};
    return out;
  }
  if (ls) return VectorValue(VectorScalarBinop(n, std::move(rhs.vector), lhs.scalar.v, true, ts));
  if (rs) return VectorValue(VectorScalarBinop(n, std::move(lhs.vector), rhs.scalar.v, false, ts));
  if (IsSetOp(n.op)) return VectorValue(SetOperation(n, std::move(lhs.vector), std::move(rhs.vector), ts));
  auto v = VectorBinop(n, std::move(lhs.vector), std::move(rhs.vector), ts);
  if (!v.ok()) return v.status();
  return VectorValue(std::move(*v));
}

Status CheckUniqueLabelsets(const Vector& v) {
  if (v.size() < 2) return Status::OK();
  std::vector<std::pair<uint64_t, const Labels*>> hashes;
  hashes.reserve(v.size());
  for (const auto& s : v) hashes.emplace_back(s.metric.Hash(), &s.metric);
  std::sort(hashes.begin(), hashes.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 1; i < hashes.size(); ++i) {
    if (hashes[i].first != hashes[i - 1].first) continue;
    for (size_t j = i; j > 0 && hashes[j - 1].first == hashes[i].first; --j) {
      if (*hashes[j - 1].second == *hashes[i].second) {
        return Status::Execution("vector cannot contain metrics with the same labelset");
      }
    }
  }
  return Status::OK();
}

Status RangeCollisionCheck::Record(const Labels& output, const Labels& input) {
  const auto [it, inserted] = inputs_.try_emplace(output.Hash(), input.Hash());
  if (!inserted && it->second != input.Hash()) {
    return Status::Execution("vector cannot contain metrics with the same labelset");
  }
  return Status::OK();
}

Status RangeCollisionCheck::RecordCall(const Vector& out,
                                       const std::vector<const Labels*>& inputs) {
  if (out.empty()) return Status::OK();
  std::unordered_map<uint64_t, const Labels*> by_output;  // input by its labels without name
  by_output.reserve(inputs.size() * 2);
  for (const Labels* in : inputs) {
    by_output.emplace(DropMetricName(*in).Hash(), in);
    by_output.emplace(in->Hash(), in);  // functions keeping the name (last_over_time)
  }
  for (const auto& s : out) {
    const auto it = by_output.find(s.metric.Hash());
    if (it != by_output.end()) VIGIL_RETURN_IF_ERROR(Record(s.metric, *it->second));
  }
  return Status::OK();
}

}  // namespace vigil::promql
