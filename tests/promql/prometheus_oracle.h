// PrometheusOracle: the reference Prometheus 2.42 (Debian's /usr/bin/prometheus)
// loaded with a given set of samples, for differential tests. The samples are
// written as OpenMetrics, turned into blocks with `promtool tsdb
// create-blocks-from openmetrics`, and served on a loopback port.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "promql/engine.h"
#include "base/status.h"

namespace vigil::promql::testing {

struct OracleSeries {
  Labels labels;
  std::vector<Point> points;  // increasing time
};

class PrometheusOracle {
 public:
  // Whether the prometheus and promtool binaries are installed.
  static bool Available();

  // Loads `series` and starts the server; kUnavailable when it cannot start.
  static Result<std::unique_ptr<PrometheusOracle>> Start(const std::vector<OracleSeries>& series);
  ~PrometheusOracle();

  // The query result as Vigil's Value, or the API error message as a status.
  Result<Value> InstantQuery(const std::string& query, int64_t ts_ms);
  Result<Value> RangeQuery(const std::string& query, int64_t start_ms, int64_t end_ms,
                           int64_t step_ms);
  // /api/v1/format_query's answer.
  Result<std::string> FormatQuery(const std::string& query);

 private:
  PrometheusOracle() = default;
  // The "data" member of a successful API response, else the error.
  Result<nlohmann::json> Post(const std::string& path,
                              const std::vector<std::pair<std::string, std::string>>& params);

  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace vigil::promql::testing
