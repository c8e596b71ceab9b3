// ConnectRelay: a loopback relay between cpp-httplib and an HTTP proxy that
// writes the CONNECT request of https-through-proxy tunnels itself, so it
// carries proxy_connect_header and the proxy URL's credentials as Go's
// net/http Transport sends them. cpp-httplib 0.11 sends a bare CONNECT and
// puts the proxy's Proxy-Authorization on the tunnelled requests too, which
// would give the target the proxy's password. Internal header.
//
// httplib is pointed at the relay as its proxy; for each connection the
// relay reads httplib's "CONNECT host:port", sends the proxy
//   CONNECT host:port HTTP/1.1 / Host: host:port / <headers>
// hands the proxy's answer back and then copies bytes both ways.
#pragma once

#include <atomic>
#include <list>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace vigil::config {

class ConnectRelay {
 public:
  using HeaderList = std::vector<std::pair<std::string, std::string>>;

  // The relay to proxy_host:proxy_port adding `headers` to CONNECT, started
  // on first use and kept for the life of the process; nullptr when no
  // loopback port can be had.
  static ConnectRelay* For(const std::string& proxy_host, int proxy_port,
                           const HeaderList& headers);

  ConnectRelay(std::string proxy_host, int proxy_port, HeaderList headers);
  ~ConnectRelay();
  ConnectRelay(const ConnectRelay&) = delete;
  ConnectRelay& operator=(const ConnectRelay&) = delete;

  bool ok() const { return listener_ >= 0; }
  // The loopback port httplib uses as its proxy.
  int port() const { return port_; }

 private:
  struct Worker {
    std::thread thread;
    std::atomic<bool> done{false};
  };

  void Accept();
  void Serve(int client) const;
  void ReapFinished();

  const std::string proxy_host_;
  const int proxy_port_;
  const HeaderList headers_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::list<Worker> workers_;
  std::thread acceptor_;
};

}  // namespace vigil::config
