// Runtime retention (persisted, overriding the flags), retention status
// figures and the offline inspector, on a real RocksDB store with an
// injected clock.
#include <gtest/gtest.h>

#include <bit>

#include "base/duration.h"
#include "storage/tsdb.h"
#include "storage/tsdb_inspect.h"
#include "tests/storage/temp_dir.h"
#include "tests/storage/tsdb_test_util.h"

namespace vigil::storage {
namespace {

using testing::Eq;
using testing::ReadAll;
using testing::SmallTuning;
using testing::TempDir;

constexpr int64_t kHour = 3600 * 1000;

const Labels kNode{{"__name__", "node_cpu_seconds_total"}, {"cpu", "0"}};
const Labels kInventory{{"__name__", "inventory_items_total"}};

StorageOptions Options(const std::string& path, const Clock* clock, int64_t retention_ms) {
  StorageOptions o;
  o.path = path;
  o.clock = clock;
  o.retention_ms = retention_ms;
  o.wal_sync = WalSyncPolicy::kNever;
  return o;
}

std::unique_ptr<Tsdb> Open(const std::string& path, const Clock* clock, int64_t retention_ms) {
  TsdbTuning tuning = SmallTuning();
  tuning.background = false;  // the test runs retention itself
  auto db = Tsdb::Open(Options(path, clock, retention_ms), tuning);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return db.ok() ? std::move(db).value() : nullptr;
}

// `hours` hours of one sample a minute for both series; values are unique.
void Fill(Tsdb& db, int hours) {
  for (int64_t t = 0; t < hours * kHour; t += 60'000) {
    auto app = db.NewAppender();
    ASSERT_TRUE(app->Append(0, kNode, t, static_cast<double>(t) / 7).ok());
    ASSERT_TRUE(app->Append(0, kInventory, t, static_cast<double>(t) * 3).ok());
    ASSERT_TRUE(app->Commit().ok());
  }
  ASSERT_TRUE(db.FlushClosedChunks().ok());
}

// Every sample a series must still have: minute steps from `from` to `to`.
std::vector<Sample> Expected(int64_t from, int64_t to, double scale_num, double scale_den) {
  std::vector<Sample> out;
  for (int64_t t = from; t <= to; t += 60'000)
    out.push_back({t, static_cast<double>(t) * scale_num / scale_den});
  return out;
}

TEST(RetentionDuration, WholeDaysPrintAsDaysOtherPeriodsAsPrometheusDurations) {
  EXPECT_EQ(FormatRetentionDuration(45 * 24 * kHour), "45d");
  EXPECT_EQ(FormatRetentionDuration(90 * 60'000), "1h30m");
  EXPECT_EQ(FormatRetentionDuration(0), "0s");
}

TEST(RuntimeRetention, StartsFromFlagsThenPersistedValueOverridesFlagsAfterRestart) {
  TempDir dir;
  ManualClock clock(24 * kHour);  // "now" is after every sample (time sanity refuses future ones)
  {
    auto db = Open(dir.path(), &clock, 30 * 24 * kHour);
    EXPECT_FALSE(db->GetRetention().from_runtime);
    EXPECT_EQ(db->GetRetention().retention_ms, 30 * 24 * kHour);
    ASSERT_TRUE(db->SetRetention(3 * kHour, 5 << 20).ok());
    EXPECT_TRUE(db->GetRetention().from_runtime);
    ASSERT_TRUE(db->Close().ok());
  }
  auto db = Open(dir.path(), &clock, 30 * 24 * kHour);  // the flags still say 30d
  const RetentionSettings r = db->GetRetention();
  EXPECT_TRUE(r.from_runtime);
  EXPECT_EQ(r.retention_ms, 3 * kHour);
  EXPECT_EQ(r.retention_bytes, 5 << 20);
}

TEST(RuntimeRetention, RestartedStoreAppliesPersistedLimitExactly) {
  TempDir dir;
  ManualClock clock(24 * kHour);  // "now" is after every sample (time sanity refuses future ones)
  {
    auto db = Open(dir.path(), &clock, 0);
    Fill(*db, 10);
    ASSERT_TRUE(db->SetRetention(3 * kHour, 0).ok());
    ASSERT_TRUE(db->Close().ok());
  }
  auto db = Open(dir.path(), &clock, 0);  // flags: no retention at all
  ASSERT_TRUE(db->ApplyRetention().ok());
  const int64_t newest = 10 * kHour - 60'000;
  // Partitions that ended more than 3h before the newest sample are gone;
  // the partition holding newest-3h and everything after it stay, bit-exact.
  const int64_t first_kept = (newest - 3 * kHour) / kHour * kHour;
  const auto node = ReadAll(*db, {Eq("__name__", "node_cpu_seconds_total")});
  const auto inv = ReadAll(*db, {Eq("__name__", "inventory_items_total")});
  ASSERT_EQ(node.size(), 1u);
  ASSERT_EQ(inv.size(), 1u);
  EXPECT_TRUE(testing::SameSamples(node.at(kNode), Expected(first_kept, newest, 1, 7)));
  EXPECT_TRUE(testing::SameSamples(inv.at(kInventory), Expected(first_kept, newest, 3, 1)));
}

TEST(RuntimeRetention, SizeLimitSetAtRuntimeDropsOldestPartitionsAndKeepsTheRestExactly) {
  TempDir dir;
  ManualClock clock(24 * kHour);  // "now" is after every sample (time sanity refuses future ones)
  auto db = Open(dir.path(), &clock, 0);
  Fill(*db, 6);
  ASSERT_TRUE(db->Compact().ok());
  // 1 byte: everything but the newest on-disk partition (hour 4) goes; hour
  // 5 is still the head's open chunk.
  ASSERT_TRUE(db->SetRetention(0, 1).ok());
  ASSERT_TRUE(db->ApplyRetention().ok());
  EXPECT_EQ(db->Partitions(), std::vector<int64_t>{4});
  EXPECT_EQ(db->Stats(0).size_retentions, 4u);
  const int64_t newest = 6 * kHour - 60'000;
  EXPECT_TRUE(
      testing::SameSamples(ReadAll(*db, {Eq("__name__", "inventory_items_total")}).at(kInventory),
                           Expected(4 * kHour, newest, 3, 1)));
}

TEST(RuntimeRetention, ZeroDisablesTimeRetention) {
  TempDir dir;
  ManualClock clock(24 * kHour);  // "now" is after every sample (time sanity refuses future ones)
  auto db = Open(dir.path(), &clock, 2 * kHour);
  Fill(*db, 6);
  ASSERT_TRUE(db->SetRetention(0, 0).ok());
  ASSERT_TRUE(db->ApplyRetention().ok());
  const auto node = ReadAll(*db, {Eq("__name__", "node_cpu_seconds_total")});
  EXPECT_TRUE(testing::SameSamples(node.at(kNode), Expected(0, 6 * kHour - 60'000, 1, 7)));
}

TEST(RuntimeRetention, NegativeLimitsAreRejectedAndNothingChanges) {
  TempDir dir;
  ManualClock clock(24 * kHour);  // "now" is after every sample (time sanity refuses future ones)
  auto db = Open(dir.path(), &clock, kHour);
  EXPECT_EQ(db->SetRetention(-1, 0).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(db->GetRetention().retention_ms, kHour);
  EXPECT_FALSE(db->GetRetention().from_runtime);
}

TEST(RetentionStatus, StatsReportLastRunTimeAndDroppedPartitions) {
  TempDir dir;
  ManualClock clock(1'700'000'000'000);
  auto db = Open(dir.path(), &clock, 3 * kHour);
  EXPECT_EQ(db->Stats(0).last_retention_run_ms, 0);
  Fill(*db, 10);
  clock.Set(1'700'000'123'000);
  ASSERT_TRUE(db->ApplyRetention().ok());
  const StorageStats st = db->Stats(0);
  EXPECT_EQ(st.last_retention_run_ms, 1'700'000'123'000);
  EXPECT_EQ(st.time_retentions, 6u);  // partitions 0..5 end before newest - 3h
  EXPECT_EQ(st.size_retentions, 0u);
  EXPECT_GE(st.min_time, 6 * kHour);
}

RetentionRule Rule(const std::string& metric_regex, int64_t retention_ms) {
  return {metric_regex,
          {LabelMatcher::Make(MatchType::kRegexMatch, "__name__", metric_regex).value()},
          retention_ms};
}

TEST(RetentionRules, EachSeriesKeepsItsRuleRetentionOthersTheGlobalOneExactly) {
  TempDir dir;
  ManualClock clock(24 * kHour);  // "now" is after every sample (time sanity refuses future ones)
  StorageOptions o = Options(dir.path(), &clock, 4 * kHour);
  o.retention_rules = {Rule("node_.*", 2 * kHour), Rule("inventory_.*", 8 * kHour)};
  TsdbTuning tuning = SmallTuning();
  tuning.background = false;
  auto db = std::move(Tsdb::Open(o, tuning)).value();
  const Labels up{{"__name__", "up"}, {"job", "app"}};
  for (int64_t t = 0; t < 10 * kHour; t += 60'000) {
    auto app = db->NewAppender();
    ASSERT_TRUE(app->Append(0, kNode, t, static_cast<double>(t) / 7).ok());
    ASSERT_TRUE(app->Append(0, kInventory, t, static_cast<double>(t) * 3).ok());
    ASSERT_TRUE(app->Append(0, up, t, static_cast<double>(t)).ok());
    ASSERT_TRUE(app->Commit().ok());
  }
  ASSERT_TRUE(db->FlushClosedChunks().ok());
  ASSERT_TRUE(db->ApplyRetention().ok());
  const int64_t newest = 10 * kHour - 60'000;
  // A partition leaves a series once its last millisecond is older than
  // newest - retention: node keeps hours 7.., up (global 4h) 5.., inventory 1..
  EXPECT_TRUE(
      testing::SameSamples(ReadAll(*db, {Eq("__name__", "node_cpu_seconds_total")}).at(kNode),
                           Expected(7 * kHour, newest, 1, 7)));
  EXPECT_TRUE(testing::SameSamples(ReadAll(*db, {Eq("__name__", "up")}).at(up),
                                   Expected(5 * kHour, newest, 1, 1)));
  EXPECT_TRUE(
      testing::SameSamples(ReadAll(*db, {Eq("__name__", "inventory_items_total")}).at(kInventory),
                           Expected(1 * kHour, newest, 3, 1)));
  // Whole partitions go only when the longest rule expired them.
  EXPECT_EQ(db->Partitions().front(), 1);
  // The deleted series are gone from the partition's index too.
  auto q = db->NewQuerier();
  auto names = (*q)->LabelValues("__name__", 2 * kHour, 3 * kHour - 1, {});
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"inventory_items_total"});
}

TEST(RetentionRules, FirstMatchingRuleWinsAndUnmatchedSeriesUseGlobal) {
  const std::vector<RetentionRule> rules = {Rule("node_cpu.*", kHour), Rule("node_.*", 2 * kHour)};
  EXPECT_EQ(EffectiveRetention(rules, 5 * kHour, kNode), kHour);
  EXPECT_EQ(EffectiveRetention(rules, 5 * kHour, Labels{{"__name__", "node_load1"}}), 2 * kHour);
  EXPECT_EQ(EffectiveRetention(rules, 5 * kHour, kInventory), 5 * kHour);
  EXPECT_EQ(PartitionDropRetention(rules, 5 * kHour), 5 * kHour);
  EXPECT_EQ(PartitionDropRetention({Rule("x", 9 * kHour)}, 5 * kHour), 9 * kHour);
  EXPECT_EQ(PartitionDropRetention(rules, 0), 0);
}

TEST(TsdbInspector, ListsPartitionsWithSeriesAndSampleCounts) {
  TempDir dir;
  ManualClock clock(24 * kHour);  // "now" is after every sample (time sanity refuses future ones)
  {
    auto db = Open(dir.path(), &clock, 0);
    Fill(*db, 3);
    ASSERT_TRUE(db->Close().ok());
  }
  auto inspector = TsdbInspector::Open(dir.path(), SmallTuning());
  ASSERT_TRUE(inspector.ok()) << inspector.status().ToString();
  auto parts = (*inspector)->ListPartitions();
  ASSERT_TRUE(parts.ok());
  ASSERT_EQ(parts->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const auto& p = (*parts)[i];
    EXPECT_EQ(p.start_ms, static_cast<int64_t>(i) * kHour);
    EXPECT_EQ(p.min_time, static_cast<int64_t>(i) * kHour);
    EXPECT_EQ(p.max_time, static_cast<int64_t>(i + 1) * kHour - 60'000);
    EXPECT_EQ(p.series, 2u);
    EXPECT_EQ(p.samples, 120u);
  }
  auto analysis = (*inspector)->Analyze(5);
  ASSERT_TRUE(analysis.ok());
  EXPECT_EQ(analysis->series, 2u);
  EXPECT_EQ(analysis->samples, 360u);
  EXPECT_EQ(analysis->partitions, 3u);
}

TEST(TsdbInspector, RefusesADirectoryAnotherStoreHolds) {
  TempDir dir;
  ManualClock clock(24 * kHour);  // "now" is after every sample (time sanity refuses future ones)
  auto db = Open(dir.path(), &clock, 0);
  auto inspector = TsdbInspector::Open(dir.path());
  ASSERT_FALSE(inspector.ok());
  EXPECT_NE(inspector.status().message().find("LOCK"), std::string::npos)
      << inspector.status().message();
  // The holder is unharmed.
  Fill(*db, 1);
  EXPECT_EQ(ReadAll(*db, {Eq("__name__", "inventory_items_total")}).at(kInventory).size(), 60u);
}

TEST(TsdbInspector, RefusesADirectoryWithoutAStore) {
  TempDir dir;
  auto inspector = TsdbInspector::Open(dir.Sub("missing"));
  ASSERT_FALSE(inspector.ok());
  EXPECT_EQ(inspector.status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("missing")));
}

}  // namespace
}  // namespace vigil::storage
