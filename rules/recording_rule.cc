#include "rules/recording_rule.h"

#include <set>
#include <utility>

namespace vigil::rules {

Result<std::vector<promql::Sample>> RecordingRule::Eval(const EvalContext& ctx, int64_t t_ms) {
  auto vec = ctx.query(spec().expr, t_ms);
  if (!vec.ok()) return vec.status();
  std::set<Labels> seen;
  std::vector<promql::Sample> samples;
  for (auto& s : *vec) {
    LabelsBuilder b(s.metric);
    b.Set(kMetricNameLabel, spec().name);
    for (const auto& l : spec().labels) b.Set(l.name, l.value);
    Labels labels = b.Build();
    if (!seen.insert(labels).second) {
      return Status::InvalidArgument(
          "vector contains metrics with the same labelset after applying rule labels");
    }
    samples.push_back({std::move(labels), {t_ms, s.point.v}});
  }
  if (ctx.limit > 0 && static_cast<int64_t>(samples.size()) > ctx.limit) {
    return Status::InvalidArgument("exceeded limit of " + std::to_string(ctx.limit) + " with " +
                                   std::to_string(samples.size()) + " series");
  }
  return samples;
}

}  // namespace vigil::rules
