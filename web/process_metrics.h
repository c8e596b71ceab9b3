// ProcessMetrics: the process_* and build_info families Prometheus exposes
// about itself on /metrics (CPU, memory, file descriptors, start time,
// version), read from /proc when the page is rendered.
#pragma once

#include <memory>
#include <string_view>

#include "base/metrics_registry.h"
#include "web/server.h"

namespace vigil::web {

// The number after `key` in a /proc file of "key value" lines (/proc/stat's
// "btime", /proc/self/status's "Threads:"), or 0 when absent.
double ReadProcValue(const char* path, std::string_view key);

class ProcessMetrics {
 public:
  // Registers with MetricsRegistry::Global() until destroyed.
  explicit ProcessMetrics(BuildInfo build);

 private:
  void Collect(MetricsWriter& w) const;

  BuildInfo build_;
  double start_time_seconds_;
  ScopedCollector collector_;
};

}  // namespace vigil::web
