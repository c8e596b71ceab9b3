// LoopbackServer: a real HTTP server on 127.0.0.1 with a random port, for
// scrape targets and fake API servers in tests. Stops and joins on destruction.
#pragma once

#include <httplib.h>

#include <chrono>
#include <string>
#include <thread>

namespace vigil::scraper {

class LoopbackServer {
 public:
  LoopbackServer() = default;
  ~LoopbackServer() { Stop(); }
  httplib::Server& server() { return server_; }
  // Binds and starts serving; returns the port.
  int Start() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the accept loop runs would be lost: wait for it.
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return port_;
  }
  void Stop() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace vigil::scraper
