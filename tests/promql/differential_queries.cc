#include "tests/promql/differential_queries.h"

#include <random>

namespace vigil::promql::testing {
namespace {

const std::vector<std::string> kCounters = {
    "inventory_requests_total",
    "inventory_requests_total{status=~\"4..|5..\"}",
    "test_counter{job=\"api\"}",
    "node_cpu_seconds_total{mode=\"idle\"}",
    "inventory_cache_hits_total",
};
const std::vector<std::string> kGauges = {
    "test_gauge",
    "gappy_gauge",
    "special_values",
    "inventory_items_total",
    "node_memory_MemAvailable_bytes",
};
const std::vector<std::string> kRangeFunctions = {
    "rate", "irate", "increase", "delta", "idelta", "deriv", "changes", "resets",
    "avg_over_time", "min_over_time", "max_over_time", "sum_over_time", "count_over_time",
    "last_over_time", "present_over_time", "stddev_over_time", "stdvar_over_time",
    "absent_over_time",
};
const std::vector<std::string> kMathFunctions = {
    "abs", "ceil", "floor", "exp", "sqrt", "ln", "log2", "log10", "sgn", "round", "sin", "cos",
    "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "deg", "rad",
    "timestamp", "day_of_month", "day_of_week", "day_of_year", "days_in_month", "hour", "minute",
    "month", "year",
};

}  // namespace

const std::vector<std::string>& MathFunctionNames() { return kMathFunctions; }
const std::vector<std::string>& RangeFunctionNames() { return kRangeFunctions; }

std::vector<std::string> DifferentialQueries() {
  std::vector<std::string> q;
  // Range-vector functions over counters and gauges, two ranges each.
  for (const auto& f : kRangeFunctions) {
    for (const auto& s : {kCounters[0], kCounters[2], kGauges[0], kGauges[1], kGauges[2]}) {
      for (const char* r : {"[1m]", "[5m]"}) q.push_back(f + "(" + s + r + ")");
    }
  }
  for (const auto& f : kMathFunctions) {
    q.push_back(f + "(test_gauge)");
    q.push_back(f + "(special_values)");
  }
  for (const char* f : {"day_of_month", "day_of_week", "day_of_year", "days_in_month", "hour",
                        "minute", "month", "year"}) {
    q.push_back(std::string(f) + "()");
    q.push_back(std::string(f) + "(test_gauge * 1e7)");
  }
  const std::vector<std::string> fixed = {
      // The seed dashboard.
      "sum by (endpoint)(rate(inventory_requests_total[5m]))",
      "histogram_quantile(0.95, sum by (le)(rate(inventory_request_duration_seconds_bucket[5m])))",
      "histogram_quantile(0.5, sum by (le)(rate(inventory_request_duration_seconds_bucket[5m])))",
      "sum(rate(inventory_requests_total{status=~\"4..|5..\"}[5m])) / sum(rate(inventory_requests_total[5m])) * 100",
      "sum(rate(inventory_requests_total{status=~\"4..|5..\"}[5m]))",
      "rate(inventory_cache_hits_total[5m])",
      "rate(inventory_cache_misses_total[5m])",
      "100 - avg(rate(node_cpu_seconds_total{mode=\"idle\"}[5m]))*100",
      "node_memory_MemTotal_bytes - node_memory_MemAvailable_bytes",
      "node_memory_MemTotal_bytes",
      "inventory_items_total",
      "inventory_db_errors_total",
      // Selectors and modifiers.
      "inventory_requests_total{method=\"GET\", endpoint!=\"/metrics\"}",
      "inventory_requests_total{endpoint=~\"/api/.*\", status!~\"2..\"}",
      "{__name__=~\"inventory_cache_.*\"}",
      "{__name__=\"test_gauge\", zone=\"a\"}",
      "test_gauge offset 5m",
      "test_gauge offset -3m",
      "test_gauge @ 1600001000",
      "test_gauge @ 1600001000 offset 2m",
      "test_gauge @ start()",
      "test_gauge @ end()",
      "rate(test_counter[5m] @ 1600002000)",
      "rate(test_counter[5m] offset 10m)",
      "rate(test_counter[5m] @ end() offset 1m)",
      "gappy_gauge",
      "test_gauge[2m]",
      "test_gauge[2m] offset 1m",
      "test_gauge[5m:1m]",
      "rate(test_counter[5m])[10m:2m]",
      "max_over_time(rate(test_counter[5m])[30m:1m])",
      "max_over_time(rate(test_counter[5m])[30m:])",
      "avg_over_time(test_gauge[10m:30s] offset 5m)",
      "min_over_time(sum by (job) (test_gauge)[15m:45s])",
      "sum_over_time(test_gauge[10m:1m] @ 1600001800)",
      "rate(inventory_requests_total[5m:30s])",
      "deriv(test_gauge[10m:1m])",
      "last_over_time(test_gauge[20m:7s])",
      "count_over_time(gappy_gauge[30m:1m])",
      "max_over_time(max_over_time(test_gauge[5m:1m])[20m:2m])",
      // Other functions.
      "predict_linear(test_gauge[10m], 600)",
      "predict_linear(test_counter[5m], 3600)",
      "holt_winters(test_gauge[10m], 0.3, 0.6)",
      "holt_winters(test_gauge[10m], 0.9, 0.1)",
      "quantile_over_time(0.5, test_gauge[10m])",
      "quantile_over_time(0.95, test_gauge[10m])",
      "quantile_over_time(0, test_gauge[10m])",
      "quantile_over_time(1.5, test_gauge[10m])",
      "clamp(test_gauge, 0, 50)",
      "clamp(test_gauge, 50, 0)",
      "clamp_max(test_gauge, 20)",
      "clamp_min(test_gauge, 20)",
      "clamp_max(special_values, 1)",
      "round(test_gauge, 5)",
      "round(test_gauge, 0.3)",
      "scalar(inventory_items_total)",
      "scalar(test_gauge)",
      "vector(1)",
      "vector(time())",
      "time()",
      "pi()",
      "sort(test_gauge)",
      "sort_desc(test_gauge)",
      "sort(rate(test_counter[5m]))",
      "absent(nonexistent)",
      "absent(nonexistent{job=\"x\", a=~\"b\"})",
      "absent(test_gauge)",
      "absent_over_time(nonexistent{job=\"x\"}[5m])",
      "label_replace(test_gauge, \"host\", \"$1\", \"instance\", \"host(.*)\")",
      "label_replace(test_gauge, \"instance\", \"\", \"instance\", \".*\")",
      "label_replace(test_gauge, \"foo\", \"$1-$2\", \"instance\", \"(h)(o).*\")",
      "label_replace(test_gauge, \"foo\", \"${1}x$1x\", \"instance\", \"(host)1.*\")",
      "label_join(test_gauge, \"joined\", \"-\", \"instance\", \"job\", \"zone\")",
      "label_join(test_gauge, \"job\", \"\", \"zone\")",
      "histogram_quantile(0.9, rate(inventory_request_duration_seconds_bucket[5m]))",
      "histogram_quantile(0, rate(inventory_request_duration_seconds_bucket[5m]))",
      "histogram_quantile(1, rate(inventory_request_duration_seconds_bucket[5m]))",
      "histogram_quantile(-1, rate(inventory_request_duration_seconds_bucket[5m]))",
      "histogram_quantile(2, rate(inventory_request_duration_seconds_bucket[5m]))",
      "histogram_quantile(0.99, inventory_request_duration_seconds_bucket)",
      "histogram_quantile(0.5, sum by (le, method) (rate(inventory_request_duration_seconds_bucket[10m])))",
      "rate(inventory_request_duration_seconds_sum[5m]) / rate(inventory_request_duration_seconds_count[5m])",
      // Aggregations.
      "sum(test_gauge)", "avg(test_gauge)", "min(test_gauge)", "max(test_gauge)",
      "count(test_gauge)", "group(test_gauge)", "stddev(test_gauge)", "stdvar(test_gauge)",
      "sum by (job) (test_gauge)", "avg by (job, zone) (test_gauge)",
      "min without (instance) (test_gauge)", "max without (instance, zone) (test_gauge)",
      "count by (zone) (test_gauge)", "group by (job) (test_gauge)",
      "stddev by (job) (test_gauge)", "stdvar without (instance) (test_gauge)",
      "sum(test_gauge) by (job)", "sum by (__name__) (test_gauge)", "sum without () (test_gauge)",
      "sum by () (test_gauge)", "count by (nonexistent) (test_gauge)",
      "topk(3, test_gauge)", "bottomk(3, test_gauge)", "topk by (job) (2, test_gauge)",
      "bottomk without (instance) (1, test_gauge)", "topk(0, test_gauge)", "topk(1000, test_gauge)",
      "topk(2.7, test_gauge)", "topk(scalar(inventory_items_total) / 100, test_gauge)",
      "quantile(0.5, test_gauge)", "quantile by (job) (0.9, test_gauge)", "quantile(-1, test_gauge)",
      "quantile(2, test_gauge)", "quantile(0.25, special_values)",
      "count_values(\"value\", round(test_gauge / 10))",
      "count_values by (job) (\"v\", round(test_gauge / 20))",
      "count_values without (instance) (\"v\", round(test_gauge / 20))",
      "count_values(\"job\", round(test_gauge / 40))",
      "sum(special_values)", "avg(special_values)", "max(special_values)", "min(special_values)",
      "stddev(special_values)", "sum(rate(test_counter[5m])) by (job)",
      "avg(avg_over_time(test_gauge[5m])) by (zone)",
      // Binary operators.
      "test_gauge + 1", "1 - test_gauge", "test_gauge * 2", "test_gauge / 0", "0 / test_gauge",
      "test_gauge % 7", "-7 % test_gauge", "test_gauge ^ 2", "2 ^ test_gauge", "test_gauge atan2 1",
      "1 atan2 test_gauge", "-test_gauge", "+test_gauge", "- -test_gauge",
      "test_gauge > 20", "20 < test_gauge", "test_gauge >= bool 20", "20 >= bool test_gauge",
      "test_gauge == 0", "test_gauge != bool 0", "test_gauge <= 10", "test_gauge < bool 10",
      "1 + 2 * 3", "(1 + 2) * 3", "2 ^ 3 ^ 2", "-2 ^ 2", "1 == bool 1", "2 > bool 1", "1 < bool NaN",
      "NaN", "Inf", "-Inf", "0x1F", "1e3", ".5", "5 % 3", "-5 % 3", "5 atan2 3",
      "test_gauge + test_gauge", "test_gauge - test_gauge offset 1m",
      "test_counter / test_gauge",
      "test_counter > test_gauge", "test_counter > bool test_gauge",
      "sum by (job) (test_gauge) / on (job) group_left sum by (job, zone) (test_gauge)",
      "sum by (job, zone) (test_gauge) / on (job) group_left sum by (job) (test_gauge)",
      "sum by (job) (test_gauge) + on (job) group_right sum by (job, zone) (test_gauge)",
      "test_gauge * on (instance, job, zone) group_left (foo) label_replace(test_counter, \"foo\", \"bar\", \"job\", \".*\")",
      "sum by (job, zone) (test_gauge) / ignoring (zone) group_left sum by (job) (test_gauge)",
      "test_gauge / ignoring (zone) test_counter",
      "test_gauge + on (instance, job, zone) test_counter",
      "sum by (job) (test_gauge) * on () group_left sum(test_gauge)",
      "node_cpu_seconds_total / on (instance) group_left node_memory_MemTotal_bytes",
      "node_cpu_seconds_total / ignoring (cpu, mode) group_left node_memory_MemTotal_bytes",
      "test_gauge and test_counter", "test_gauge and on (job) test_counter{zone=\"a\"}",
      "test_gauge or test_counter", "test_gauge{zone=\"a\"} or test_gauge{job=\"api\"}",
      "test_gauge unless test_gauge{zone=\"a\"}", "test_gauge unless on (job) test_counter{job=\"db\"}",
      "test_gauge and ignoring (zone) test_counter", "(test_gauge > 50) or (test_gauge < -20)",
      "test_gauge > 50 or test_gauge < -20 and test_counter",
      "sum(test_gauge) > bool 1000", "count(test_gauge > 0) / count(test_gauge)",
      "test_gauge > 10 < 60", "test_gauge * -1 > -20",
      "sum(rate(test_counter[5m])) / sum(rate(test_counter[5m] offset 5m))",
      "time() - timestamp(test_gauge)", "timestamp(test_gauge offset 2m)", "timestamp(rate(test_counter[5m]))",
      "timestamp(gappy_gauge)", "scalar(sum(test_gauge)) * test_gauge", "test_gauge + time()",
      "test_gauge and vector(1)", "vector(1) + on () group_left test_gauge",
      // Errors both sides must agree on.
      "test_gauge + on (job) test_counter",
      "test_gauge * on (job) group_left test_counter",
      "sum by (job) (test_gauge) + on (job) group_left test_counter",
      "{__name__=~\"test_.*\"} + 1",
      "abs({__name__=~\"test_gauge|test_counter\"})",
      "holt_winters(test_gauge[5m], 1, 0.5)",
      "holt_winters(test_gauge[5m], 0.5, 0)",
      "label_replace(test_gauge, \"1bad\", \"x\", \"job\", \".*\")",
      "label_replace(test_gauge, \"a\", \"x\", \"job\", \"(\")",
      "count_values(\"1bad\", test_gauge)",
      "rate(test_gauge)", "sum(test_gauge[5m])", "test_gauge[5m] + 1", "1 > 2", "foo{",
      "test_gauge and 1", "unknown_fn(test_gauge)", "rate(test_counter[5m])[5m]",
  };
  q.insert(q.end(), fixed.begin(), fixed.end());
  return q;
}

namespace {

class RandomQueryBuilder {
 public:
  explicit RandomQueryBuilder(uint32_t seed) : rng_(seed) {}

  std::string Vector(int depth) {
    const int choice = depth <= 0 ? Pick(3) : Pick(9);
    switch (choice) {
      case 0: return Pick(kGauges);
      case 1: return Pick(kCounters);
      case 2: return Pick(kRangeFunctions.size() - 1) % 2 == 0
                         ? Pick(kRangeFunctions) + "(" + Pick(kCounters) + "[" + Range() + "])"
                         : "rate(" + Pick(kCounters) + "[" + Range() + "])";
      case 3: return Pick(kMathFunctions) + "(" + Vector(depth - 1) + ")";
      case 4: return Aggregation(depth);
      case 5: return Vector(depth - 1) + " " + Pick(kArith) + " " + Scalar();
      case 6: return Vector(depth - 1) + " " + Pick(kCompare) + " " + Scalar();
      case 7:
        return "sum by (job) (" + Vector(depth - 1) + ") " + Pick(kArith) + " sum by (job) (" +
               Vector(depth - 1) + ")";
      default:
        return Pick(kRangeFunctions) + "(" + Vector(depth - 1) + "[" + Range() + ":" + Step() + "])";
    }
  }

 private:
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Pick(v.size())];
  }
  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  std::string Range() { return Pick(kRanges); }
  std::string Step() { return Pick(kSteps); }
  std::string Scalar() { return Pick(kScalars); }
  std::string Aggregation(int depth) {
    const std::string inner = Vector(depth - 1);
    const std::string& op = Pick(kAggregations);
    const std::string grouping = Pick(kGroupings);
    if (op == "quantile") return op + grouping + "(0.3, " + inner + ")";
    return op + grouping + "(" + inner + ")";
  }

  std::mt19937 rng_;
  const std::vector<std::string> kRanges = {"1m", "2m", "5m", "10m"};
  const std::vector<std::string> kSteps = {"", "30s", "1m", "45s"};
  const std::vector<std::string> kScalars = {"0", "1", "2.5", "-3", "100", "NaN", "time()",
                                             "scalar(inventory_items_total)"};
  const std::vector<std::string> kArith = {"+", "-", "*", "/", "%", "^"};
  const std::vector<std::string> kCompare = {">", "<", ">=", "<=", "==", "!=", "> bool", "< bool"};
  // No topk/bottomk: on ties Prometheus's choice depends on Go map iteration
  // order (random); the fixed list covers them on tie-free data.
  const std::vector<std::string> kAggregations = {"sum",    "avg",    "min",   "max",     "count",
                                                  "stddev", "stdvar", "group", "quantile"};
  const std::vector<std::string> kGroupings = {" ", " by (job) ", " without (instance) ", " by (zone, job) "};
};

}  // namespace

std::vector<std::string> RandomQueries(uint32_t seed, int n) {
  RandomQueryBuilder builder(seed);
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(builder.Vector(3));
  return out;
}

}  // namespace vigil::promql::testing
