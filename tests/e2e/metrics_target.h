// MetricsTarget: a loopback HTTP scrape target for tests, serving whatever
// exposition text the test sets, and counting scrapes.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace vigil::e2e {

class MetricsTarget {
 public:
  // Starts serving `body` on 127.0.0.1:<free port> at `path`.
  explicit MetricsTarget(std::string body, std::string path = "/metrics");
  ~MetricsTarget();
  MetricsTarget(const MetricsTarget&) = delete;
  MetricsTarget& operator=(const MetricsTarget&) = delete;

  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  void SetBody(std::string body);
  // The Content-Type of every following scrape (default: the text format 0.0.4).
  void SetContentType(std::string content_type);
  // Makes every following scrape wait this long before answering.
  void SetDelay(std::chrono::milliseconds delay) { delay_ms_ = delay.count(); }
  int scrapes() const { return scrapes_.load(); }

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex mu_;
  std::string body_;
  std::string content_type_ = "text/plain; version=0.0.4";
  std::atomic<int64_t> delay_ms_{0};
  std::atomic<int> scrapes_{0};
};

}  // namespace vigil::e2e
