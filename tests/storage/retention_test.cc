#include "storage/retention.h"

#include <gtest/gtest.h>

#include <map>
#include <utility>
#include <vector>

#include "base/clock.h"

namespace vigil::storage {
namespace {

constexpr int64_t kHour = 3600 * 1000;

// The store side of retention, in memory: partitions with their size and
// series. Retention's own tests need no RocksDB; Tsdb's retention tests
// (tsdb_test.cc) run the same passes against the real store.
class PartitionTable final : public RetentionStore {
 public:
  // Partitions first..last, each `bytes` large, holding `series`.
  void Fill(int64_t first, int64_t last, uint64_t bytes, const std::vector<Labels>& series) {
    for (int64_t p = first; p <= last; ++p) {
      bytes_[p] = bytes;
      for (size_t i = 0; i < series.size(); ++i) series_[p].emplace_back(i + 1, series[i]);
    }
  }

  std::vector<int64_t> Partitions() const override {
    std::vector<int64_t> out;
    for (const auto& [p, bytes] : bytes_) out.push_back(p);
    return out;
  }
  Status DropPartitions(int64_t first, int64_t last) override {
    bytes_.erase(bytes_.lower_bound(first), bytes_.upper_bound(last));
    series_.erase(series_.lower_bound(first), series_.upper_bound(last));
    return Status::OK();
  }
  uint64_t BytesOnDisk() const override {
    uint64_t total = 0;
    for (const auto& [p, bytes] : bytes_) total += bytes;
    return total;
  }
  Result<std::vector<std::pair<SeriesRef, Labels>>> SeriesInRange(int64_t mint, int64_t maxt) override {
    EXPECT_EQ(mint % kHour, 0);  // Retention asks for one whole partition
    EXPECT_EQ(maxt, mint + kHour - 1);
    ++series_reads_;
    return series_[mint / kHour];
  }
  Status DeleteSeriesInPartition(int64_t partition,
                                 const std::vector<std::pair<SeriesRef, Labels>>& series) override {
    for (const auto& victim : series) std::erase(series_[partition], victim);
    return Status::OK();
  }
  Status PersistRetention(int64_t retention_ms, int64_t retention_bytes) override {
    persisted_ = {retention_ms, retention_bytes};
    return Status::OK();
  }

  size_t SeriesIn(int64_t partition) { return series_[partition].size(); }
  int series_reads() const { return series_reads_; }
  std::pair<int64_t, int64_t> persisted() const { return persisted_; }

 private:
  std::map<int64_t, uint64_t> bytes_;
  std::map<int64_t, std::vector<std::pair<SeriesRef, Labels>>> series_;
  int series_reads_ = 0;
  std::pair<int64_t, int64_t> persisted_{-1, -1};
};

StorageOptions Limits(const Clock* clock, int64_t retention_ms, int64_t retention_bytes) {
  StorageOptions o;
  o.clock = clock;
  o.retention_ms = retention_ms;
  o.retention_bytes = retention_bytes;
  return o;
}

const Labels kShort{{"__name__", "short_lived"}};
const Labels kLong{{"__name__", "kept"}};

TEST(Retention, Time_DropsPartitionsEndingBeforeNewestMinusRetention) {
  ManualClock clock(50 * kHour);
  PartitionTable store;
  store.Fill(0, 9, 100, {kLong});
  Retention retention(Limits(&clock, 3 * kHour, 0), kHour, &store);
  ASSERT_TRUE(retention.Apply(10 * kHour - 1).ok());
  // Partition 5 ends at 6h - 1 ms, before 10h - 1 ms - 3h; partition 6 does not.
  EXPECT_EQ(store.Partitions(), (std::vector<int64_t>{6, 7, 8, 9}));
  EXPECT_EQ(retention.time_retentions(), 6u);
  EXPECT_EQ(retention.size_retentions(), 0u);
  EXPECT_EQ(retention.last_run_ms(), 50 * kHour);
}

TEST(Retention, Time_NeverDropsThePartitionOfTheNewestSample) {
  ManualClock clock(0);
  PartitionTable store;
  store.Fill(0, 0, 100, {kLong});
  Retention retention(Limits(&clock, 1, 0), kHour, &store);
  ASSERT_TRUE(retention.Apply(kHour - 1).ok());
  EXPECT_EQ(store.Partitions(), std::vector<int64_t>{0});
}

TEST(Retention, EmptyStore_PassOnlyRecordsItsClockTime) {
  ManualClock clock(1000);
  PartitionTable store;
  Retention retention(Limits(&clock, kHour, 1), kHour, &store);
  ASSERT_TRUE(retention.Apply(kMinTime).ok());
  EXPECT_EQ(retention.last_run_ms(), 1000);
  clock.Advance(kHour);
  store.Fill(0, 3, 100, {kLong});
  ASSERT_TRUE(retention.Apply(kMinTime).ok());  // no sample time yet: nothing is measured
  EXPECT_EQ(store.Partitions().size(), 4u);
  EXPECT_EQ(retention.last_run_ms(), 1000 + kHour);
}

TEST(Retention, Size_DropsOldestPartitionsUntilUnderTheLimitButKeepsTheNewest) {
  ManualClock clock(0);
  PartitionTable store;
  store.Fill(0, 4, 100, {kLong});
  Retention retention(Limits(&clock, 0, 250), kHour, &store);
  ASSERT_TRUE(retention.Apply(5 * kHour - 1).ok());
  EXPECT_EQ(store.Partitions(), (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(retention.size_retentions(), 3u);
  ASSERT_TRUE(retention.Set(0, 1).ok());
  ASSERT_TRUE(retention.Apply(5 * kHour - 1).ok());
  EXPECT_EQ(store.Partitions(), std::vector<int64_t>{4});
  EXPECT_EQ(retention.size_retentions(), 4u);
}

TEST(Retention, Rules_RemoveMatchingSeriesBeforeThePartitionGoesAndVisitEachPartitionOnce) {
  ManualClock clock(0);
  PartitionTable store;
  store.Fill(0, 5, 100, {kShort, kLong});
  StorageOptions options = Limits(&clock, 4 * kHour, 0);
  options.retention_rules.push_back(
      {"{__name__=\"short_lived\"}",
       {LabelMatcher::Make(MatchType::kEqual, "__name__", "short_lived").value()},
       kHour});
  Retention retention(options, kHour, &store);
  const int64_t newest = 6 * kHour - 1;
  ASSERT_TRUE(retention.Apply(newest).ok());
  // Partition 0 ends before newest - 4h (every retention expired it): dropped whole.
  EXPECT_EQ(store.Partitions(), (std::vector<int64_t>{1, 2, 3, 4, 5}));
  // Partitions 1..3 end before newest - 1h: the short-lived series left them.
  for (const int64_t p : {1, 2, 3}) EXPECT_EQ(store.SeriesIn(p), 1u) << "partition " << p;
  for (const int64_t p : {4, 5}) EXPECT_EQ(store.SeriesIn(p), 2u) << "partition " << p;
  EXPECT_EQ(retention.rule_deletions(), 3u);
  const int reads = store.series_reads();
  ASSERT_TRUE(retention.Apply(newest).ok());  // nothing newly expired: no partition is read again
  EXPECT_EQ(store.series_reads(), reads);
  EXPECT_EQ(retention.rule_deletions(), 3u);
}

TEST(Retention, Set_PersistsThroughTheStoreAndOverridesTheFlags) {
  ManualClock clock(0);
  PartitionTable store;
  Retention retention(Limits(&clock, kHour, 0), kHour, &store);
  EXPECT_FALSE(retention.Get().from_runtime);
  EXPECT_FALSE(retention.Set(-1, 0).ok());
  EXPECT_EQ(store.persisted(), std::make_pair(int64_t{-1}, int64_t{-1}));  // nothing persisted
  ASSERT_TRUE(retention.Set(2 * kHour, 1 << 20).ok());
  EXPECT_EQ(store.persisted(), std::make_pair(2 * kHour, int64_t{1} << 20));
  const RetentionSettings got = retention.Get();
  EXPECT_EQ(got.retention_ms, 2 * kHour);
  EXPECT_EQ(got.retention_bytes, 1 << 20);
  EXPECT_TRUE(got.from_runtime);
}

}  // namespace
}  // namespace vigil::storage
