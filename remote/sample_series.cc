#include "remote/sample_series.h"

#include <algorithm>
#include <map>

namespace vigil::remote {
namespace {

class SampleIterator final : public storage::SeriesIterator {
 public:
  explicit SampleIterator(const std::vector<Sample>& samples) : samples_(samples) {}

  bool Next() override { return ++pos_ < samples_.size(); }
  bool Seek(int64_t t) override {
    if (pos_ == kBefore) pos_ = 0;
    while (pos_ < samples_.size() && samples_[pos_].t < t) ++pos_;
    return pos_ < samples_.size();
  }
  Sample At() const override { return samples_[pos_]; }

 private:
  static constexpr size_t kBefore = static_cast<size_t>(-1);
  const std::vector<Sample>& samples_;
  size_t pos_ = kBefore;  // Next() wraps it to 0
};

}  // namespace

std::unique_ptr<storage::SeriesIterator> SampleSeries::Iterator() const {
  return std::make_unique<SampleIterator>(samples_);
}

std::vector<Sample> MergeSamples(const std::vector<std::vector<Sample>>& lists) {
  std::map<int64_t, double> by_time;
  for (const auto& list : lists) {
    for (const auto& s : list) by_time.emplace(s.t, s.v);  // the first one stays
  }
  std::vector<Sample> out;
  out.reserve(by_time.size());
  for (const auto& [t, v] : by_time) out.push_back({t, v});
  return out;
}

Result<std::vector<Sample>> ReadAll(const storage::Series& series) {
  std::vector<Sample> out;
  auto it = series.Iterator();
  while (it->Next()) out.push_back(it->At());
  if (!it->status().ok()) return it->status();
  return out;
}

}  // namespace vigil::remote
