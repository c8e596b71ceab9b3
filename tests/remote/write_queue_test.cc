// WriteQueue against a real WAL directory and a loopback HTTP receiver that
// answers with scripted statuses: what is retried, what is dropped, which
// headers go out.
#include "remote/write_queue.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "remote/remote_protocol.h"
#include "storage/wal/wal.h"
#include "storage/wal/wal_record.h"
#include "tests/support/test_dirs_and_ports.h"

namespace vigil::remote {
namespace {

using namespace std::chrono_literals;

// Answers each POST with the next scripted status (204 once the script is
// used up), after `delay` (a slow remote), and keeps what it accepted.
class Receiver {
 public:
  explicit Receiver(std::deque<int> statuses, std::chrono::milliseconds delay = 0ms)
      : statuses_(std::move(statuses)) {
    server_.Post("/write", [this, delay](const httplib::Request& req, httplib::Response& res) {
      std::this_thread::sleep_for(delay);
      std::lock_guard lock(mu_);
      last_headers_ = req.headers;
      ++requests_;
      const int status = statuses_.empty() ? 204 : statuses_.front();
      if (!statuses_.empty()) statuses_.pop_front();
      res.status = status;
      if (status != 204) return;
      auto raw = SnappyDecode(req.body, 1 << 20);
      if (!raw.ok()) return;
      auto request = DecodeWriteRequest(*raw);
      if (!request.ok()) return;
      for (const auto& ts : request->timeseries) {
        accepted_ += ts.samples.size();
        auto& seen = timestamps_[Labels(ts.labels).ToString()];
        for (const auto& s : ts.samples) seen.push_back(s.timestamp_ms);
      }
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/write"; }
  size_t accepted() const {
    std::lock_guard lock(mu_);
    return accepted_;
  }
  int requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  // Timestamps accepted per series, in order of arrival.
  std::map<std::string, std::vector<int64_t>> timestamps() const {
    std::lock_guard lock(mu_);
    return timestamps_;
  }
  std::string header(const std::string& name) const {
    std::lock_guard lock(mu_);
    auto it = last_headers_.find(name);
    return it == last_headers_.end() ? "" : it->second;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  std::deque<int> statuses_;
  size_t accepted_ = 0;
  std::map<std::string, std::vector<int64_t>> timestamps_;
  int requests_ = 0;
  httplib::Headers last_headers_;
};

class WriteQueueTest : public ::testing::Test {
 protected:
  // One commit of `n` samples of one new series, to a fresh WAL.
  void WriteSamples(int n) {
    auto wal = storage::WalWriter::Open(dir_.path().string());
    ASSERT_TRUE(wal.ok());
    std::vector<storage::WalSeries> series = {{1, Labels{{"__name__", "m"}}}};
    std::vector<storage::WalSample> samples;
    const int64_t now = SystemClock::Get()->NowMillis();
    for (int i = 0; i < n; ++i) samples.push_back({1, now - n + i, static_cast<double>(i)});
    ASSERT_TRUE((*wal)->Append(storage::EncodeWalCommit(series, samples), false).ok());
  }

  // `series` series, each with `per_series` samples 1 s apart ending now,
  // one commit per step so the series interleave in the WAL.
  void WriteInterleaved(int series, int per_series) {
    auto wal = storage::WalWriter::Open(dir_.path().string());
    ASSERT_TRUE(wal.ok());
    const int64_t now = SystemClock::Get()->NowMillis();
    for (int i = 0; i < per_series; ++i) {
      std::vector<storage::WalSeries> new_series;
      std::vector<storage::WalSample> samples;
      for (int s = 1; s <= series; ++s) {
        if (i == 0)
          new_series.push_back(
              {static_cast<SeriesRef>(s), Labels{{"__name__", "m"}, {"s", std::to_string(s)}}});
        samples.push_back(
            {static_cast<SeriesRef>(s), now - (per_series - i) * 1000, static_cast<double>(i)});
      }
      ASSERT_TRUE((*wal)->Append(storage::EncodeWalCommit(new_series, samples), false).ok());
    }
  }

  std::unique_ptr<WriteQueue> Start(const Receiver& receiver, bool retry_on_429 = false) {
    return std::make_unique<WriteQueue>(Options(receiver, retry_on_429));
  }

  WriteQueueOptions Options(const Receiver& receiver, bool retry_on_429 = false) {
    WriteQueueOptions o;
    o.config.url = receiver.url();
    o.config.name = "q";
    o.config.headers = {{"X-Scope-OrgID", "team-a"}};
    o.config.http.basic_auth = config::BasicAuth{"user", "secret", ""};
    o.config.queue_config.batch_send_deadline_ms = 50;
    o.config.queue_config.min_backoff_ms = 10;
    o.config.queue_config.max_backoff_ms = 20;
    o.config.queue_config.retry_on_http_429 = retry_on_429;
    o.wal_dir = dir_.path().string();
    o.position = PositionFile((dir_.path() / "q.position").string());
    o.user_agent = "Vigil/test";
    o.poll_interval_ms = 10;
    return o;
  }

  // Small batches and shards between 1 and 4, recomputed every 100 ms: a slow
  // receiver makes the queue reshard within the test's time.
  WriteQueueOptions ReshardingOptions(const Receiver& receiver) {
    WriteQueueOptions o = Options(receiver);
    o.config.queue_config.min_shards = 1;
    o.config.queue_config.max_shards = 4;
    o.config.queue_config.capacity = 10;
    o.config.queue_config.max_samples_per_send = 10;
    o.shard_update_interval_ms = 100;
    return o;
  }

  static bool Eventually(const std::function<bool()>& done) {
    for (int i = 0; i < 300 && !done(); ++i) std::this_thread::sleep_for(10ms);
    return done();
  }

  test_support::TempDir dir_;
};

TEST_F(WriteQueueTest, ServerErrors_AreRetriedUntilAccepted_WithProtocolHeaders) {
  Receiver receiver({500, 503});
  auto position = PositionFile((dir_.path() / "q.position").string());
  ASSERT_TRUE(position.Save({0, 0}).ok());  // read the WAL from its start
  WriteSamples(10);
  auto queue = Start(receiver);
  ASSERT_TRUE(Eventually([&] { return receiver.accepted() == 10; }));
  // The receiver counts a batch before the queue has read its reply and
  // counted it as sent.
  ASSERT_TRUE(Eventually([&] { return queue->metrics().samples_sent.load() >= 10u; }));
  EXPECT_EQ(queue->metrics().samples_retried.load(), 20u);
  EXPECT_EQ(queue->metrics().samples_sent.load(), 10u);
  EXPECT_EQ(queue->metrics().samples_failed.load(), 0u);
  EXPECT_EQ(receiver.header("Content-Encoding"), "snappy");
  EXPECT_EQ(receiver.header("Content-Type"), "application/x-protobuf");
  EXPECT_EQ(receiver.header("X-Prometheus-Remote-Write-Version"), "0.1.0");
  EXPECT_EQ(receiver.header("User-Agent"), "Vigil/test");
  EXPECT_EQ(receiver.header("X-Scope-OrgID"), "team-a");
  EXPECT_EQ(receiver.header("Authorization"), "Basic dXNlcjpzZWNyZXQ=");
}

TEST_F(WriteQueueTest, TooManyRequests_IsDroppedUnlessRetryOn429) {
  {
    Receiver receiver({429});
    ASSERT_TRUE(PositionFile((dir_.path() / "q.position").string()).Save({0, 0}).ok());
    WriteSamples(5);
    auto queue = Start(receiver);
    ASSERT_TRUE(Eventually([&] { return queue->metrics().samples_failed.load() == 5; }));
    EXPECT_EQ(receiver.accepted(), 0u);
    EXPECT_EQ(queue->metrics().samples_retried.load(), 0u);
  }
  std::filesystem::remove_all(dir_.path());
  std::filesystem::create_directories(dir_.path());
  Receiver receiver({429});
  ASSERT_TRUE(PositionFile((dir_.path() / "q.position").string()).Save({0, 0}).ok());
  WriteSamples(5);
  auto queue = Start(receiver, /*retry_on_429=*/true);
  ASSERT_TRUE(Eventually([&] { return receiver.accepted() == 5; }));
  EXPECT_EQ(queue->metrics().samples_retried.load(), 5u);
  EXPECT_EQ(queue->metrics().samples_failed.load(), 0u);
}

TEST_F(WriteQueueTest, AcknowledgedPosition_IsSavedAndResumedFrom) {
  Receiver receiver({});
  ASSERT_TRUE(PositionFile((dir_.path() / "q.position").string()).Save({0, 0}).ok());
  WriteSamples(3);
  {
    auto queue = Start(receiver);
    ASSERT_TRUE(Eventually([&] { return receiver.accepted() == 3; }));
    ASSERT_TRUE(Eventually([&] { return queue->saved_position().offset > 0; }));
  }
  WriteSamples(4);  // a new segment, written while no queue runs
  auto queue = Start(receiver);
  ASSERT_TRUE(Eventually([&] { return receiver.accepted() == 7; }));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(receiver.accepted(), 7u);  // nothing sent twice
}

TEST_F(WriteQueueTest, Snapshot_ShowsSentRetriedLastErrorAndNoLagOnceCaughtUp) {
  Receiver receiver({503});
  ASSERT_TRUE(PositionFile((dir_.path() / "q.position").string()).Save({0, 0}).ok());
  WriteSamples(10);
  const int64_t before = SystemClock::Get()->NowMillis();
  auto queue = Start(receiver);
  ASSERT_TRUE(Eventually([&] { return receiver.accepted() == 10; }));
  ASSERT_TRUE(Eventually([&] { return queue->Snapshot().saved_position.offset > 0; }));
  const QueueSnapshot s = queue->Snapshot();
  EXPECT_EQ(s.remote_name, "q");
  EXPECT_EQ(s.url, receiver.url());
  EXPECT_EQ(s.shards, 1);
  EXPECT_EQ(s.min_shards, 1);
  EXPECT_EQ(s.max_shards, config::QueueConfig{}.max_shards);
  EXPECT_EQ(s.samples_in, 10u);
  EXPECT_EQ(s.samples_sent, 10u);
  EXPECT_EQ(s.samples_retried, 10u);
  EXPECT_EQ(s.samples_failed, 0u);
  EXPECT_EQ(s.samples_pending, 0);
  EXPECT_GT(s.highest_read_ms, 0);
  EXPECT_EQ(s.highest_sent_ms, s.highest_read_ms);
  EXPECT_EQ(s.LagSeconds(), 0.0);
  EXPECT_NE(s.last_error.find("HTTP status 503"), std::string::npos) << s.last_error;
  EXPECT_GE(s.last_error_ms, before);
  EXPECT_GE(s.last_success_ms, s.last_error_ms);
  EXPECT_EQ(s.saved_position, queue->saved_position());
}

TEST_F(WriteQueueTest, Snapshot_UnreachableReceiver_ShowsPendingAndErrorWithRedactedUrl) {
  Receiver unused({});
  WriteQueueOptions o = Options(unused);
  o.config.url = "http://user:secret@127.0.0.1:" + std::to_string(test_support::FreePort()) +
                 "/write";  // nothing listens there
  ASSERT_TRUE(PositionFile((dir_.path() / "q.position").string()).Save({0, 0}).ok());
  WriteSamples(4);
  WriteQueue queue(o);
  ASSERT_TRUE(Eventually([&] { return queue.Snapshot().samples_retried >= 8; }));
  const QueueSnapshot s = queue.Snapshot();
  EXPECT_EQ(s.url.find("secret"), std::string::npos) << s.url;
  EXPECT_NE(s.url.find("user:xxxxx@"), std::string::npos) << s.url;
  EXPECT_EQ(s.samples_sent, 0u);
  EXPECT_EQ(s.samples_pending, 4);
  EXPECT_FALSE(s.last_error.empty());
  EXPECT_GT(s.last_error_ms, 0);
  EXPECT_EQ(s.last_success_ms, 0);
  EXPECT_EQ(s.highest_sent_ms, 0);
  EXPECT_FALSE(s.LagSeconds().has_value());  // read, nothing sent yet
}

TEST(QueueSnapshotTest, LagSeconds_IsHighestReadMinusHighestSent) {
  QueueSnapshot s;
  EXPECT_EQ(s.LagSeconds(), 0.0);  // nothing read
  s.highest_read_ms = 10'500;
  EXPECT_FALSE(s.LagSeconds().has_value());  // nothing sent
  s.highest_sent_ms = 8'000;
  EXPECT_EQ(s.LagSeconds(), 2.5);
}

TEST(EwmaRateTest, FirstTickWithEventsSetsTheRate_LaterTicksMoveAFifthOfTheWay) {
  EwmaRate r(0.2);
  r.Tick(0, 10);
  EXPECT_EQ(r.rate(), 0);  // no events yet: nothing to average
  r.Tick(100, 10);
  EXPECT_DOUBLE_EQ(r.rate(), 10);
  r.Tick(200, 10);
  EXPECT_DOUBLE_EQ(r.rate(), 12);  // 10 + 0.2 x (20 - 10)
  r.Tick(0, 10);
  EXPECT_DOUBLE_EQ(r.rate(), 9.6);  // decays once started
  r.Tick(5, 0);
  EXPECT_DOUBLE_EQ(r.rate(), 9.6);  // an empty interval is ignored
}

TEST_F(WriteQueueTest, SlowRemote_GrowsShardsUpToMax_EverySampleOnceAndInOrderPerSeries) {
  constexpr int kSeries = 20, kPerSeries = 100;
  Receiver receiver({}, 20ms);  // one shard: 10 samples per 20 ms, far behind the backlog
  ASSERT_TRUE(PositionFile((dir_.path() / "q.position").string()).Save({0, 0}).ok());
  WriteInterleaved(kSeries, kPerSeries);
  const WriteQueueOptions o = ReshardingOptions(receiver);
  {
    WriteQueue queue(o);
    int64_t most_shards = 0;
    for (int i = 0; i < 2000 && receiver.accepted() < kSeries * kPerSeries; ++i) {
      most_shards = std::max(most_shards, queue.metrics().shards.load());
      std::this_thread::sleep_for(10ms);
    }
    ASSERT_EQ(receiver.accepted(), static_cast<size_t>(kSeries * kPerSeries));
    EXPECT_EQ(most_shards, 4);
    EXPECT_GT(queue.metrics().shards_desired.load(), 1.0);
    EXPECT_TRUE(Eventually([&] { return queue.metrics().samples_pending.load() == 0; }));
    const auto timestamps = receiver.timestamps();
    ASSERT_EQ(timestamps.size(), static_cast<size_t>(kSeries));
    for (const auto& [series, ts] : timestamps) {
      ASSERT_EQ(ts.size(), static_cast<size_t>(kPerSeries)) << series;
      EXPECT_TRUE(std::is_sorted(ts.begin(), ts.end())) << series;
      EXPECT_EQ(std::adjacent_find(ts.begin(), ts.end()), ts.end()) << series;
    }
    // The saved position covers everything once all of it is acknowledged.
    ASSERT_TRUE(Eventually([&] { return queue.saved_position().offset > 0; }));
    std::this_thread::sleep_for(1100ms);  // the next periodic save
  }
  WriteQueue again(o);  // resumes from the saved position: nothing is sent twice
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(receiver.accepted(), static_cast<size_t>(kSeries * kPerSeries));
}

TEST_F(WriteQueueTest, LoadFallsOff_ShardsShrinkToMin_OrderKeptAcrossBothReshards) {
  constexpr int kSeries = 20, kPerSeries = 50;
  Receiver receiver({}, 20ms);
  ASSERT_TRUE(PositionFile((dir_.path() / "q.position").string()).Save({0, 0}).ok());
  WriteInterleaved(kSeries, kPerSeries);
  const WriteQueueOptions o = ReshardingOptions(receiver);
  WriteQueue queue(o);
  ASSERT_TRUE(Eventually([&] { return queue.metrics().shards.load() == 4; }));
  // A trickle: a few samples every 50 ms keeps sends going, far below what
  // one shard carries.
  auto wal = storage::WalWriter::Open(dir_.path().string());
  ASSERT_TRUE(wal.ok());
  int64_t t = SystemClock::Get()->NowMillis();
  size_t written = kSeries * kPerSeries;
  for (int i = 0; i < 200 && queue.metrics().shards.load() != 1; ++i) {
    std::vector<storage::WalSample> samples;
    for (SeriesRef s = 1; s <= 3; ++s) samples.push_back({s, ++t, 1.0});
    ASSERT_TRUE((*wal)->Append(storage::EncodeWalCommit({}, samples), false).ok());
    written += samples.size();
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(queue.metrics().shards.load(), 1);
  ASSERT_TRUE(Eventually([&] { return receiver.accepted() == written; }));
  for (const auto& [series, ts] : receiver.timestamps()) {
    EXPECT_TRUE(std::is_sorted(ts.begin(), ts.end())) << series;
    EXPECT_EQ(std::adjacent_find(ts.begin(), ts.end()), ts.end()) << series;
  }
}

}  // namespace
}  // namespace vigil::remote
