// Crash safety: a child process appends under load and reports every
// acknowledged batch through a pipe; the parent SIGKILLs it at a random
// moment, reopens the store and checks that every acknowledged sample is
// there, bit for bit, and that nothing unacknowledged beyond the batch in
// flight appeared.
#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>
#include <thread>

#include "base/logger.h"
#include "temp_dir.h"
#include "tests/support/self_exec_child.h"
#include "tsdb_test_util.h"

namespace vigil::storage {
namespace {

constexpr int kSeries = 200;
constexpr int64_t kStepMs = 15'000;

Labels SeriesLabels(int s) {
  return Labels{{"__name__", "crash_metric_" + std::to_string(s % 5)},
                {"instance", "host-" + std::to_string(s)},
                {"job", "crash"}};
}

int64_t TimeOf(int64_t batch) { return 1'700'000'000'000 + batch * kStepMs; }

double ValueOf(int s, int64_t batch) {
  if (batch % 97 == 13) return StaleNaN();
  return static_cast<double>(s) * 1000.0 + static_cast<double>(batch) + 0.25;
}

TsdbTuning CrashTuning() {
  TsdbTuning t;
  t.partition_ms = 3600 * 1000;
  t.checkpoint_wal_bytes = 256 << 10;  // checkpoint often, so kills land in every phase
  t.maintenance_interval_ms = 5;
  return t;
}

constexpr char kAppendingChild[] = "DISABLED_CrashChild.AppendUntilKilled";
constexpr int64_t kChildStarted = -1;  // reported before the store is opened

// Run by KillDuringAppends in a fresh process; argument "<first batch> <path>".
// Appends batches from the first on, reporting each batch number after
// Commit() returned, until it is SIGKILLed.
TEST(DISABLED_CrashChild, AppendUntilKilled) {
  const std::string arg = test_support::ChildArgument();
  if (arg.empty()) GTEST_SKIP() << "runs only as the child of KillDuringAppends";
  const int fd = test_support::ChildReportFd();
  const size_t space = arg.find(' ');
  const int64_t first = std::stoll(arg.substr(0, space));
  if (::write(fd, &kChildStarted, sizeof(kChildStarted)) != sizeof(kChildStarted)) _exit(6);
  StorageOptions o;
  o.path = arg.substr(space + 1);
  o.wal_sync = WalSyncPolicy::kPeriodic;
  auto db = Tsdb::Open(o, CrashTuning());
  if (!db.ok()) _exit(3);
  std::vector<SeriesRef> refs(kSeries, 0);
  for (int64_t batch = first;; ++batch) {
    auto app = (*db)->NewAppender();
    for (int s = 0; s < kSeries; ++s) {
      auto ref = app->Append(refs[s], SeriesLabels(s), TimeOf(batch), ValueOf(s, batch));
      if (!ref.ok()) _exit(4);
      refs[s] = *ref;
    }
    if (!app->Commit().ok()) _exit(5);
    if (::write(fd, &batch, sizeof(batch)) != sizeof(batch)) _exit(6);
  }
}

// Newest batch the store holds for series 0, or first-1 when none.
int64_t VerifyStore(Storage& db, int64_t last_acked) {
  const auto data = testing::ReadAll(db, {testing::Eq("job", "crash")});
  int64_t newest = -1;
  for (int s = 0; s < kSeries; ++s) {
    const auto it = data.find(SeriesLabels(s));
    if (last_acked < 0 && it == data.end()) continue;
    EXPECT_NE(it, data.end()) << "series " << s << " lost";
    if (it == data.end()) return newest;
    const auto& samples = it->second;
    // Every acknowledged batch present, in order, with exact values; at most
    // the one batch in flight at the kill beyond it.
    EXPECT_GE(static_cast<int64_t>(samples.size()), last_acked + 1) << "series " << s;
    EXPECT_LE(static_cast<int64_t>(samples.size()), last_acked + 2) << "series " << s;
    for (size_t b = 0; b < samples.size(); ++b) {
      const auto batch = static_cast<int64_t>(b);
      if (samples[b].t != TimeOf(batch) ||
          std::bit_cast<uint64_t>(samples[b].v) != std::bit_cast<uint64_t>(ValueOf(s, batch))) {
        ADD_FAILURE() << "series " << s << " batch " << b << " differs";
        return newest;
      }
    }
    if (s == 0) newest = static_cast<int64_t>(samples.size()) - 1;
  }
  return newest;
}

TEST(Crash, KillDuringAppends_EveryAcknowledgedSampleSurvives) {
  ConfigureLogging(LogLevel::kWarn, LogFormat::kLogfmt);
  testing::TempDir dir;
  std::mt19937 rng(12345);
  int64_t next_batch = 0;
  int64_t last_acked = -1;
  for (int cycle = 0; cycle < 20; ++cycle) {
    test_support::SelfExecChild child(kAppendingChild, std::to_string(next_batch) + " " + dir.path());
    ASSERT_TRUE(child.started());
    int64_t batch = 0;
    // The random moment counts from the child's start, not from the exec.
    ASSERT_TRUE(child.ReadReport(&batch, sizeof(batch), std::chrono::seconds(30)));
    ASSERT_EQ(batch, kChildStarted);
    std::this_thread::sleep_for(std::chrono::milliseconds(30 + rng() % 150));  // the random moment
    const int status = child.Kill();
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with code " << WEXITSTATUS(status);
    while (child.ReadReport(&batch, sizeof(batch), std::chrono::seconds(0))) last_acked = batch;

    auto db = testing::OpenTsdb(dir.path(), CrashTuning());
    ASSERT_NE(db, nullptr);
    const int64_t newest = VerifyStore(*db, last_acked);
    ASSERT_FALSE(::testing::Test::HasFailure()) << "cycle " << cycle;
    // New appends work after recovery.
    next_batch = newest + 1;
    auto app = db->NewAppender();
    for (int s = 0; s < kSeries; ++s) {
      ASSERT_TRUE(app->Append(0, SeriesLabels(s), TimeOf(next_batch), ValueOf(s, next_batch)).ok());
    }
    ASSERT_TRUE(app->Commit().ok());
    last_acked = next_batch;
    ++next_batch;
    ASSERT_TRUE(db->Close().ok());
  }
  EXPECT_GT(last_acked, 100) << "the child should have made progress";
}

constexpr int kManySeries = 5000;

TsdbTuning SmallRecordTuning() {
  TsdbTuning t = testing::SmallTuning();
  t.wal_max_record_bytes = 4096;  // one commit of kManySeries needs ~70 records
  t.checkpoint_wal_bytes = 1LL << 30;
  return t;
}

// Run by CommitAboveTheRecordLimit in a fresh process: one commit of
// kManySeries samples, SIGKILLed with the store open once acknowledged.
TEST(DISABLED_CrashChild, CommitManySeriesThenAwaitKill) {
  const std::string path = test_support::ChildArgument();
  if (path.empty()) GTEST_SKIP() << "runs only as the child of CommitAboveTheRecordLimit";
  StorageOptions o;
  o.path = path;
  auto db = Tsdb::Open(o, SmallRecordTuning());
  if (!db.ok()) test_support::ReportThenAwaitKill(false);
  auto app = (*db)->NewAppender();
  for (int s = 0; s < kManySeries; ++s) {
    if (!app->Append(0, SeriesLabels(s), TimeOf(0), ValueOf(s, 0)).ok()) test_support::ReportThenAwaitKill(false);
  }
  test_support::ReportThenAwaitKill(app->Commit().ok());
}

TEST(Crash, CommitAboveTheRecordLimit_SurvivesKillWhole) {
  ConfigureLogging(LogLevel::kWarn, LogFormat::kLogfmt);
  testing::TempDir dir;
  ASSERT_TRUE(test_support::RunChildThenKill("DISABLED_CrashChild.CommitManySeriesThenAwaitKill", dir.path()));
  auto db = testing::OpenTsdb(dir.path(), SmallRecordTuning());
  ASSERT_NE(db, nullptr);
  const auto data = testing::ReadAll(*db, {testing::Eq("job", "crash")});
  ASSERT_EQ(data.size(), static_cast<size_t>(kManySeries));
  for (int s = 0; s < kManySeries; ++s) {
    const auto it = data.find(SeriesLabels(s));
    ASSERT_NE(it, data.end()) << "series " << s;
    ASSERT_EQ(it->second.size(), 1u);
    EXPECT_EQ(std::bit_cast<uint64_t>(it->second[0].v), std::bit_cast<uint64_t>(ValueOf(s, 0)));
  }
}

constexpr size_t kHugeRecordSize = (300u << 20) + 12345;

std::string HugePayload() {
  std::string p(kHugeRecordSize, '\0');
  for (size_t i = 0; i < p.size(); i += 8) p[i] = static_cast<char>(i >> 13);
  return p;
}

// Run by WalCommitAboveTheRealRecordLimit in a fresh process: appends a small
// and a huge record, SIGKILLed with the WAL open once both are acknowledged.
TEST(DISABLED_CrashChild, AppendHugeWalRecordThenAwaitKill) {
  const std::string path = test_support::ChildArgument();
  if (path.empty()) GTEST_SKIP() << "runs only as the child of WalCommitAboveTheRealRecordLimit";
  auto w = WalWriter::Open(path);
  test_support::ReportThenAwaitKill(w.ok() && (*w)->Append("small", false).ok() &&
                                    (*w)->Append(HugePayload(), false).ok());
}

// The real limit: a 300 MiB commit (the first scrape of ~2 M series makes
// one) is acknowledged and replays whole after kill -9.
TEST(Crash, WalCommitAboveTheRealRecordLimit_ReplaysWholeAfterKill) {
  ConfigureLogging(LogLevel::kWarn, LogFormat::kLogfmt);
  // Memory-backed when present: 300 MiB of disk writes take long on a busy machine.
  const char* old_tmpdir = std::getenv("TMPDIR");
  const std::string saved = old_tmpdir != nullptr ? old_tmpdir : "";
  if (std::filesystem::is_directory("/dev/shm")) ::setenv("TMPDIR", "/dev/shm", 1);
  testing::TempDir dir;
  if (old_tmpdir != nullptr) {
    ::setenv("TMPDIR", saved.c_str(), 1);
  } else {
    ::unsetenv("TMPDIR");
  }
  ASSERT_GT(kHugeRecordSize, kWalMaxRecordSize);
  ASSERT_TRUE(test_support::RunChildThenKill("DISABLED_CrashChild.AppendHugeWalRecordThenAwaitKill", dir.path()));
  const std::string expected = HugePayload();
  std::vector<size_t> sizes;
  bool same = false;
  ASSERT_TRUE(ReplayWal(dir.path(), 0, [&](std::string_view p) {
                sizes.push_back(p.size());
                if (p.size() == kHugeRecordSize) same = p == expected;
              }).ok());
  EXPECT_EQ(sizes, (std::vector<size_t>{5, kHugeRecordSize}));
  EXPECT_TRUE(same);
}

TsdbTuning NoCheckpointTuning() {
  TsdbTuning t = CrashTuning();
  t.checkpoint_wal_bytes = int64_t{1} << 40;  // the WAL keeps everything
  return t;
}

constexpr int kPreviousReleaseBatches = 20;

// Run by WalOfThePreviousRelease in a fresh process: opens the old data dir,
// appends one more batch and is SIGKILLed once it is acknowledged.
TEST(DISABLED_CrashChild, AppendOneMoreBatchThenAwaitKill) {
  const std::string path = test_support::ChildArgument();
  if (path.empty()) GTEST_SKIP() << "runs only as the child of WalOfThePreviousRelease";
  StorageOptions o;
  o.path = path;
  auto db = Tsdb::Open(o, NoCheckpointTuning());
  if (!db.ok()) test_support::ReportThenAwaitKill(false);
  auto app = (*db)->NewAppender();
  for (int s = 0; s < kSeries; ++s) {
    const int64_t b = kPreviousReleaseBatches;
    if (!app->Append(0, SeriesLabels(s), TimeOf(b), ValueOf(s, b)).ok())
      test_support::ReportThenAwaitKill(false);
  }
  test_support::ReportThenAwaitKill(app->Commit().ok());
}

// A data dir of the previous release after kill -9: its WAL holds only
// full-width commit records. The store replays it unchanged, and commits
// appended afterwards (compact records, in a newer segment) replay with it.
TEST(Crash, WalOfThePreviousRelease_ReplaysUnchanged) {
  ConfigureLogging(LogLevel::kWarn, LogFormat::kLogfmt);
  testing::TempDir dir;
  constexpr int kBatches = kPreviousReleaseBatches;
  {
    auto w = WalWriter::Open((std::filesystem::path(dir.path()) / "wal").string());
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    for (int64_t b = 0; b < kBatches; ++b) {
      std::vector<WalSeries> series;
      std::vector<WalSample> samples;
      for (int s = 0; s < kSeries; ++s) {
        const auto ref = static_cast<SeriesRef>(s + 1);
        if (b == 0) series.push_back({ref, SeriesLabels(s)});
        samples.push_back({ref, TimeOf(b), ValueOf(s, b)});
      }
      ASSERT_TRUE((*w)->Append(EncodeWalCommitFullWidth(series, samples), false).ok());
    }
  }
  const auto expect_batches = [&](Tsdb& db, int64_t batches) {
    const auto data = testing::ReadAll(db, {testing::Eq("job", "crash")});
    ASSERT_EQ(data.size(), static_cast<size_t>(kSeries));
    for (int s = 0; s < kSeries; ++s) {
      std::vector<Sample> want;
      for (int64_t b = 0; b < batches; ++b) want.push_back({TimeOf(b), ValueOf(s, b)});
      const auto it = data.find(SeriesLabels(s));
      ASSERT_NE(it, data.end()) << "series " << s;
      EXPECT_TRUE(testing::SameSamples(it->second, want)) << "series " << s;
    }
  };
  ASSERT_TRUE(test_support::RunChildThenKill("DISABLED_CrashChild.AppendOneMoreBatchThenAwaitKill",
                                             dir.path()));
  const TsdbTuning tuning = NoCheckpointTuning();
  auto db = testing::OpenTsdb(dir.path(), tuning);
  ASSERT_NE(db, nullptr);
  expect_batches(*db, kBatches + 1);
}

// Replay appends samples on worker threads: each series must still get its
// samples in WAL order, so a sample older than one before it in the WAL is
// refused again, however many series and batches lie between the two.
TEST(Crash, Replay_AppliesEachSeriesInWalOrder) {
  ConfigureLogging(LogLevel::kWarn, LogFormat::kLogfmt);
  testing::TempDir dir;
  constexpr int kManyReplaySeries = 3000;  // > one worker batch per commit
  const int64_t kTimes[] = {TimeOf(2), TimeOf(1), TimeOf(3), TimeOf(3), TimeOf(0), TimeOf(4)};
  {
    auto w = WalWriter::Open((std::filesystem::path(dir.path()) / "wal").string());
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    for (size_t c = 0; c < std::size(kTimes); ++c) {
      std::vector<WalSeries> series;
      std::vector<WalSample> samples;
      for (int s = 0; s < kManyReplaySeries; ++s) {
        const auto ref = static_cast<SeriesRef>(s + 1);
        if (c == 0) series.push_back({ref, SeriesLabels(s)});
        samples.push_back({ref, kTimes[c], static_cast<double>(c)});
      }
      ASSERT_TRUE((*w)->Append(EncodeWalCommit(series, samples), false).ok());
    }
  }
  auto db = testing::OpenTsdb(dir.path(), NoCheckpointTuning());
  ASSERT_NE(db, nullptr);
  const auto data = testing::ReadAll(*db, {testing::Eq("job", "crash")});
  ASSERT_EQ(data.size(), static_cast<size_t>(kManyReplaySeries));
  const std::vector<Sample> want = {{TimeOf(2), 0}, {TimeOf(3), 2}, {TimeOf(4), 5}};
  for (const auto& [labels, samples] : data)
    EXPECT_TRUE(testing::SameSamples(samples, want)) << labels.ToString();
}

}  // namespace
}  // namespace vigil::storage
