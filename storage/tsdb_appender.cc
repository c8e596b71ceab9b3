// The append path: resolve the series, check ordering, stage; Commit writes
// one WAL record and applies the batch to the head. A sample appended by a
// known ref needs no labels: Append(ref, {}, t, v) fails with kNotFound only
// when the head no longer holds that ref.
#include <atomic>
#include <mutex>
#include <optional>

#include "base/duration.h"
#include "base/logger.h"
#include "storage/tsdb.h"

namespace vigil::storage {

// Prometheus 2.42 rejects samples older than half a head chunk range (1h)
// behind the newest sample as out of bounds; AppendHistorical takes those.
inline constexpr int64_t kAppendableWindowMs = 3600 * 1000;

class Tsdb::TsdbAppender final : public Appender {
 public:
  explicit TsdbAppender(Tsdb* db) : db_(db) {}
  ~TsdbAppender() override = default;

  Result<SeriesRef> Append(SeriesRef ref, const Labels& labels, int64_t t, double v) override {
    if (db_->writes_blocked()) return db_->Writable();
    // Registered before the first lookup: the series staged in this batch
    // stay allocated until Commit or Rollback even if head GC removes them.
    if (!guard_) guard_.emplace(db_->head_);
    MemSeries* s = ref != 0 ? db_->head_.Find(ref) : nullptr;
    if (!s && labels.empty() && ref != 0) {
      // A caller that trusted the ref (the scrape cache keeps no labels)
      // resolves the labels again and retries with them.
      return Status::NotFound("series ref " + std::to_string(ref) + " is not in the head");
    }
    if (!s) {
      bool created = false;
      auto found = db_->GetOrCreateSeries(labels, &created);
      if (!found.ok()) return found.status();
      s = found.value().get();
    }
    if (now_ == kMinTime) now_ = db_->options_.clock->NowMillis();  // one clock read per batch
    VIGIL_RETURN_IF_ERROR(db_->CheckNotInFuture(s->labels, t, now_));
    const int64_t newest = std::min(db_->counters_.max_time.load(std::memory_order_relaxed), now_);
    if (newest != kMinTime && t < newest - kAppendableWindowMs) {
      ++db_->counters_.out_of_bounds;
      return Status(StatusCode::kOutOfBounds, "out of bounds: sample older than the appendable window");
    }
    switch (Head::CheckUnlocked(*s, t, v)) {
      case AppendOutcome::kOutOfOrder:
        ++db_->counters_.out_of_order;
        return Status(StatusCode::kOutOfOrder, "out of order sample");
      case AppendOutcome::kDuplicate:
        ++db_->counters_.duplicates;
        return Status(StatusCode::kDuplicateSample, "duplicate sample for timestamp");
      case AppendOutcome::kSameSample:
        return s->ref;
      case AppendOutcome::kAppended:
        break;
    }
    samples_.push_back({s->ref, t, v});
    series_.push_back(s);
    return samples_.back().ref;
  }

  Status Commit() override {
    const Status s = db_->CommitBatch(samples_, series_);
    Rollback();
    return s;
  }

  void Rollback() override {
    samples_.clear();
    series_.clear();
    guard_.reset();
  }

 private:
  Tsdb* db_;
  int64_t now_ = kMinTime;  // clock at the first Append of the batch
  std::vector<WalSample> samples_;
  std::vector<MemSeries*> series_;  // parallel to samples_; kept alive by guard_
  std::optional<Head::ReadGuard> guard_;  // from the first Append to Commit/Rollback
};

int64_t Tsdb::NewestForRetention() const {
  const int64_t newest = counters_.max_time.load();
  if (newest == kMinTime) return newest;
  return std::min(newest, options_.clock->NowMillis());
}

Status Tsdb::CheckNotInFuture(const CompactLabels& labels, int64_t t, int64_t now) {
  const int64_t ahead = options_.max_time_ahead_ms;
  if (ahead <= 0 || t <= now + ahead) return Status::OK();
  return CheckNotInFuture(labels.ToLabels(), t, now);
}

Status Tsdb::CheckNotInFuture(const Labels& labels, int64_t t, int64_t now) {
  const int64_t ahead = options_.max_time_ahead_ms;
  if (ahead <= 0 || t <= now + ahead) return Status::OK();
  ++counters_.too_far_in_future;
  ++counters_.out_of_bounds;
  std::string message = std::string(kTooFarInFutureText) + ": sample of series " + labels.ToString() +
                        " at " + std::to_string(t) + " is more than " + FormatDuration(ahead) +
                        " ahead of the clock (" + std::to_string(now) +
                        "; --storage.tsdb.max-time-ahead)";
  // One line per 10 s at most: a target with a skewed clock refuses every sample.
  static std::atomic<int64_t> last_logged{kMinTime};
  int64_t prev = last_logged.load();
  if (now - prev >= 10000 && last_logged.compare_exchange_strong(prev, now)) {
    VLOG_WARN("Sample refused: timestamp too far in the future (further ones logged every 10s)",
              {{"series", labels.ToString()}, {"timestamp", std::to_string(t)},
               {"max_time_ahead", FormatDuration(ahead)},
               {"refused_total", std::to_string(counters_.too_far_in_future.load())}});
  }
  return Status(StatusCode::kOutOfBounds, std::move(message));
}

std::unique_ptr<Appender> Tsdb::NewAppender() { return std::make_unique<TsdbAppender>(this); }

}  // namespace vigil::storage
