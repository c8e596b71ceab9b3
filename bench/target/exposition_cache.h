// Pre-rendered exposition bodies for one synthetic target. Values change once per
// step, so every scrape within a step (from any number of servers) is served from
// the same rendered text and gzip bytes: the target does not become the bottleneck.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "bench/target/series_model.h"

namespace vigil::bench {

// One rendered scrape body, shared read-only between concurrent responses.
struct RenderedBody {
  std::string text;  // Prometheus text format 0.0.4
  std::string gzip;  // the same bytes, gzip-compressed
};

// Renders `series` at `step` in the Prometheus text format.
std::string RenderExposition(const TargetSeries& series, int64_t step, double step_seconds);

// Thread-safe cache of the current body of one target.
class TargetExposition {
 public:
  TargetExposition(const ModelOptions& options, int target, int64_t step_ms);

  // The body for wall time `now_ms` after `churn_period` churn events; re-renders
  // only when the step or the churn period changed since the last call.
  std::shared_ptr<const RenderedBody> Get(int64_t now_ms, int64_t churn_period);

  // Number of renders so far (to check the cache works).
  int64_t renders() const;

 private:
  const ModelOptions options_;
  const int target_;
  const int64_t step_ms_;
  mutable std::mutex mu_;
  int64_t step_ = -1;
  int64_t period_ = -1;
  int64_t renders_ = 0;
  TargetSeries series_;
  std::shared_ptr<const RenderedBody> body_;
};

}  // namespace vigil::bench
