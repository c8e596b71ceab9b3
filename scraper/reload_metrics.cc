// The config reload figures on /metrics, as Prometheus names them.
#include <atomic>
#include <memory>

#include "scraper/manager.h"
#include "storage/metrics_registry.h"

namespace vigil::scraper {
namespace {

struct ReloadMetrics {
  std::atomic<bool> success{false};
  std::atomic<int64_t> success_ms{0};
  ScopedCollector collector{[this](MetricsWriter& w) {
    w.Family("prometheus_config_last_reload_successful", "gauge",
             "Whether the last configuration reload attempt was successful.");
    w.Sample("prometheus_config_last_reload_successful", success.load() ? 1 : 0);
    w.Family("prometheus_config_last_reload_success_timestamp_seconds", "gauge",
             "Timestamp of the last successful configuration reload.");
    w.Sample("prometheus_config_last_reload_success_timestamp_seconds",
             static_cast<double>(success_ms.load() / 1000));
  }};
};

ReloadMetrics& Metrics() {
  static ReloadMetrics metrics;
  return metrics;
}

}  // namespace

void RecordConfigReload(bool success, int64_t now_ms) {
  ReloadMetrics& m = Metrics();
  m.success.store(success);
  if (success) m.success_ms.store(now_ms);
}

}  // namespace vigil::scraper
