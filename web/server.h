// Server: Vigil's HTTP face: the Prometheus HTTP API v1, /metrics, lifecycle
// endpoints, /federate, remote write/read and the UI.
//
// Connections (web/http_connection.h). cpp-httplib parses and routes; Vigil
// owns the connection loop and the threads, because httplib's own handling
// lets slow clients starve everyone: its read timeout bounds each wait for
// bytes, not the request, and its fixed thread pool is held by whoever is
// connected. So:
//  - one thread per open connection (created on demand, reused for a while),
//    at most --web.max-connections of them. At the cap the accept loop stops
//    accepting (it holds the one socket it accepted last, unserved, until a
//    slot frees): further clients wait in the kernel's listen backlog (as
//    deep as the cap, at least 128) and never take a thread. Idle or trickling connections thus
//    cost a thread each but cannot hold back /-/healthy, /metrics or queries
//    on other connections, and queued queries (--query.max-concurrency) wait
//    on their own connections' threads.
//  - every read of one request (line, headers and body) shares one deadline,
//    --web.read-timeout after the request started (after accept for the first
//    request on a connection), as Go's http.Server ReadTimeout: a client that
//    has not sent its whole request by then is disconnected.
//  - a kept-alive connection without a new request for idle_timeout_ms closes.
//  - a body over max_request_bytes is answered 413 with the API's error JSON
//    and "Connection: close"; the unread rest of the body is then drained
//    (within the read deadline, at most 10 s) so the client reads the answer
//    instead of a connection reset.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "promql/engine.h"
#include "remote/write_manager.h"
#include "rules/manager.h"
#include "scraper/manager.h"
#include "storage/storage.h"

namespace vigil::web {

struct BuildInfo {
  std::string version;
  std::string revision;
  std::string branch;
  std::string build_user;
  std::string build_date;
  std::string go_version;  // Prometheus reports its Go version; we report the compiler
};

struct ServerOptions {
  std::string listen_address = "0.0.0.0:9090";
  std::string route_prefix = "/";
  std::string external_url;
  std::string cors_origin = ".*";
  bool enable_lifecycle = false;
  bool enable_admin_api = false;
  bool enable_remote_write_receiver = false;
  // --enable-feature=otlp-write-receiver: POST /api/v1/otlp/v1/metrics.
  bool enable_otlp_write_receiver = false;
  // --web.config.file: TLS, security headers and basic auth (exporter-toolkit's
  // format, web/web_config.h); read again for every new connection.
  std::string web_config_file;
  int max_connections = 512;                // --web.max-connections
  int64_t read_timeout_ms = 5 * 60 * 1000;  // --web.read-timeout
  int64_t max_request_bytes = 32 << 20;
  // Remote read: samples one query may return (0: no limit), requests served
  // at once (0: no limit; others wait), and the time one request may take.
  int64_t remote_read_sample_limit = 50'000'000;   // --storage.remote.read-sample-limit
  int remote_read_concurrent_limit = 10;           // --storage.remote.read-concurrent-limit
  int64_t remote_read_timeout_ms = 2 * 60 * 1000;  // --query.timeout
  BuildInfo build;
  // Every command-line flag with its effective value, for /api/v1/status/flags.
  std::vector<std::pair<std::string, std::string>> flags;
  std::string storage_retention;  // e.g. "30d", for runtimeinfo
  // The data directory (--storage.tsdb.path); admin snapshots go to <it>/snapshots/.
  std::string storage_path = "data/";
  // Source of "now" for queries without a time parameter and for uptime.
  const Clock* clock = SystemClock::Get();
  // An idle keep-alive connection is closed after this long.
  int64_t idle_timeout_ms = 5 * 1000;
  int64_t write_timeout_ms = 60 * 1000;
};

// What the server needs from the rest of the process.
struct ServerDeps {
  storage::Storage* db = nullptr;
  promql::Engine* engine = nullptr;
  scraper::Manager* scrape_manager = nullptr;
  // Rule groups and alerts for /api/v1/rules and /api/v1/alerts (optional).
  const rules::Manager* rule_manager = nullptr;
  // The Alertmanagers alerts go to, for /api/v1/alertmanagers (optional).
  const rules::Notifier* notifier = nullptr;
  // The remote write queues, for /api/v1/status/remote_write (optional).
  const remote::WriteManager* remote_write = nullptr;
  // Re-reads the config file and applies it; an error leaves the old one running.
  std::function<Status()> reload;
  // The currently loaded config file's YAML.
  std::function<std::string()> config_yaml;
  // Asks the process to shut down (POST /-/quit).
  std::function<void()> quit;
  // The config's global external_labels, added to /federate output (optional).
  std::function<Labels()> external_labels;
};

class Server {
 public:
  Server(ServerOptions options, ServerDeps deps);
  ~Server();  // stops
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts serving on background threads.
  Status Start();
  // Stops accepting and joins the threads. Idempotent.
  void Stop();
  // /-/ready answers 200 only after SetReady(true).
  void SetReady(bool ready);
  // The bound port (useful with port 0).
  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::web
