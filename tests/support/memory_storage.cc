#include "tests/support/memory_storage.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <mutex>
#include <set>

namespace vigil::storage {



namespace {

class VectorIterator final : public SeriesIterator {
 public:
  explicit VectorIterator(std::shared_ptr<const std::vector<Sample>> samples)
      : samples_(std::move(samples)) {}
  bool Next() override { return ++pos_ < static_cast<ptrdiff_t>(samples_->size()); }
  bool Seek(int64_t t) override {
    if (pos_ < 0) pos_ = 0;
    while (pos_ < static_cast<ptrdiff_t>(samples_->size()) && (*samples_)[pos_].t < t) ++pos_;
    return pos_ < static_cast<ptrdiff_t>(samples_->size());
  }
  Sample At() const override { return (*samples_)[pos_]; }

 private:
  std::shared_ptr<const std::vector<Sample>> samples_;
  ptrdiff_t pos_ = -1;
};

class VectorSeries final : public Series {
 public:
  VectorSeries(Labels labels, std::vector<Sample> samples)
      : labels_(std::move(labels)),
        samples_(std::make_shared<const std::vector<Sample>>(std::move(samples))) {}
  const Labels& labels() const override { return labels_; }
  std::unique_ptr<SeriesIterator> Iterator() const override {
    return std::make_unique<VectorIterator>(samples_);
  }

 private:
  Labels labels_;
  std::shared_ptr<const std::vector<Sample>> samples_;
};

bool SameBits(double a, double b) {
  return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b);
}

}  // namespace

class MemoryAppender final : public Appender {
 public:
  explicit MemoryAppender(MemoryStorage* s) : s_(s) {}
  Result<SeriesRef> Append(SeriesRef, const Labels& labels, int64_t t, double v) override {
    if (labels.empty()) return Status::InvalidArgument("empty label set");
    staged_.push_back({labels, {t, v}});
    return SeriesRef{labels.Hash() | 1};
  }
  Status Commit() override {
    std::unique_lock lock(s_->mu_);
    for (const auto& [labels, sample] : staged_) {
      (void)s_->AppendLocked(labels, sample.t, sample.v);
    }
    staged_.clear();
    return Status::OK();
  }
  void Rollback() override { staged_.clear(); }

 private:
  MemoryStorage* s_;
  std::vector<std::pair<Labels, Sample>> staged_;
};

class MemoryQuerier final : public Querier {
 public:
  explicit MemoryQuerier(const MemoryStorage* s) : s_(s) {}

  Result<SeriesList> Select(int64_t mint, int64_t maxt,
                            const LabelMatchers& matchers) const override {
    VIGIL_RETURN_IF_ERROR(ValidateSelectorMatchers(matchers));
    SeriesList out;
    std::shared_lock lock(s_->mu_);
    for (const auto& [labels, samples] : s_->series_) {
      if (!MatchesAll(matchers, labels)) continue;
      std::vector<Sample> in_range;
      for (const auto& smp : samples) {
        if (smp.t >= mint && smp.t <= maxt) in_range.push_back(smp);
      }
      if (in_range.empty()) continue;
      out.push_back(std::make_shared<VectorSeries>(labels, std::move(in_range)));
    }
    return out;
  }

  Result<std::vector<std::string>> LabelNames(int64_t mint, int64_t maxt,
                                              const LabelMatchers& matchers) const override {
    std::set<std::string> names;
    ForEachSeries(mint, maxt, matchers, [&](const Labels& ls) {
      for (const auto& l : ls) names.insert(l.name);
    });
    return std::vector<std::string>(names.begin(), names.end());
  }

  Result<std::vector<std::string>> LabelValues(std::string_view name, int64_t mint, int64_t maxt,
                                               const LabelMatchers& matchers) const override {
    std::set<std::string> values;
    ForEachSeries(mint, maxt, matchers, [&](const Labels& ls) {
      if (ls.Has(name)) values.insert(std::string(ls.Get(name)));
    });
    return std::vector<std::string>(values.begin(), values.end());
  }

 private:
  template <typename Fn>
  void ForEachSeries(int64_t mint, int64_t maxt, const LabelMatchers& matchers, Fn fn) const {
    std::shared_lock lock(s_->mu_);
    for (const auto& [labels, samples] : s_->series_) {
      if (!MatchesAll(matchers, labels)) continue;
      bool any = std::any_of(samples.begin(), samples.end(),
                             [&](const Sample& smp) { return smp.t >= mint && smp.t <= maxt; });
      if (any) fn(labels);
    }
  }

  const MemoryStorage* s_;
};

std::unique_ptr<Appender> MemoryStorage::NewAppender() {
  return std::make_unique<MemoryAppender>(this);
}

Result<std::unique_ptr<Querier>> MemoryStorage::NewQuerier() {
  return std::unique_ptr<Querier>(std::make_unique<MemoryQuerier>(this));
}

Status MemoryStorage::AddSample(const Labels& labels, int64_t t, double v) {
  std::unique_lock lock(mu_);
  return AppendLocked(labels, t, v);
}

Status MemoryStorage::AppendLocked(const Labels& labels, int64_t t, double v) {
  auto& samples = series_[labels];
  if (!samples.empty()) {
    const Sample& last = samples.back();
    if (t < last.t) {
      ++out_of_order_;
      return Status(StatusCode::kOutOfOrder, "out of order sample");
    }
    if (t == last.t) {
      if (SameBits(v, last.v)) return Status::OK();
      ++duplicates_;
      return Status(StatusCode::kDuplicateSample, "duplicate sample for timestamp");
    }
  }
  samples.push_back({t, v});
  ++samples_appended_;
  return Status::OK();
}

StorageStats MemoryStorage::Stats(size_t limit) const {
  std::shared_lock lock(mu_);
  StorageStats st;
  st.num_series = series_.size();
  st.samples_appended = samples_appended_;
  st.out_of_order_samples = out_of_order_;
  st.duplicate_samples = duplicates_;
  std::map<std::string, uint64_t> by_metric;
  bool first = true;
  for (const auto& [labels, samples] : series_) {
    ++by_metric[std::string(labels.MetricName())];
    if (samples.empty()) continue;
    st.min_time = first ? samples.front().t : std::min(st.min_time, samples.front().t);
    st.max_time = first ? samples.back().t : std::max(st.max_time, samples.back().t);
    first = false;
  }
  for (const auto& [name, count] : by_metric) st.series_count_by_metric_name.push_back({name, count});
  std::sort(st.series_count_by_metric_name.begin(), st.series_count_by_metric_name.end(),
            [](const CountByName& a, const CountByName& b) { return a.count > b.count; });
  if (st.series_count_by_metric_name.size() > limit) st.series_count_by_metric_name.resize(limit);
  return st;
}

Status MemoryStorage::DeleteSeries(const LabelMatchers& matchers, int64_t mint, int64_t maxt) {
  std::unique_lock lock(mu_);
  for (auto it = series_.begin(); it != series_.end();) {
    if (MatchesAll(matchers, it->first)) {
      std::erase_if(it->second, [&](const Sample& s) { return s.t >= mint && s.t <= maxt; });
    }
    it = it->second.empty() ? series_.erase(it) : std::next(it);
  }
  return Status::OK();
}

Status MemoryStorage::Snapshot(const std::string&, bool) {
  return Status::InvalidArgument("the in-memory store cannot take snapshots");
}

}  // namespace vigil::storage
