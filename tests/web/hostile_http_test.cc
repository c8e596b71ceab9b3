// Hostile clients over real loopback sockets: slowloris, the connection cap,
// the total read deadline and oversized bodies.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "remote/remote_protocol.h"
#include "tests/web/api_server.h"

namespace vigil::web::testing {
namespace {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

double SecondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// Everything `fd` receives until the peer closes or nothing comes for `wait`.
std::string ReceiveAll(int fd, milliseconds wait) {
  std::string out;
  char buf[4096];
  while (true) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(wait.count())) <= 0) break;
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// Whether the server closed `fd` (EOF or reset) within `wait`.
bool ClosedWithin(int fd, milliseconds wait) {
  const auto deadline = SteadyClock::now() + wait;
  char buf[256];
  while (SteadyClock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - SteadyClock::now());
    if (poll(&p, 1, static_cast<int>(std::max<int64_t>(1, left.count()))) <= 0) continue;
    if (recv(fd, buf, sizeof(buf), 0) <= 0) return true;
  }
  return false;
}

bool SendAll(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

// Connections that send a request's first bytes, then one more byte every
// `interval` until destroyed: each keeps its request unfinished for as long.
class Slowloris {
 public:
  Slowloris(int port, int connections, milliseconds interval) {
    for (int i = 0; i < connections; ++i) {
      const int fd = ConnectLoopback(port);
      if (fd >= 0 && SendAll(fd, "GET /api/v1/query?query=1 HTTP/1.1\r\n")) fds_.push_back(fd);
    }
    trickler_ = std::thread([this, interval] {
      while (!stop_.load()) {
        for (const int fd : fds_) send(fd, "X", 1, MSG_NOSIGNAL);
        for (auto t = milliseconds(0); t < interval && !stop_.load(); t += milliseconds(50)) {
          std::this_thread::sleep_for(milliseconds(50));
        }
      }
    });
  }
  ~Slowloris() {
    stop_.store(true);
    trickler_.join();
    for (const int fd : fds_) close(fd);
  }
  size_t connected() const { return fds_.size(); }
  const std::vector<int>& fds() const { return fds_; }

 private:
  std::vector<int> fds_;
  std::atomic<bool> stop_{false};
  std::thread trickler_;
};

TEST(HostileHttpTest, FiftySlowlorisConnections_DoNotStopHealthMetricsOrQueries) {
  ApiServer api;
  Slowloris slow(api.port(), 50, milliseconds(1000));
  ASSERT_EQ(slow.connected(), 50u);
  std::this_thread::sleep_for(milliseconds(200));  // all 50 accepted and reading
  for (const char* path : {"/-/healthy", "/metrics", "/api/v1/query?query=1%2B1"}) {
    const auto start = SteadyClock::now();
    const auto r = api.Get(path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_LT(SecondsSince(start), 5.0) << path;
  }
}

TEST(HostileHttpTest, ReadDeadline_CutsOffAClientTricklingItsHeaders) {
  ServerOptions options;
  options.read_timeout_ms = 1000;
  ApiServer api(options);
  const auto start = SteadyClock::now();
  Slowloris slow(api.port(), 1, milliseconds(100));  // a byte every 100 ms: never idle
  ASSERT_EQ(slow.connected(), 1u);
  EXPECT_TRUE(ClosedWithin(slow.fds()[0], milliseconds(3000)));
  const double seconds = SecondsSince(start);
  EXPECT_GE(seconds, 0.9);
  EXPECT_LT(seconds, 2.5);
}

TEST(HostileHttpTest, ReadDeadline_AllowsASlowRequestThatFinishesInTime) {
  ServerOptions options;
  options.read_timeout_ms = 2000;
  ApiServer api(options);
  const int fd = ConnectLoopback(api.port());
  ASSERT_GE(fd, 0);
  for (const char* part : {"GET /api/v1/query?query=1 HT", "TP/1.1\r\nHost: x\r\n", "\r\n"}) {
    ASSERT_TRUE(SendAll(fd, part));
    std::this_thread::sleep_for(milliseconds(200));
  }
  EXPECT_TRUE(ReceiveAll(fd, milliseconds(1000)).starts_with("HTTP/1.1 200"));
  close(fd);
}

// Open file descriptors of this process (the server under test runs in it).
size_t OpenFds() {
  return static_cast<size_t>(std::distance(std::filesystem::directory_iterator("/proc/self/fd"),
                                           std::filesystem::directory_iterator()));
}

TEST(HostileHttpTest, ConnectionCap_ConnectionsOverItAreNotAccepted) {
  ServerOptions options;
  options.max_connections = 4;
  ApiServer api(options);
  const size_t before = OpenFds();
  std::vector<int> clients;
  for (int i = 0; i < 12; ++i) clients.push_back(ConnectLoopback(api.port()));
  std::this_thread::sleep_for(milliseconds(300));
  // Twelve client sockets, four served, and one accepted whose hand-over is
  // waiting for a slot (httplib accepts before it enqueues): the other seven
  // wait in the kernel's backlog, costing the server nothing.
  EXPECT_EQ(OpenFds() - before, 12u + 4u + 1u);
  for (const int fd : clients) close(fd);
}

TEST(HostileHttpTest, ConnectionCap_HoldsFurtherClientsUntilASlotFrees) {
  ServerOptions options;
  options.max_connections = 4;
  ApiServer api(options);
  std::vector<int> idle;
  for (int i = 0; i < 4; ++i) idle.push_back(ConnectLoopback(api.port()));
  std::this_thread::sleep_for(milliseconds(200));
  // The fifth connects (kernel backlog) but is not served while four are open.
  const int fd = ConnectLoopback(api.port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, "GET /-/healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(ReceiveAll(fd, milliseconds(700)), "");
  close(idle.back());
  idle.pop_back();
  EXPECT_TRUE(ReceiveAll(fd, milliseconds(2000)).starts_with("HTTP/1.1 200"));
  close(fd);
  for (const int i : idle) close(i);
}

std::string RemoteWriteHead(size_t content_length, const std::string& extra = "") {
  return "POST /api/v1/write HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
         "Content-Encoding: snappy\r\nContent-Length: " +
         std::to_string(content_length) + "\r\n" + extra + "\r\n";
}

void ExpectJson413(const std::string& reply) {
  ASSERT_TRUE(reply.starts_with("HTTP/1.1 413")) << reply.substr(0, 200);
  const auto body = nlohmann::json::parse(reply.substr(reply.find("\r\n\r\n") + 4));
  EXPECT_EQ(body["status"], "error");
  EXPECT_EQ(body["errorType"], "bad_data");
  EXPECT_EQ(body["error"], "request body too large: limit is 33554432 bytes");
}

TEST(HostileHttpTest, SixtyFourMebibyteRemoteWrite_GetsA413JsonAnswerNotAReset) {
  ServerOptions options;
  options.enable_remote_write_receiver = true;
  ApiServer api(options);
  const int fd = ConnectLoopback(api.port());
  ASSERT_GE(fd, 0);
  const size_t size = size_t{64} << 20;
  ASSERT_TRUE(SendAll(fd, RemoteWriteHead(size)));
  // The whole body goes out (the server drains it) and the answer is read after.
  const std::string chunk(1 << 20, 'x');
  bool sent_all = true;
  for (size_t sent = 0; sent < size && sent_all; sent += chunk.size()) {
    sent_all = SendAll(fd, chunk);
  }
  EXPECT_TRUE(sent_all);
  ExpectJson413(ReceiveAll(fd, milliseconds(2000)));
  close(fd);
  EXPECT_EQ(api.Get("/-/healthy").status, 200);
}

TEST(HostileHttpTest, OversizedBodyAnnouncedWithExpectContinue_Is413BeforeTheBody) {
  ServerOptions options;
  options.enable_remote_write_receiver = true;
  ApiServer api(options);
  const int fd = ConnectLoopback(api.port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, RemoteWriteHead(size_t{64} << 20, "Expect: 100-continue\r\n")));
  ExpectJson413(ReceiveAll(fd, milliseconds(1000)));
  close(fd);
}

}  // namespace
}  // namespace vigil::web::testing
