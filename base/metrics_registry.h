// MetricsRegistry: one process-wide registry of Vigil's own metrics, exposed in
// the Prometheus text format on /metrics. Components register collectors that
// write their current figures when the page is rendered.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "base/labels.h"

namespace vigil {

// Writes metric families in the Prometheus text exposition format 0.0.4.
class MetricsWriter {
 public:
  // Starts a family: "# HELP" and "# TYPE" lines (type: counter, gauge, untyped, ...).
  void Family(std::string_view name, std::string_view type, std::string_view help);
  // One sample of the current family (labels may be empty).
  void Sample(std::string_view name, const Labels& labels, double value);
  void Sample(std::string_view name, double value) { Sample(name, Labels(), value); }
  const std::string& text() const { return out_; }

 private:
  std::string out_;
};

// Formats a float as the Prometheus text format does (Go's 'g' with shortest
// precision): "0.03", "20000", "4.384768e+07", "1e-05", "+Inf", "-Inf", "NaN".
std::string FormatFloat(double v);

class MetricsRegistry {
 public:
  using Collector = std::function<void(MetricsWriter&)>;

  static MetricsRegistry& Global();

  // Registers a collector; returns a handle for Remove().
  int Add(Collector collector);
  void Remove(int handle);
  // Renders every collector, in registration order.
  std::string Render() const;

 private:
  mutable std::mutex mu_;
  int next_ = 1;
  std::map<int, Collector> collectors_;
};

// Registers a collector for its lifetime (RAII).
class ScopedCollector {
 public:
  explicit ScopedCollector(MetricsRegistry::Collector c)
      : handle_(MetricsRegistry::Global().Add(std::move(c))) {}
  ~ScopedCollector() { MetricsRegistry::Global().Remove(handle_); }
  ScopedCollector(const ScopedCollector&) = delete;
  ScopedCollector& operator=(const ScopedCollector&) = delete;

 private:
  int handle_;
};

}  // namespace vigil
