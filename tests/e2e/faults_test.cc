// Faults end to end with the real binary: a full disk under scrape and
// remote-write load, a remote-write sample from the far future, and
// --storage.tsdb.no-lockfile. Nothing acknowledged may be lost.
#include <gtest/gtest.h>
#include <httplib.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "remote/remote_protocol.h"
#include "storage/data_dir_lock.h"
#include "tests/e2e/metrics_target.h"
#include "tests/e2e/vigil_process.h"
#include "tests/support/tmpfs_mount.h"

namespace vigil::e2e {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string ScrapeConfig(const std::string& target) {
  return "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n"
         "scrape_configs:\n  - job_name: load\n    static_configs:\n      - targets: ['" +
         target + "']\n";
}

// `n` series of one metric family, values all `v`.
std::string ManySeries(int n, int v) {
  std::string body;
  for (int i = 0; i < n; ++i) {
    body += "load_metric{i=\"" + std::to_string(i) + "\",pad=\"abcdefghijklmnopqrstuvwxyz\"} " +
            std::to_string(v) + "\n";
  }
  return body;
}

HttpReply RemoteWrite(int port, const std::vector<remote::RemoteTimeSeries>& series) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(10, 0);
  const std::string body =
      remote::SnappyEncode(remote::EncodeWriteRequest(remote::WriteRequest{series}));
  auto r = c.Post("/api/v1/write",
                  {{"Content-Encoding", "snappy"}, {"X-Prometheus-Remote-Write-Version", "0.1.0"}},
                  body, "application/x-protobuf");
  return r ? HttpReply{r->status, r->body} : HttpReply{};
}

// Timestamps (ms) of the samples `selector` has in the last `range`.
std::set<int64_t> SampleTimes(const VigilProcess& v, const std::string& selector,
                              const std::string& range = "1h") {
  std::set<int64_t> out;
  auto reply = v.Get("/api/v1/query?query=" +
                     httplib::detail::encode_query_param(selector + "[" + range + "]"));
  json j = json::parse(reply.body, nullptr, false);
  if (j.is_discarded() || j["status"] != "success") return out;
  for (const auto& s : j["data"]["result"]) {
    for (const auto& p : s["values"]) out.insert(std::llround(p[0].get<double>() * 1000));
  }
  return out;
}

std::string TargetLastError(const VigilProcess& v) {
  json j = json::parse(v.Get("/api/v1/targets").body, nullptr, false);
  if (j.is_discarded() || j["data"]["activeTargets"].empty()) return "";
  return j["data"]["activeTargets"][0]["lastError"].get<std::string>();
}

bool Includes(const std::set<int64_t>& all, const std::set<int64_t>& part) {
  return std::includes(all.begin(), all.end(), part.begin(), part.end());
}

// The scenario of the "Faults" issue: the data directory on a small tmpfs
// that fills up under a 2 000-series scrape plus remote write.
TEST(FaultsE2E, DiskFull_RefusesWritesKeepsQueriesAndResumesWithoutLoss) {
  test_support::TmpfsMount disk(64 << 20);
  if (!disk.ok()) GTEST_SKIP() << "cannot mount a size-limited tmpfs (needs root): " << disk.error();
  MetricsTarget target(ManySeries(2000, 1));
  VigilProcess vigil(ScrapeConfig(target.address()),
                     {"--web.enable-remote-write-receiver"}, disk.Sub("data"));
  ASSERT_TRUE(vigil.WaitReady()) << vigil.Logs();
  ASSERT_TRUE(vigil.WaitFor([&] { return SampleTimes(vigil, "up").size() >= 3; }, 20s)) << vigil.Logs();

  // Remote write until the disk is full: every 2xx is acknowledged.
  disk.FillLeaving(512 << 10);
  std::set<int64_t> rw_acked;
  int64_t ts = NowMs() - 20 * 60'000;
  HttpReply refused;
  for (int i = 0; i < 20000 && refused.status == 0; ++i) {
    remote::RemoteTimeSeries ts_rw{{{"__name__", "rw_acked"}, {"job", "sender"}}, {}};
    for (int k = 0; k < 50; ++k) ts_rw.samples.push_back({double(i), ++ts});
    std::vector<remote::RemoteTimeSeries> batch = {ts_rw};
    for (int k = 0; k < 20; ++k) {  // padding series fill the WAL faster
      batch.push_back({{{"__name__", "rw_pad"}, {"k", std::to_string(k)}, {"i", std::to_string(i)}},
                       {{1, ts}}});
    }
    const HttpReply r = RemoteWrite(vigil.port(), batch);
    if (r.status / 100 == 2) {
      for (const auto& s : ts_rw.samples) rw_acked.insert(s.timestamp_ms);
    } else {
      refused = r;
    }
  }
  ASSERT_EQ(refused.status, 503) << refused.body << vigil.Logs();
  EXPECT_NE(refused.body.find("disk full"), std::string::npos) << refused.body;
  // Scraped samples acknowledged before the fault: what a query returned.
  const std::set<int64_t> up_before = SampleTimes(vigil, "up");
  const std::set<int64_t> metric_before = SampleTimes(vigil, "load_metric{i=\"1999\"}");
  ASSERT_FALSE(up_before.empty());

  // Not ready, says why, scrapes report it, queries still answer.
  HttpReply ready;
  ASSERT_TRUE(vigil.WaitFor([&] { return (ready = vigil.Get("/-/ready")).status == 503; }, 10s))
      << vigil.Logs();
  EXPECT_NE(ready.body.find("disk full"), std::string::npos) << ready.body;
  EXPECT_TRUE(vigil.WaitFor([&] { return TargetLastError(vigil).find("disk full") != std::string::npos; }, 10s))
      << TargetLastError(vigil);
  EXPECT_NE(vigil.Get("/metrics").body.find("vigil_tsdb_writes_blocked{reason=\"disk_full\"} 1"),
            std::string::npos);
  EXPECT_EQ(vigil.Get("/api/v1/query?query=count(load_metric)").status, 200);
  EXPECT_TRUE(Includes(SampleTimes(vigil, "rw_acked"), rw_acked));
  std::this_thread::sleep_for(3s);  // scrapes and flushes keep failing meanwhile
  ASSERT_EQ(vigil.Get("/-/healthy").status, 200) << vigil.Logs();

  // Space returns: Vigil resumes by itself, no restart.
  disk.FreeFiller();
  ASSERT_TRUE(vigil.WaitFor([&] { return vigil.Get("/-/ready").status == 200; }, 20s)) << vigil.Logs();
  const int64_t resumed_at = NowMs();
  ASSERT_TRUE(vigil.WaitFor(
      [&] {
        const auto up = SampleTimes(vigil, "up", "30s");
        return !up.empty() && *up.rbegin() > resumed_at;
      },
      20s))
      << vigil.Logs();
  EXPECT_TRUE(vigil.WaitFor([&] { return TargetLastError(vigil).empty(); }, 5s)) << TargetLastError(vigil);
  EXPECT_EQ(RemoteWrite(vigil.port(), {{{{"__name__", "rw_acked"}, {"job", "sender"}}, {{1, ts + 1}}}}).status,
            204);
  EXPECT_TRUE(Includes(SampleTimes(vigil, "up"), up_before));
  EXPECT_TRUE(Includes(SampleTimes(vigil, "load_metric{i=\"1999\"}"), metric_before));
  EXPECT_TRUE(Includes(SampleTimes(vigil, "rw_acked"), rw_acked));
  EXPECT_NE(vigil.Logs().find("Storage writes blocked"), std::string::npos);
  EXPECT_NE(vigil.Logs().find("Storage writable again"), std::string::npos);
}

TEST(FaultsE2E, FarFutureRemoteWriteSample_Is400NamingTheSeriesAndHarmsNothing) {
  VigilProcess vigil("global:\n  scrape_interval: 1m\n", {"--web.enable-remote-write-receiver"});
  ASSERT_TRUE(vigil.WaitReady()) << vigil.Logs();
  const int64_t now = NowMs();
  const remote::RemoteTimeSeries history{
      {{"__name__", "history"}, {"job", "s"}},
      {{1, now - 30 * 60'000}, {2, now - 20 * 60'000}, {3, now - 60'000}}};
  ASSERT_EQ(RemoteWrite(vigil.port(), {history}).status, 204);
  constexpr int64_t kYear2100 = 4'102'444'800'000;
  const HttpReply r = RemoteWrite(vigil.port(), {{{{"__name__", "from_the_future"}, {"job", "s"}}, {{1, kYear2100}}}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("too far in the future"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("from_the_future"), std::string::npos) << r.body;
  EXPECT_NE(vigil.Get("/metrics").body.find("vigil_tsdb_too_far_in_future_samples_total 1"),
            std::string::npos);
  // Current ingestion goes on and the history is whole.
  EXPECT_EQ(RemoteWrite(vigil.port(), {{{{"__name__", "history"}, {"job", "s"}}, {{4, NowMs()}}}}).status, 204);
  EXPECT_EQ(SampleTimes(vigil, "history").size(), 4u);
}

TEST(FaultsE2E, NoLockfile_StartsWhileAnotherProcessHoldsTheLockAndCreatesNone) {
  test_support::TempDir data;
  {
    VigilProcess vigil("global:\n  scrape_interval: 1m\n", {"--storage.tsdb.no-lockfile"}, data.path());
    ASSERT_TRUE(vigil.WaitReady()) << vigil.Logs();
    EXPECT_FALSE(std::filesystem::exists(data.path() / "LOCK"));
  }
  // This test process holds the lock: without the flag Vigil refuses to
  // start, with it Vigil opens the directory.
  auto held = storage::DataDirLock::Acquire(data.path().string());
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  {
    VigilProcess refused("global:\n  scrape_interval: 1m\n", {}, data.path());
    EXPECT_EQ(refused.WaitExit(), 1);
    EXPECT_NE(refused.Logs().find("in use"), std::string::npos) << refused.Logs();
  }
  VigilProcess vigil("global:\n  scrape_interval: 1m\n", {"--storage.tsdb.no-lockfile"}, data.path());
  EXPECT_TRUE(vigil.WaitReady()) << vigil.Logs();
}

}  // namespace
}  // namespace vigil::e2e
