// The synthetic series population served by bench_target and written by its
// OpenMetrics dataset mode. Both paths share this model so that the scraped
// scenarios and the imported 24-hour dataset hold the same kind of data.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vigil::bench {

// Which families the scalable part of a target is made of.
enum class ModelShape {
  // Units of 25 node-like series with a pod label (node_cpu, network, disk,
  // filesystem, a 7-bucket histogram).
  kInventory,
  // Units of 50 series per pod shaped like a Kubernetes cluster's: node-exporter
  // (cpu, filesystem, hwmon, interrupts), kube-state-metrics (pod phase, info,
  // container restarts/readiness/requests) and an HTTP server's requests counter and
  // classic duration histogram; 2-4 labels each. Churn replaces pods, so it touches
  // the 38 kube-state and HTTP series of a unit and leaves its node series alone.
  kKube,
};

// What one synthetic target looks like; every value is derived from these.
struct ModelOptions {
  uint64_t seed = 42;
  ModelShape shape = ModelShape::kInventory;
  int series_per_target = 5000;
  // Fraction of the scalable series replaced at each churn event (0 = no churn).
  double churn_fraction = 0.0;
};

// How a sample value evolves from one step to the next.
enum class ValueKind {
  kCounter,         // monotonically increasing, integer increments
  kCounterSeconds,  // monotonically increasing, two decimals (node_cpu_seconds_total)
  kGauge,           // wanders around a base value, integer
  kGaugeFraction,   // wanders around a base value, two decimals
  kBucket,          // cumulative histogram bucket: floor(count * cdf)
  kHistogramSum,    // histogram _sum: count * mean latency
};

// One series of one target: its exposition prefix ("name{labels} ") and the
// parameters that make its values deterministic.
struct SeriesSpec {
  std::string prefix;  // rendered "name{label=\"v\",...} " (trailing space included)
  ValueKind kind = ValueKind::kGauge;
  double base = 0;    // value at step 0 (counters) or centre (gauges)
  double rate = 0;    // counter increase per second, gauge amplitude
  double cdf = 1;     // bucket: share of observations at or below its le
  uint64_t hash = 0;  // per-series seed for jitter
};

// One target's series, grouped by metric family with its # TYPE line, so the
// exposition is valid for strict parsers (families contiguous, histograms whole).
struct TargetSeries {
  std::vector<std::string> type_lines;  // "# TYPE name kind\n", one per family, in order
  std::vector<size_t> family_first;     // index of the first series of each family
  std::vector<SeriesSpec> series;
};

// Builds the series of target `target` at churn `period` (number of churn events
// so far). `extra_labels` is rendered first inside the braces, e.g.
// `instance="host-1:9100",job="bench",` for the dataset mode, or empty when the
// scraper adds job/instance itself.
TargetSeries BuildTargetSeries(const ModelOptions& options, int target, int64_t period,
                               const std::string& extra_labels);

// The value of `spec` at time step `step` (step = timestamp / step length);
// counter rates are per second, so the step length in seconds scales them.
double SeriesValue(const SeriesSpec& spec, int64_t step, double step_seconds);

// Appends `value` formatted as an exporter would print it (integers for byte and
// request counts, two decimals for seconds and loads).
void AppendValue(std::string& out, const SeriesSpec& spec, double value);

}  // namespace vigil::bench
