#include "bench/target/exposition_cache.h"

#include <zlib.h>

namespace vigil::bench {
namespace {

// gzip with the fastest level: the servers pay for inflating, the target should
// spend as little as possible on deflating.
std::string Gzip(const std::string& text) {
  z_stream zs{};
  // windowBits 15 + 16 selects the gzip wrapper.
  if (deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return {};
  }
  std::string out(deflateBound(&zs, text.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  out.resize(rc == Z_STREAM_END ? zs.total_out : 0);
  deflateEnd(&zs);
  return out;
}

}  // namespace

std::string RenderExposition(const TargetSeries& series, int64_t step, double step_seconds) {
  std::string out;
  out.reserve(series.series.size() * 100);
  size_t family = 0;
  for (size_t i = 0; i < series.series.size(); ++i) {
    while (family < series.family_first.size() && series.family_first[family] == i) {
      out.append(series.type_lines[family++]);
    }
    const SeriesSpec& spec = series.series[i];
    out.append(spec.prefix);
    AppendValue(out, spec, SeriesValue(spec, step, step_seconds));
    out.push_back('\n');
  }
  return out;
}

TargetExposition::TargetExposition(const ModelOptions& options, int target, int64_t step_ms)
    : options_(options), target_(target), step_ms_(step_ms) {}

std::shared_ptr<const RenderedBody> TargetExposition::Get(int64_t now_ms, int64_t churn_period) {
  const int64_t step = now_ms / step_ms_;
  std::lock_guard<std::mutex> lock(mu_);
  if (step == step_ && churn_period == period_ && body_) return body_;
  if (churn_period != period_) {
    series_ = BuildTargetSeries(options_, target_, churn_period, "");
    period_ = churn_period;
  }
  auto body = std::make_shared<RenderedBody>();
  body->text = RenderExposition(series_, step, static_cast<double>(step_ms_) / 1000.0);
  body->gzip = Gzip(body->text);
  body_ = std::move(body);
  step_ = step;
  ++renders_;
  return body_;
}

int64_t TargetExposition::renders() const {
  std::lock_guard<std::mutex> lock(mu_);
  return renders_;
}

}  // namespace vigil::bench
