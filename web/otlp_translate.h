// OTLP metrics in, Prometheus series out (format: docs/format/otlp.md):
// decodes an OTLP/HTTP protobuf ExportMetricsServiceRequest (opentelemetry-proto v1,
// metrics_service.proto) and translates it the way Prometheus 2.48's otlptranslator does for
// `--enable-feature=otlp-write-receiver`:
//  - names: OTel name split on non-alphanumerics, the unit appended ("By" ->
//    "bytes", "ms" -> "milliseconds", "1/s" -> "per_second", ...), `_total`
//    for monotonic sums, `_ratio` for gauges of unit "1", `_` before a leading
//    digit; histograms add `_bucket{le}`, `_sum`, `_count`; summaries
//    `{quantile}`, `_sum`, `_count`;
//  - labels: the data point's attributes (non-alphanumerics to `_`, `key_`
//    before a leading digit, colliding names joined with ";"); `job` from
//    service.namespace/service.name, `instance` from service.instance.id;
//  - one `target_info` series per resource with its other attributes (value 1,
//    at the resource's newest data point), when it has any;
//  - delta sums and histograms are skipped with an error, as are exponential
//    histograms (Vigil has no native histograms; Prometheus stores them as such);
//  - timestamps from nanoseconds to milliseconds; "no recorded value" data
//    points become staleness markers.
// Letters and digits beyond ASCII are told apart by glibc's C.UTF-8 tables
// where Go uses its unicode package; a name keeping one is then not a valid
// Prometheus name and its series is skipped, as in Prometheus.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/labels.h"
#include "base/status.h"

namespace vigil::web {

struct OtlpSeries {
  std::vector<Label> labels;                        // sorted by name; __name__ included
  std::vector<std::pair<int64_t, double>> samples;  // (timestamp ms, value), in arrival order
};

struct OtlpTranslation {
  std::vector<OtlpSeries> series;
  // Metrics skipped, as otlptranslator reports them ("invalid temporality and
  // type combination for metric \"x\"", ...).
  std::vector<std::string> errors;
};

// Fails only on undecodable protobuf.
Result<OtlpTranslation> TranslateOtlpMetrics(std::string_view request);

// OTLP/JSON (Content-Type: application/json) re-encoded as the protobuf
// request TranslateOtlpMetrics reads (web/otlp_json.cc).
Result<std::string> OtlpJsonToProtobuf(std::string_view request);

// The Prometheus name of an OTel metric (exposed for tests). `type` is one of
// "Gauge", "Sum", "Histogram", "Summary".
std::string OtlpPrometheusName(std::string_view name, std::string_view unit, std::string_view type,
                               bool monotonic);
// The Prometheus label name of an OTel attribute key.
std::string OtlpLabelName(std::string_view key);

}  // namespace vigil::web
