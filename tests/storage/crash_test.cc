// Crash safety: a child process appends under load and reports every
// acknowledged batch through a pipe; the parent SIGKILLs it at a random
// moment, reopens the store and checks that every acknowledged sample is
// there, bit for bit, and that nothing unacknowledged beyond the batch in
// flight appeared.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <random>
#include <thread>

#include "storage/logger.h"
#include "temp_dir.h"
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

// The child: append batches from `first` on, writing each batch number to
// `fd` after Commit() returned. Never returns.
[[noreturn]] void RunChild(const std::string& path, int64_t first, int fd) {
  testing::StartRocksDbThreadsInForkedChild();
  StorageOptions o;
  o.path = path;
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
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      RunChild(dir.path(), next_batch, fds[1]);
    }
    ::close(fds[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(30 + rng() % 150));  // the random moment
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with code " << WEXITSTATUS(status);
    int64_t batch = 0;
    while (::read(fds[0], &batch, sizeof(batch)) == sizeof(batch)) last_acked = batch;
    ::close(fds[0]);

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

// Runs `body` in a forked child that reports on a pipe when it is done and
// then waits to be SIGKILLed; returns once the child is dead. False when the
// child failed or never reported.
template <typename Body>
bool RunChildThenKill(Body body) {
  int fds[2];
  if (::pipe(fds) != 0) return false;
  const pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    ::close(fds[0]);
    const char done = body() ? 'y' : 'n';
    if (::write(fds[1], &done, 1) != 1) _exit(6);
    for (;;) ::pause();
  }
  ::close(fds[1]);
  char done = 0;
  const bool reported = ::read(fds[0], &done, 1) == 1;
  ::close(fds[0]);
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return reported && done == 'y';
}

TEST(Crash, CommitAboveTheRecordLimit_SurvivesKillWhole) {
  ConfigureLogging(LogLevel::kWarn, LogFormat::kLogfmt);
  testing::TempDir dir;
  constexpr int kManySeries = 5000;
  TsdbTuning tuning = testing::SmallTuning();
  tuning.wal_max_record_bytes = 4096;  // the commit below needs ~70 records
  tuning.checkpoint_wal_bytes = 1LL << 30;
  const bool acked = RunChildThenKill([&] {
    StorageOptions o;
    o.path = dir.path();
    auto db = Tsdb::Open(o, tuning);
    if (!db.ok()) return false;
    auto app = (*db)->NewAppender();
    for (int s = 0; s < kManySeries; ++s) {
      if (!app->Append(0, SeriesLabels(s), TimeOf(0), ValueOf(s, 0)).ok()) return false;
    }
    return app->Commit().ok();
  });
  ASSERT_TRUE(acked);
  auto db = testing::OpenTsdb(dir.path(), tuning);
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
  constexpr size_t kSize = (300u << 20) + 12345;
  ASSERT_GT(kSize, kWalMaxRecordSize);
  auto payload = [] {
    std::string p(kSize, '\0');
    for (size_t i = 0; i < p.size(); i += 8) p[i] = static_cast<char>(i >> 13);
    return p;
  };
  const bool acked = RunChildThenKill([&] {
    auto w = WalWriter::Open(dir.path());
    return w.ok() && (*w)->Append("small", false).ok() && (*w)->Append(payload(), false).ok();
  });
  ASSERT_TRUE(acked);
  const std::string expected = payload();
  std::vector<size_t> sizes;
  bool same = false;
  ASSERT_TRUE(ReplayWal(dir.path(), 0, [&](std::string_view p) {
                sizes.push_back(p.size());
                if (p.size() == kSize) same = p == expected;
              }).ok());
  EXPECT_EQ(sizes, (std::vector<size_t>{5, kSize}));
  EXPECT_TRUE(same);
}

}  // namespace
}  // namespace vigil::storage
