// WAL under injected write and fsync failures: a child process (this test
// binary re-executed with the fault_inject LD_PRELOAD shim) appends batches
// and reports the outcome of each Commit() through a pipe; the parent steers
// the fault, SIGKILLs the child, reopens the store and checks that every
// acknowledged batch is there and no failed batch is.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <thread>

#include "base/logger.h"
#include "temp_dir.h"
#include "tsdb_test_util.h"

extern char** environ;

namespace vigil::storage {
namespace {

constexpr char kChildDirEnv[] = "VIGIL_WAL_FAULT_CHILD_DIR";
constexpr char kChildFdEnv[] = "VIGIL_WAL_FAULT_CHILD_FD";
constexpr char kChildSyncEnv[] = "VIGIL_WAL_FAULT_CHILD_SYNC";
constexpr int kSeries = 50;

Labels SeriesLabels(int s) {
  return Labels{
      {"__name__", "fault_metric"}, {"instance", "host-" + std::to_string(s)}, {"job", "fault"}};
}
int64_t TimeOf(int64_t batch) { return 1'700'000'000'000 + batch * 1000; }
double ValueOf(int s, int64_t batch) {
  return static_cast<double>(s) * 100000.0 + static_cast<double>(batch);
}

struct Report {
  int64_t batch;
  int64_t ok;
};

// The child: appends batch after batch, reporting each Commit() outcome.
[[noreturn]] void RunChild(const std::string& dir, int fd, WalSyncPolicy sync) {
  ConfigureLogging(LogLevel::kError, LogFormat::kLogfmt);
  StorageOptions o;
  o.path = dir;
  o.wal_sync = sync;
  o.wal_sync_interval_ms = 20;
  TsdbTuning t;
  t.checkpoint_wal_bytes = 1LL << 30;  // no checkpoint: the WAL alone must carry the data
  t.maintenance_interval_ms = 5;
  t.wal_recovery_backoff_ms = 10;
  auto db = Tsdb::Open(o, t);
  if (!db.ok()) _exit(3);
  std::vector<SeriesRef> refs(kSeries, 0);
  for (int64_t batch = 0;; ++batch) {
    auto app = (*db)->NewAppender();
    // While writes are blocked Append already fails fast (kUnavailable): the
    // batch fails as a refused Commit() would.
    bool staged = true;
    for (int s = 0; s < kSeries && staged; ++s) {
      auto ref = app->Append(refs[s], SeriesLabels(s), TimeOf(batch), ValueOf(s, batch));
      if (!ref.ok() && ref.status().code() != StatusCode::kUnavailable) _exit(4);
      staged = ref.ok();
      if (staged) refs[s] = *ref;
    }
    if (!staged) app->Rollback();
    const Report r{batch, staged && app->Commit().ok() ? 1 : 0};
    if (::write(fd, &r, sizeof(r)) != sizeof(r)) _exit(6);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

// Runs the child under the shim with `fault` variables, and reads its reports.
class FaultChild {
 public:
  FaultChild(const std::string& dir, const std::string& sync,
             const std::vector<std::string>& fault) {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
    env.push_back(std::string("LD_PRELOAD=") + VIGIL_FAULT_INJECT_LIB);
    // In a sanitizer build the shim comes before the ASan runtime; allow that.
    if (std::getenv("ASAN_OPTIONS") == nullptr)
      env.push_back("ASAN_OPTIONS=verify_asan_link_order=0");
    env.push_back(std::string(kChildDirEnv) + "=" + dir);
    env.push_back(std::string(kChildFdEnv) + "=" + std::to_string(fds[1]));
    env.push_back(std::string(kChildSyncEnv) + "=" + sync);
    env.insert(env.end(), fault.begin(), fault.end());
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    char self[] = "/proc/self/exe";
    char* argv[] = {self, nullptr};
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(fds[0]);
      ::execve(self, argv, envp.data());
      _exit(127);
    }
    ::close(fds[1]);
    fd_ = fds[0];
  }
  ~FaultChild() {
    Kill();
    if (fd_ >= 0) ::close(fd_);
  }

  // The next report, or nullopt when none came within 10 s or the child died.
  std::optional<Report> Next() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 10'000) <= 0) return std::nullopt;
    Report r{};
    if (::read(fd_, &r, sizeof(r)) != sizeof(r)) return std::nullopt;
    (r.ok ? acked_ : failed_).push_back(r.batch);
    return r;
  }

  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    Report r{};
    while (::read(fd_, &r, sizeof(r)) == sizeof(r)) (r.ok ? acked_ : failed_).push_back(r.batch);
  }

  const std::vector<int64_t>& acked() const { return acked_; }
  const std::vector<int64_t>& failed() const { return failed_; }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::vector<int64_t> acked_, failed_;
};

// Reopens the store (no shim in this process) and checks every acknowledged
// batch is there, bit for bit, and no failed one is.
void VerifyStore(const std::string& dir, const FaultChild& child) {
  auto db = testing::OpenTsdb(dir);
  ASSERT_NE(db, nullptr);
  const auto data = testing::ReadAll(*db, {testing::Eq("job", "fault")});
  for (int s = 0; s < kSeries; ++s) {
    const auto it = data.find(SeriesLabels(s));
    ASSERT_NE(it, data.end()) << "series " << s << " lost";
    std::map<int64_t, double> got;
    for (const auto& smp : it->second) got[smp.t] = smp.v;
    for (const int64_t b : child.acked()) {
      const auto at = got.find(TimeOf(b));
      ASSERT_NE(at, got.end()) << "acknowledged batch " << b << " of series " << s << " lost";
      EXPECT_EQ(at->second, ValueOf(s, b));
    }
    for (const int64_t b : child.failed()) {
      EXPECT_EQ(got.count(TimeOf(b)), 0u)
          << "failed batch " << b << " of series " << s << " appeared";
    }
  }
}

// Reads reports until `pred` holds; fails the test when the child stops or
// 30 s passed.
template <typename Pred>
void WaitFor(FaultChild& child, Pred pred, const char* what) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!pred()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "timed out waiting for " << what;
    ASSERT_TRUE(child.Next().has_value()) << "child stopped reporting while waiting for " << what;
  }
}

TEST(WalFault, TornWriteFollowedByAcknowledgedCommits_AllAcknowledgedSurviveKill) {
  testing::TempDir dir;
  FaultChild child(dir.path(), "periodic",
                   {"VIGIL_FAULT_SYSCALLS=write", "VIGIL_FAULT_PATH=/wal/",
                    "VIGIL_FAULT_AFTER_BYTES=40000",  // a short write, then ENOSPC
                    "VIGIL_FAULT_ERRNO=ENOSPC", "VIGIL_FAULT_TIMES=3"});
  ASSERT_NO_FATAL_FAILURE(WaitFor(
      child,
      [&] {
        return child.failed().size() >= 3 && !child.acked().empty() &&
               child.acked().back() >= child.failed().back() + 10;
      },
      "three failed commits and acknowledged ones after them"));
  child.Kill();
  EXPECT_EQ(child.failed().size(), 3u);
  VerifyStore(dir.path(), child);
}

// An fsync failure must stop acknowledgements until the WAL is durable again.
void FsyncFailureStopsAcknowledgements(const std::string& sync) {
  testing::TempDir dir;
  const std::string control = dir.Sub("fault-on");
  FaultChild child(dir.path(), sync,
                   {"VIGIL_FAULT_SYSCALLS=fdatasync,fsync", "VIGIL_FAULT_PATH=/wal/",
                    "VIGIL_FAULT_CONTROL_FILE=" + control});
  ASSERT_NO_FATAL_FAILURE(WaitFor(
      child, [&] { return child.acked().size() >= 10; }, "acknowledged commits"));
  std::ofstream(control) << "on";
  ASSERT_NO_FATAL_FAILURE(WaitFor(
      child, [&] { return !child.failed().empty(); }, "the first failed commit"));
  const size_t acked_at_failure = child.acked().size();
  ASSERT_NO_FATAL_FAILURE(WaitFor(
      child, [&] { return child.failed().size() >= 20; }, "more failed commits"));
  EXPECT_EQ(child.acked().size(), acked_at_failure)
      << "a commit was acknowledged while fsync failed";
  std::filesystem::remove(control);
  ASSERT_NO_FATAL_FAILURE(WaitFor(
      child, [&] { return child.acked().size() >= acked_at_failure + 10; }, "appends to resume"));
  child.Kill();
  VerifyStore(dir.path(), child);
}

TEST(WalFault, FsyncFailureInPeriodicMode_AppendsFailUntilTheFaultClears) {
  FsyncFailureStopsAcknowledgements("periodic");
}

TEST(WalFault, FsyncFailureInAlwaysMode_AppendsFailUntilTheFaultClears) {
  FsyncFailureStopsAcknowledgements("always");
}

}  // namespace
}  // namespace vigil::storage

int main(int argc, char** argv) {
  if (const char* dir = std::getenv(vigil::storage::kChildDirEnv)) {
    const std::string sync = std::getenv(vigil::storage::kChildSyncEnv);
    vigil::storage::RunChild(dir, std::atoi(std::getenv(vigil::storage::kChildFdEnv)),
                             sync == "always" ? vigil::storage::WalSyncPolicy::kEveryCommit
                                              : vigil::storage::WalSyncPolicy::kPeriodic);
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
