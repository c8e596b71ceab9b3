// Server: Vigil's HTTP face: the Prometheus HTTP API v1, /metrics, lifecycle
// endpoints, /federate, remote write/read and the UI.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "promql/engine.h"
#include "rules/rule_manager.h"
#include "scraper/manager.h"
#include "storage/clock.h"
#include "storage/status.h"
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
  int max_connections = 512;
  int64_t read_timeout_ms = 5 * 60 * 1000;
  int64_t max_request_bytes = 32 << 20;
  BuildInfo build;
  // Every command-line flag with its effective value, for /api/v1/status/flags.
  std::vector<std::pair<std::string, std::string>> flags;
  std::string storage_retention;  // e.g. "30d", for runtimeinfo
  // The data directory (--storage.tsdb.path); admin snapshots go to <it>/snapshots/.
  std::string storage_path = "data/";
  // Source of "now" for queries without a time parameter and for uptime.
  const Clock* clock = SystemClock::Get();
  // Worker threads serving connections; more connections wait in a queue.
  int worker_threads = 16;
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
  const rules::RuleManager* rule_manager = nullptr;
  // The Alertmanagers alerts go to, for /api/v1/alertmanagers (optional).
  const rules::Notifier* notifier = nullptr;
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
