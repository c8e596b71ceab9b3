#include "tests/promql/result_diff.h"

#include <algorithm>
#include <cmath>

#include "base/metrics_registry.h"

namespace vigil::promql::testing {

bool CloseEnough(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (a == b) return true;
  const double diff = std::fabs(a - b);
  // 1e-9 relative; values within 1e-12 of zero compare absolutely (cancellation noise).
  return diff <= 1e-9 * std::max(std::fabs(a), std::fabs(b)) || diff <= 1e-12;
}

static std::string Show(const Vector& v) {
  std::string out;
  for (const auto& s : v) out += "\n      " + s.metric.ToString() + " " + FormatFloat(s.point.v);
  return out;
}
static std::string Show(const Matrix& m) {
  std::string out;
  for (const auto& s : m) {
    out += "\n      " + s.metric.ToString() + " (" + std::to_string(s.points.size()) + " points)";
  }
  return out;
}

std::string DiffResults(const Value& vigil, const Value& prom, bool ordered) {
  if (vigil.type != prom.type) {
    return std::string("type ") + ValueTypeName(vigil.type) + " vs " + ValueTypeName(prom.type);
  }
  switch (vigil.type) {
    case ValueType::kScalar:
      return CloseEnough(vigil.scalar.v, prom.scalar.v)
                 ? ""
                 : "scalar " + FormatFloat(vigil.scalar.v) + " vs " + FormatFloat(prom.scalar.v);
    case ValueType::kString: return vigil.string == prom.string ? "" : "string differs";
    case ValueType::kVector: {
      Vector a = vigil.vector, b = prom.vector;
      if (ordered) {
        for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
          if (!CloseEnough(a[i].point.v, b[i].point.v)) return "order differs:" + Show(a) + "\n   vs" + Show(b);
        }
      }
      auto by_labels = [](const Sample& x, const Sample& y) { return x.metric < y.metric; };
      std::sort(a.begin(), a.end(), by_labels);
      std::sort(b.begin(), b.end(), by_labels);
      bool same = a.size() == b.size();
      for (size_t i = 0; same && i < a.size(); ++i) {
        same = a[i].metric == b[i].metric && CloseEnough(a[i].point.v, b[i].point.v) && a[i].point.t == b[i].point.t;
      }
      return same ? "" : "vigil:" + Show(a) + "\n    prometheus:" + Show(b);
    }
    case ValueType::kMatrix: {
      Matrix a = vigil.matrix, b = prom.matrix;
      auto by_labels = [](const Series& x, const Series& y) { return x.metric < y.metric; };
      std::sort(a.begin(), a.end(), by_labels);
      std::sort(b.begin(), b.end(), by_labels);
      if (a.size() != b.size()) return "vigil:" + Show(a) + "\n    prometheus:" + Show(b);
      for (size_t i = 0; i < a.size(); ++i) {
        if (a[i].metric != b[i].metric) return "labels " + a[i].metric.ToString() + " vs " + b[i].metric.ToString();
        if (a[i].points.size() != b[i].points.size()) {
          return a[i].metric.ToString() + ": " + std::to_string(a[i].points.size()) + " vs " +
                 std::to_string(b[i].points.size()) + " points";
        }
        for (size_t j = 0; j < a[i].points.size(); ++j) {
          const Point& p = a[i].points[j];
          const Point& q = b[i].points[j];
          if (p.t != q.t || !CloseEnough(p.v, q.v)) {
            return a[i].metric.ToString() + " at " + std::to_string(p.t) + ": " + FormatFloat(p.v) + "@" +
                   std::to_string(p.t) + " vs " + FormatFloat(q.v) + "@" + std::to_string(q.t);
          }
        }
      }
      return "";
    }
    case ValueType::kNone: return "";
  }
  return "";
}

bool IsOrderedQuery(const std::string& q) {
  return q.starts_with("sort(") || q.starts_with("sort_desc(");
}

bool Atan2KeepsNameIn242(const std::string& q) { return q.find("atan2") != std::string::npos; }

Result<Value> As248Answer(const std::string& q, Result<Value> oracle_answer) {
  if (!oracle_answer.ok() || !Atan2KeepsNameIn242(q)) return oracle_answer;
  for (auto& s : oracle_answer->vector) s.metric = s.metric.WithoutMetricName();
  for (auto& s : oracle_answer->matrix) s.metric = s.metric.WithoutMetricName();
  return oracle_answer;
}

}  // namespace vigil::promql::testing
