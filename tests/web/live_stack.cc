#include "tests/web/live_stack.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "config/config.h"

namespace vigil::web::testing {
namespace {

bool Executable(const char* path) { return access(path, X_OK) == 0; }

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

std::string Addr(int port) { return "127.0.0.1:" + std::to_string(port); }

}  // namespace

InProcessVigil::InProcessVigil(const std::string& config_yaml, const std::string& dir)
    : yaml_(config_yaml) {
  storage::StorageOptions so;
  so.path = dir;
  so.wal_sync = storage::WalSyncPolicy::kNever;
  auto db = storage::Storage::Open(so);
  if (!db.ok()) {
    error_ = "storage: " + db.status().ToString();
    return;
  }
  db_ = std::move(db).value();
  engine_ = std::make_unique<promql::Engine>(promql::EngineOptions{});
  manager_ = std::make_unique<scraper::Manager>(db_.get(), scraper::ManagerOptions{});
  auto config = config::LoadConfigString(config_yaml, "live.yml");
  if (!config.ok()) {
    error_ = "config: " + config.status().ToString();
    return;
  }
  ServerOptions options;
  options.listen_address = "127.0.0.1:0";
  options.enable_remote_write_receiver = true;
  options.build = {"2.42.0", "vigil", "main", "vigil", "20261125", "gcc"};
  options.storage_retention = "30d";
  ServerDeps deps;
  deps.db = db_.get();
  deps.engine = engine_.get();
  deps.scrape_manager = manager_.get();
  deps.config_yaml = [this] { return yaml_; };
  server_ = std::make_unique<Server>(options, deps);
  if (Status st = server_->Start(); !st.ok()) {
    error_ = "server: " + st.ToString();
    return;
  }
  if (Status st = manager_->ApplyConfig(*config); !st.ok()) {
    error_ = "scrape manager: " + st.ToString();
    return;
  }
  server_->SetReady(true);
}

InProcessVigil::~InProcessVigil() {
  if (manager_) manager_->Stop();
  if (server_) server_->Stop();
  if (db_) (void)db_->Close();
}

std::string LiveStack::MissingPrerequisite() {
  for (const char* bin : {kPrometheusBinary, kNodeExporterBinary}) {
    if (!Executable(bin))
      return std::string(bin) +
             " is not installed (apt-get install prometheus prometheus-node-exporter)";
  }
  return "";
}

std::string LiveStack::ScrapeConfigYaml() const {
  return "  scrape_interval: 1s\n  scrape_timeout: 1s\n"
         "scrape_configs:\n"
         "  - job_name: inventory\n"
         "    static_configs:\n"
         "      - targets: ['" +
         Addr(demo_port_) +
         "']\n"
         "  - job_name: node\n"
         "    static_configs:\n"
         "      - targets: ['" +
         Addr(node_port_) + "']\n";
}

LiveStack::LiveStack()
    : node_port_(FreePort()),
      demo_port_(FreePort()),
      prometheus_port_(FreePort()),
      reader_port_(FreePort()) {
  const auto& d = dir_.path();
  node_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{kNodeExporterBinary, "--web.listen-address=" + Addr(node_port_)},
      d / "node.log");
  demo_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{INVENTORY_DEMO_PATH, "--listen-address=" + Addr(demo_port_)},
      d / "demo.log");
  vigil_ =
      std::make_unique<InProcessVigil>("global:\n" + ScrapeConfigYaml(), (d / "vigil").string());
  sink_ = std::make_unique<InProcessVigil>("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n",
                                           (d / "sink").string());
  for (const auto* v : {vigil_.get(), sink_.get()}) {
    if (!v->error().empty()) error_ += "vigil: " + v->error() + "; ";
  }
  WriteFile(d / "prometheus.yml",
            "global:\n" + ScrapeConfigYaml() +
                "remote_write:\n"
                "  - url: http://" +
                Addr(sink_port()) +
                "/api/v1/write\n"
                "    queue_config:\n      batch_send_deadline: 1s\n      min_backoff: 100ms\n");
  WriteFile(d / "reader.yml",
            "global:\n  scrape_interval: 1s\n"
            "remote_read:\n"
            "  - url: http://" +
                Addr(vigil_port()) +
                "/api/v1/read\n"
                "    read_recent: true\n");
  prometheus_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{kPrometheusBinary,
                               "--config.file=" + (d / "prometheus.yml").string(),
                               "--storage.tsdb.path=" + (d / "prom").string(),
                               "--web.listen-address=" + Addr(prometheus_port_)},
      d / "prometheus.log");
  reader_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{kPrometheusBinary, "--config.file=" + (d / "reader.yml").string(),
                               "--storage.tsdb.path=" + (d / "reader").string(),
                               "--web.listen-address=" + Addr(reader_port_)},
      d / "reader.log");
  if (!error_.empty()) return;
  // Both scrapers see both targets up, with enough history for rate() windows.
  const bool up = WaitUntil(30, [&] {
    return HasSeries(vigil_port(), "up == 1", 2) && HasSeries(prometheus_port_, "up == 1", 2);
  });
  if (!up) {
    error_ = "targets did not come up on both Vigil and Prometheus within 30 s (logs in " +
             d.string() + ")";
    return;
  }
  std::this_thread::sleep_for(std::chrono::seconds(6));
}

LiveStack::~LiveStack() = default;

bool WaitUntil(int seconds, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return done();
}

bool HasSeries(int port, const std::string& query, size_t min_series) {
  const auto r = Fetch(port, "GET", Url("/api/v1/query", {{"query", query}}));
  if (r.status != 200) return false;
  const auto json = nlohmann::json::parse(r.body, nullptr, false);
  return json.is_object() && json["data"]["result"].is_array() &&
         json["data"]["result"].size() >= min_series;
}

namespace {

// Owns the shared stack and tears it down after the last test, before the
// process exits (so no helper process outlives the test binary).
class StackEnvironment : public ::testing::Environment {
 public:
  LiveStack* Get() {
    if (!tried_) {
      tried_ = true;
      if (LiveStack::MissingPrerequisite().empty()) stack_ = std::make_unique<LiveStack>();
    }
    return stack_.get();
  }
  void TearDown() override { stack_.reset(); }

 private:
  bool tried_ = false;
  std::unique_ptr<LiveStack> stack_;
};

// gtest owns registered environments; this pointer only finds it again.
StackEnvironment* const g_environment = static_cast<StackEnvironment*>(
    ::testing::AddGlobalTestEnvironment(std::make_unique<StackEnvironment>().release()));

}  // namespace

LiveStack* SharedStack() { return g_environment->Get(); }

}  // namespace vigil::web::testing
