#include "remote/queue_metrics.h"

#include <string>
#include <utility>

namespace vigil::remote {

void EwmaRate::Tick(double events, double seconds) {
  if (seconds <= 0) return;
  const double instant = events / seconds;
  if (init_) {
    rate_ += alpha_ * (instant - rate_);
  } else if (events > 0) {
    init_ = true;
    rate_ = instant;
  }
}

void LastSendError::Set(std::string message, int64_t at_ms) {
  std::lock_guard lock(mu_);
  entry_ = {std::move(message), at_ms};
}

LastSendError::Entry LastSendError::Get() const {
  std::lock_guard lock(mu_);
  return entry_;
}

void DurationHistogram::Observe(double seconds) {
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++counts_[i];
  }
  ++count_;
  sum_ += seconds;
}

void DurationHistogram::Write(MetricsWriter& w, std::string_view name, const Labels& labels) const {
  std::lock_guard lock(mu_);
  const std::string base(name);
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    LabelsBuilder b(labels);
    b.Set("le", FormatFloat(kBuckets[i]));
    w.Sample(base + "_bucket", b.Build(), static_cast<double>(counts_[i]));
  }
  LabelsBuilder inf(labels);
  inf.Set("le", "+Inf");
  w.Sample(base + "_bucket", inf.Build(), static_cast<double>(count_));
  w.Sample(base + "_sum", labels, sum_);
  w.Sample(base + "_count", labels, static_cast<double>(count_));
}

}  // namespace vigil::remote
