// Faults the store must survive without losing acknowledged samples: a sample
// from the far future (time sanity) and a full disk (write health).
#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>

#include "storage/data_dir_lock.h"
#include "storage/tsdb.h"
#include "tests/storage/temp_dir.h"
#include "tests/storage/tsdb_test_util.h"
#include "tests/support/tmpfs_mount.h"

namespace vigil::storage::testing {
namespace {

constexpr int64_t kHour = 3600 * 1000;
constexpr int64_t kNow = 1'700'000'000'000;  // the ManualClock's "now"
constexpr int64_t kYear2100 = 4'102'444'800'000;

Labels Series(const std::string& name) { return Labels({{"__name__", name}, {"job", "j"}}); }

std::unique_ptr<Tsdb> OpenWith(const std::string& path, const Clock* clock, int64_t max_ahead_ms) {
  StorageOptions o;
  o.path = path;
  o.clock = clock;
  o.retention_ms = 6 * kHour;
  o.max_time_ahead_ms = max_ahead_ms;
  TsdbTuning t = SmallTuning();
  t.background = false;  // the test runs retention passes itself
  auto db = Tsdb::Open(o, t);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return db.ok() ? std::move(db.value()) : nullptr;
}

// Five hours of history, one sample a minute, ending at kNow.
std::vector<Sample> History() {
  std::vector<Sample> out;
  for (int64_t t = kNow - 5 * kHour; t <= kNow; t += 60'000) out.push_back({t, double(t % 1000)});
  return out;
}

void AppendAll(Storage& db, const Labels& l, const std::vector<Sample>& samples) {
  auto app = db.NewAppender();
  for (const auto& s : samples) ASSERT_TRUE(app->Append(0, l, s.t, s.v).ok());
  ASSERT_TRUE(app->Commit().ok());
}

uint64_t MetricValue(const std::string& name) {
  const std::string text = MetricsRegistry::Global().Render();
  const size_t at = text.find("\n" + name + " ");
  if (at == std::string::npos) return UINT64_MAX;
  return std::stoull(text.substr(at + name.size() + 2));
}

TEST(TimeSanityTest, FarFutureSample_IsRefusedAsOutOfBoundsNamingTheSeriesAndCounted) {
  TempDir dir;
  ManualClock clock(kNow);
  auto db = OpenWith(dir.path(), &clock, 10 * 60'000);
  ASSERT_NE(db, nullptr);
  const uint64_t before = MetricValue("vigil_tsdb_too_far_in_future_samples_total");
  auto app = db->NewAppender();
  auto r = app->Append(0, Series("skewed"), kYear2100, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kOutOfBounds);
  EXPECT_TRUE(IsTooFarInFuture(r.status()));
  EXPECT_NE(r.status().message().find("skewed"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("10m"), std::string::npos) << r.status().message();
  EXPECT_EQ(MetricValue("vigil_tsdb_too_far_in_future_samples_total"), before + 1);
  // Within the margin is fine.
  EXPECT_TRUE(app->Append(0, Series("skewed"), kNow + 9 * 60'000, 1).ok());
  EXPECT_TRUE(app->Commit().ok());
  EXPECT_EQ(db->Stats(0).max_time, kNow + 9 * 60'000);
}

TEST(TimeSanityTest, FarFutureSample_LeavesHistoryAndCurrentIngestionAlone) {
  TempDir dir;
  ManualClock clock(kNow);
  auto db = OpenWith(dir.path(), &clock, 10 * 60'000);
  ASSERT_NE(db, nullptr);
  AppendAll(*db, Series("m"), History());
  ASSERT_TRUE(db->FlushClosedChunks().ok());
  auto app = db->NewAppender();
  EXPECT_FALSE(app->Append(0, Series("m"), kYear2100, 1).ok());
  EXPECT_TRUE(app->Commit().ok());
  ASSERT_TRUE(db->ApplyRetention().ok());
  ASSERT_TRUE(db->ApplyRetention().ok());
  clock.Advance(60'000);
  AppendAll(*db, Series("m"), {{kNow + 60'000, 7}});
  auto all = ReadAll(*db, {Eq("__name__", "m")});
  auto expected = History();
  expected.push_back({kNow + 60'000, 7});
  EXPECT_TRUE(SameSamples(all[Series("m")], expected)) << all[Series("m")].size();
}

TEST(TimeSanityTest, FutureSampleAlreadyStored_CannotExpireHistoryNorBlockCurrentSamples) {
  TempDir dir;
  ManualClock clock(kNow);
  {
    // Written by a store without the check (an older Vigil, or the flag at 0).
    auto db = OpenWith(dir.path(), &clock, 0);
    ASSERT_NE(db, nullptr);
    AppendAll(*db, Series("m"), History());
    AppendAll(*db, Series("future"), {{kYear2100, 1}});
    ASSERT_TRUE(db->Close().ok());
  }
  auto db = OpenWith(dir.path(), &clock, 10 * 60'000);
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->ApplyRetention().ok());
  ASSERT_TRUE(db->ApplyRetention().ok());
  EXPECT_TRUE(db->CollectIdleSeries().ok());
  clock.Advance(60'000);
  AppendAll(*db, Series("m"), {{kNow + 60'000, 7}});  // not "out of bounds"
  auto all = ReadAll(*db, {Eq("__name__", "m")});
  auto expected = History();
  expected.push_back({kNow + 60'000, 7});
  EXPECT_TRUE(SameSamples(all[Series("m")], expected)) << all[Series("m")].size();
}

TEST(TimeSanityTest, HistoricalImportOfAFarFutureSample_IsRefused) {
  TempDir dir;
  ManualClock clock(kNow);
  auto db = OpenWith(dir.path(), &clock, 10 * 60'000);
  ASSERT_NE(db, nullptr);
  const std::vector<Sample> samples = {{kNow - 10 * kHour, 1}, {kYear2100, 2}};
  const Status st = db->AppendHistorical(Series("imported"), samples);
  EXPECT_TRUE(IsTooFarInFuture(st)) << st.ToString();
  EXPECT_TRUE(ReadAll(*db, {Eq("__name__", "imported")}).empty());
}

TEST(DataDirLockTest, NoLockfile_CreatesNoLockFileAndOpensWhileAnotherHoldsIt) {
  TempDir dir;
  {
    StorageOptions o;
    o.path = dir.path();
    o.no_lockfile = true;
    auto db = Tsdb::Open(o, SmallTuning());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    EXPECT_FALSE(std::filesystem::exists(dir.Sub("LOCK")));
  }
  // Someone else (another tool) holds the data directory's lock.
  auto held = DataDirLock::Acquire(dir.path());
  ASSERT_TRUE(held.ok());
  StorageOptions o;
  o.path = dir.path();
  auto refused = Tsdb::Open(o, SmallTuning());
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("in use"), std::string::npos);
  o.no_lockfile = true;
  auto opened = Tsdb::Open(o, SmallTuning());
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
}

// A full disk under appends: appends fail fast and the store says why,
// queries go on, and once space is back the store resumes by itself with
// every acknowledged sample (also after a restart).
TEST(DiskFullTest, AppendsFailFastQueriesWorkAndWritesResumeWhenSpaceReturns) {
  test_support::TmpfsMount disk(16 << 20);
  if (!disk.ok()) GTEST_SKIP() << "cannot mount a tmpfs (needs root): " << disk.error();
  const std::string path = disk.Sub("data");
  StorageOptions o;
  o.path = path;
  o.wal_sync = WalSyncPolicy::kNever;
  TsdbTuning t = SmallTuning();
  auto opened = Tsdb::Open(o, t);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto& db = **opened;
  disk.FillLeaving(1 << 20);

  std::map<Labels, std::vector<Sample>> acked;
  const int64_t t0 = SystemClock::Get()->NowMillis() - 30 * 60'000;
  int64_t ts = t0;
  Status failed;
  for (int batch = 0; batch < 100000 && failed.ok(); ++batch, ts += 1000) {
    auto app = db.NewAppender();
    std::vector<std::pair<Labels, Sample>> staged;
    for (int i = 0; i < 200 && failed.ok(); ++i) {
      const Labels l({{"__name__", "fill"}, {"i", std::to_string(i)}, {"pad", std::string(64, 'p')}});
      auto r = app->Append(0, l, ts, double(batch));
      if (!r.ok()) failed = r.status();
      staged.push_back({l, {ts, double(batch)}});
    }
    if (failed.ok()) failed = app->Commit();
    if (failed.ok()) {
      for (auto& [l, s] : staged) acked[l].push_back(s);
    }
  }
  ASSERT_FALSE(failed.ok()) << "the disk never filled up";
  EXPECT_EQ(failed.code(), StatusCode::kUnavailable) << failed.ToString();
  EXPECT_NE(db.Writable().message().find("disk full"), std::string::npos) << db.Writable().ToString();
  // Fast failure, and the store still answers queries.
  auto app = db.NewAppender();
  EXPECT_EQ(app->Append(0, Series("late"), ts, 1).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(ReadAll(db, {Eq("__name__", "fill")}).size(), acked.size());
  // Not resumed while the disk is still full.
  EXPECT_FALSE(db.TryResumeWrites().ok());

  disk.FreeFiller();
  bool resumed = false;
  for (int i = 0; i < 100 && !resumed; ++i) {
    resumed = db.Writable().ok();
    if (!resumed) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(resumed) << db.Writable().ToString();
  AppendAll(db, Series("after"), {{ts + 1000, 1}});
  for (const auto& [l, samples] : acked) {
    auto got = ReadAll(db, {Eq("__name__", "fill"), Eq("i", std::string(l.Get("i")))});
    ASSERT_TRUE(SameSamples(got[l], samples)) << l.ToString() << " " << got[l].size() << " vs " << samples.size();
  }
  ASSERT_TRUE(db.Close().ok());
  opened.value().reset();

  auto reopened = OpenTsdb(path);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(ReadAll(*reopened, {Eq("__name__", "after")}).size(), 1u);
  for (const auto& [l, samples] : acked) {
    auto got = ReadAll(*reopened, {Eq("__name__", "fill"), Eq("i", std::string(l.Get("i")))});
    ASSERT_TRUE(SameSamples(got[l], samples)) << l.ToString() << " " << got[l].size() << " vs " << samples.size();
  }
}

// RocksDB itself hits the full disk (a memtable flush at checkpoint): its
// background error blocks writes instead of aborting, and DB::Resume() after
// the space returns makes the store whole again.
TEST(DiskFullTest, RocksDbFlushOnAFullDisk_BlocksWritesThenResumes) {
  test_support::TmpfsMount disk(16 << 20);
  if (!disk.ok()) GTEST_SKIP() << "cannot mount a tmpfs (needs root): " << disk.error();
  const std::string path = disk.Sub("data");
  StorageOptions o;
  o.path = path;
  o.wal_sync = WalSyncPolicy::kNever;
  TsdbTuning t = SmallTuning();
  t.background = false;
  auto opened = Tsdb::Open(o, t);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto& db = **opened;
  const int64_t t0 = SystemClock::Get()->NowMillis() - 30 * 60'000;
  std::vector<Sample> acked;
  for (int64_t i = 0; i < 1200; ++i) acked.push_back({t0 + i * 100, double(i)});
  for (int i = 0; i < 100; ++i) AppendAll(db, Labels({{"__name__", "m"}, {"i", std::to_string(i)}}), acked);
  ASSERT_TRUE(db.FlushClosedChunks().ok());
  // One page left: room for the header of the WAL's next segment (the cut at
  // the checkpoint's start), none for the table of the memtable flush.
  disk.FillLeaving(static_cast<uint64_t>(::getpagesize()));
  const Status st = db.Checkpoint();  // the memtable flush cannot write its table
  EXPECT_FALSE(st.ok());
  EXPECT_FALSE(db.Writable().ok()) << "a failed RocksDB flush must block writes";
  EXPECT_EQ(ReadAll(db, {Eq("__name__", "m")}).size(), 100u);  // queries go on
  disk.FreeFiller();
  EXPECT_TRUE(db.TryResumeWrites().ok()) << db.Writable().ToString();
  ASSERT_TRUE(db.Checkpoint().ok());
  ASSERT_TRUE(db.Close().ok());
  opened.value().reset();
  auto reopened = OpenTsdb(path);
  ASSERT_NE(reopened, nullptr);
  const auto all = ReadAll(*reopened, {Eq("__name__", "m")});
  ASSERT_EQ(all.size(), 100u);
  for (const auto& [l, samples] : all) ASSERT_TRUE(SameSamples(samples, acked)) << l.ToString();
}

}  // namespace
}  // namespace vigil::storage::testing
