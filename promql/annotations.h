// Annotations: the warnings and infos a query's evaluation leaves next to its
// result, as Prometheus 2.48's util/annotations. Each is a message ("PromQL
// warning: ..." or "PromQL info: ...") about one expression of the query; a
// message is kept once. The query API lists them under "warnings" with the
// expression's line:column in the query appended, e.g.
// `PromQL warning: quantile value should be between 0 and 1, got 2 (1:10)`.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::promql {

class Annotations {
 public:
  // Adds `message` about the expression starting at byte `pos` of the query;
  // a message already added keeps its first position.
  void Add(std::string message, size_t pos);

  bool empty() const { return by_message_.empty(); }
  size_t size() const { return by_message_.size(); }

  // Each message followed by " (line:col)" of its position in `query`.
  std::vector<std::string> Format(std::string_view query) const;

 private:
  std::map<std::string, size_t> by_message_;
};

// The messages of Prometheus 2.48's annotations.
// "PromQL warning: quantile value should be between 0 and 1, got <q as %g>".
std::string InvalidQuantileWarning(double q);
// `PromQL warning: bucket label "le" is missing or has a malformed value of
// "<le>" for metric name "<name>"`.
std::string BadBucketLabelWarning(std::string_view metric_name, std::string_view le);
// `PromQL info: input to histogram_quantile needed to be fixed for
// monotonicity (and may give inaccurate results) for metric name "<name>"`.
std::string HistogramQuantileForcedMonotonicityInfo(std::string_view metric_name);

// Prometheus's PositionRange.StartPosInput: "line:col" of byte `pos` in
// `query` (both 1-based, the column counting bytes), "unknown position" for
// an empty query, "invalid position" past its end.
std::string StartPosInput(std::string_view query, size_t pos);

// The query API's list (AsStrings(query, 10)): at most `max` annotations,
// then "<n> more annotations omitted"; max 0: all.
std::vector<std::string> LimitAnnotations(std::vector<std::string> formatted, size_t max);

}  // namespace vigil::promql
