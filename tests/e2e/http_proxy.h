// HttpProxy: a small forward HTTP proxy on loopback for tests of proxy_url:
// CONNECT tunnels (https targets) and absolute-URI requests (http targets),
// as a proxy such as Squid serves Go's net/http. Records each request's head.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace vigil::e2e {

class HttpProxy {
 public:
  HttpProxy();
  ~HttpProxy();
  HttpProxy(const HttpProxy&) = delete;
  HttpProxy& operator=(const HttpProxy&) = delete;

  int port() const { return port_; }
  // The first line of every request the proxy received, in order.
  std::vector<std::string> request_lines() const;
  // The head (request line and header lines, without the blank line) of
  // every request the proxy received, in order.
  std::vector<std::string> request_heads() const;

 private:
  void Accept();
  void Serve(int client);

  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<std::string> heads_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace vigil::e2e
