// HttpConnectionServer: cpp-httplib's request parsing and routing with Vigil's
// own connection handling, so slow or idle clients cannot starve the server.
// Internal to web/; the design is described in web/server.h.
#pragma once

#include <httplib.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "base/status.h"
#include "web/web_config.h"

namespace vigil::web {

struct ConnectionLimits {
  // Connections served at once; further ones wait in the kernel's backlog.
  int max_connections = 512;
  // Total time to read one request's line, headers and body (Go's ReadTimeout).
  int64_t read_timeout_ms = 5 * 60 * 1000;
  // A kept-alive connection with no new request for this long is closed.
  int64_t idle_timeout_ms = 5 * 1000;
  // Each wait for the client to take response bytes.
  int64_t write_timeout_ms = 60 * 1000;
  // Requests served on one connection before it is closed.
  int keep_alive_max_requests = 1000;
};

// A thread per connection, created on demand and kept a while for reuse, up
// to max_connections: enqueue() (called by httplib's accept loop) blocks while
// that many connections are open, so the next ones stay unaccepted.
class ConnectionPool final : public httplib::TaskQueue {
 public:
  explicit ConnectionPool(int max_connections);
  ~ConnectionPool() override;

  void enqueue(std::function<void()> fn) override;
  // Waits for every connection to end (they end soon once the server stops).
  void shutdown() override;

 private:
  void Work(std::function<void()> job);
  void ReapFinishedLocked();

  const int max_connections_;
  std::mutex mu_;
  std::condition_variable slot_freed_;
  std::condition_variable job_ready_;
  int active_ = 0;  // connections being served
  int idle_ = 0;    // threads waiting for a connection
  bool shutdown_ = false;
  std::deque<std::function<void()>> jobs_;
  std::map<std::thread::id, std::thread> threads_;
  std::vector<std::thread::id> finished_;
};

// Gives each new connection the web config (--web.config.file) it is served
// with, read again from disk; an error closes the connection unserved.
using WebConfigLoader = std::function<Result<std::shared_ptr<const LoadedWebConfig>>()>;

class HttpConnectionServer final : public httplib::Server {
 public:
  explicit HttpConnectionServer(ConnectionLimits limits);

  // Before listening: every connection loads its web config with `loader`
  // and, when `tls`, does a TLS handshake with that config's context first.
  void SetWebConfigLoader(WebConfigLoader loader, bool tls);

  // After bind: a listen backlog as deep as the connection cap (httplib's is 5).
  void RaiseBacklog();
  // Whether stop() has been called (connections end when it has).
  bool stopping() const { return svr_sock_ == INVALID_SOCKET; }
  const ConnectionLimits& limits() const { return limits_; }

 private:
  bool process_and_close_socket(socket_t sock) override;

  ConnectionLimits limits_;
  WebConfigLoader web_config_loader_;
  bool tls_ = false;
};

// Called from a handler: the connection closes after this response (its
// request body was not read, so the next bytes are not a request). The
// response reaches the client first: the unread body is drained, within the
// request's read deadline, before the socket closes.
void CloseConnectionAfterResponse();

}  // namespace vigil::web
