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
// used up) and keeps what it accepted.
class Receiver {
 public:
  explicit Receiver(std::deque<int> statuses) : statuses_(std::move(statuses)) {
    server_.Post("/write", [this](const httplib::Request& req, httplib::Response& res) {
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
      for (const auto& ts : request->timeseries) accepted_ += ts.samples.size();
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

  std::unique_ptr<WriteQueue> Start(const Receiver& receiver, bool retry_on_429 = false) {
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
    return std::make_unique<WriteQueue>(std::move(o));
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

}  // namespace
}  // namespace vigil::remote
