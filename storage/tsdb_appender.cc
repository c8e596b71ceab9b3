// The append path: resolve the series, check ordering, stage; Commit writes
// one WAL record and applies the batch to the head. A sample appended by a
// known ref needs no labels: Append(ref, {}, t, v) fails with kNotFound only
// when the head no longer holds that ref.
#include <mutex>

#include "storage/tsdb.h"

namespace vigil::storage {

// Prometheus 2.42 rejects samples older than half a head chunk range (1h)
// behind the newest sample as out of bounds; AppendHistorical takes those.
inline constexpr int64_t kAppendableWindowMs = 3600 * 1000;

class TsdbAppender final : public Appender {
 public:
  explicit TsdbAppender(Tsdb* db) : db_(db) {}
  ~TsdbAppender() override = default;

  Result<SeriesRef> Append(SeriesRef ref, const Labels& labels, int64_t t, double v) override {
    std::shared_ptr<MemSeries> s = ref != 0 ? db_->head_.ByRef(ref) : nullptr;
    if (!s && labels.empty() && ref != 0) {
      // A caller that trusted the ref (the scrape cache keeps no labels)
      // resolves the labels again and retries with them.
      return Status::NotFound("series ref " + std::to_string(ref) + " is not in the head");
    }
    if (!s) {
      bool created = false;
      auto found = db_->GetOrCreateSeries(labels, &created);
      if (!found.ok()) return found.status();
      s = std::move(found.value());
    }
    const int64_t newest = db_->max_time_.load(std::memory_order_relaxed);
    if (newest != kMinTime && t < newest - kAppendableWindowMs) {
      ++db_->out_of_bounds_;
      return Status(StatusCode::kOutOfBounds, "out of bounds: sample older than the appendable window");
    }
    AppendOutcome outcome;
    {
      std::lock_guard lock(s->mu);
      outcome = Head::Check(*s, t, v);
    }
    switch (outcome) {
      case AppendOutcome::kOutOfOrder:
        ++db_->out_of_order_;
        return Status(StatusCode::kOutOfOrder, "out of order sample");
      case AppendOutcome::kDuplicate:
        ++db_->duplicates_;
        return Status(StatusCode::kDuplicateSample, "duplicate sample for timestamp");
      case AppendOutcome::kSameSample:
        return s->ref;
      case AppendOutcome::kAppended:
        break;
    }
    samples_.push_back({s->ref, t, v});
    series_.push_back(std::move(s));
    return samples_.back().ref;
  }

  Status Commit() override {
    const Status s = db_->CommitBatch(samples_, series_);
    samples_.clear();
    series_.clear();
    return s;
  }

  void Rollback() override {
    samples_.clear();
    series_.clear();
  }

 private:
  Tsdb* db_;
  std::vector<WalSample> samples_;
  std::vector<std::shared_ptr<MemSeries>> series_;  // parallel to samples_
};

std::unique_ptr<Appender> Tsdb::NewAppender() { return std::make_unique<TsdbAppender>(this); }

}  // namespace vigil::storage
