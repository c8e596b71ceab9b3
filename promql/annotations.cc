#include "promql/annotations.h"

#include <utility>

#include "base/metrics_registry.h"
#include "base/quote.h"

namespace vigil::promql {

void Annotations::Add(std::string message, size_t pos) {
  by_message_.emplace(std::move(message), pos);
}

std::vector<std::string> Annotations::Format(std::string_view query) const {
  std::vector<std::string> out;
  out.reserve(by_message_.size());
  for (const auto& [message, pos] : by_message_) {
    out.push_back(message + " (" + StartPosInput(query, pos) + ")");
  }
  return out;
}

std::string InvalidQuantileWarning(double q) {
  return "PromQL warning: quantile value should be between 0 and 1, got " + FormatFloat(q);
}

std::string BadBucketLabelWarning(std::string_view metric_name, std::string_view le) {
  return "PromQL warning: bucket label \"le\" is missing or has a malformed value of " +
         GoQuote(le) + " for metric name " + GoQuote(metric_name);
}

std::string HistogramQuantileForcedMonotonicityInfo(std::string_view metric_name) {
  return "PromQL info: input to histogram_quantile needed to be fixed for monotonicity (and may "
         "give inaccurate results) for metric name " +
         GoQuote(metric_name);
}

std::string StartPosInput(std::string_view query, size_t pos) {
  if (query.empty()) return "unknown position";
  if (pos > query.size()) return "invalid position";
  size_t line = 1;
  size_t line_start = 0;  // the byte after the last line break
  for (size_t i = 0; i < pos; ++i) {
    if (query[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return std::to_string(line) + ":" + std::to_string(pos - line_start + 1);
}

std::vector<std::string> LimitAnnotations(std::vector<std::string> formatted, size_t max) {
  if (max == 0 || formatted.size() <= max) return formatted;
  const size_t omitted = formatted.size() - max;
  formatted.resize(max);
  formatted.push_back(std::to_string(omitted) + " more annotations omitted");
  return formatted;
}

}  // namespace vigil::promql
