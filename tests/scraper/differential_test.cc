// Differential test: Debian's Prometheus 2.42 and Vigil's scraper scrape the
// same loopback targets with the same config (relabel_configs and
// metric_relabel_configs included); the series label sets and the target
// labels must be identical. Skips when /usr/bin/prometheus is absent.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "scraper/manager.h"
#include "storage/memory_storage.h"
#include "tests/scraper/loopback_server.h"

extern char** environ;

namespace vigil::scraper {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
constexpr char kPrometheus[] = "/usr/bin/prometheus";

// Exposition with clashing target labels, escapes, a histogram and series
// that the metric relabel rules drop or rewrite.
constexpr char kBody[] = R"Y(# HELP inventory_requests_total Requests.
# TYPE inventory_requests_total counter
inventory_requests_total{method="GET",endpoint="/api/items",status="200"} 10
inventory_requests_total{method="POST",endpoint="/api/items",status="500",job="inner"} 2
# TYPE inventory_request_duration_seconds histogram
inventory_request_duration_seconds_bucket{le="0.1"} 3
inventory_request_duration_seconds_bucket{le="+Inf"} 5
inventory_request_duration_seconds_sum 0.7
inventory_request_duration_seconds_count 5
inventory_items_total{instance="self-reported",note="a \"quoted\" \\ value"} 42
go_goroutines 8
debug_info{tmp_secret="x",version="1.2"} 1
)Y";

constexpr char kJobs[] = R"Y(
  - job_name: inventory
    scrape_interval: 1s
    scrape_timeout: 900ms
    static_configs:
      - targets: ["{A}", "{B}"]
        labels: {env: test, team: shop}
    relabel_configs:
      - source_labels: [__address__]
        regex: "127\\.0\\.0\\.1:(\\d+)"
        target_label: port
        replacement: "p$1"
      - source_labels: [__address__]
        modulus: 4
        target_label: shard
        action: hashmod
      - action: labelmap
        regex: "te(a)m"
        replacement: "squad_$1"
      - source_labels: [env]
        target_label: ENV
        action: uppercase
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: "go_.*"
        action: drop
      - regex: "tmp_.*"
        action: labeldrop
      - source_labels: [status]
        regex: "5.."
        target_label: error
        replacement: "yes"
  - job_name: honored
    honor_labels: true
    scrape_interval: 1s
    scrape_timeout: 900ms
    metrics_path: /metrics
    params: {format: [text]}
    static_configs:
      - targets: ["{A}"]
  - job_name: from-file
    scrape_interval: 1s
    scrape_timeout: 900ms
    file_sd_configs:
      - files: ["targets/*.json"]
    relabel_configs:
      - source_labels: [__meta_filepath]
        regex: ".*/(.*)\\.json"
        target_label: file
)Y";

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  for (size_t p; (p = s.find(from)) != std::string::npos;) s.replace(p, from.size(), to);
  return s;
}

// A port nobody listens on right now (the kernel's pick for an ephemeral bind).
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

class PrometheusProcess {
 public:
  PrometheusProcess(const std::string& config, const std::string& dir, int port) {
    const std::string cfg = "--config.file=" + config;
    const std::string data = "--storage.tsdb.path=" + dir;
    const std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port);
    const std::string log = "--log.level=error";
    std::vector<char*> argv = {const_cast<char*>(kPrometheus), const_cast<char*>(cfg.c_str()),
                               const_cast<char*>(data.c_str()), const_cast<char*>(listen.c_str()),
                               const_cast<char*>(log.c_str()), nullptr};
    if (posix_spawn(&pid_, kPrometheus, nullptr, nullptr, argv.data(), environ) != 0) pid_ = -1;
  }
  ~PrometheusProcess() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  bool running() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
};

std::set<std::string> PrometheusSeries(httplib::Client& c) {
  std::set<std::string> out;
  auto res = c.Get("/api/v1/series", httplib::Params{{"match[]", "{__name__=~\".+\"}"}},
                   httplib::Headers{});
  if (!res || res->status != 200) return out;
  const json body = json::parse(res->body);
  for (const json& s : body["data"]) {
    std::vector<Label> labels;
    for (const auto& [k, v] : s.items()) labels.push_back({k, v.get<std::string>()});
    out.insert(Labels(std::move(labels)).ToString());
  }
  return out;
}

std::set<std::string> PrometheusTargetLabels(httplib::Client& c) {
  std::set<std::string> out;
  auto res = c.Get("/api/v1/targets");
  if (!res || res->status != 200) {
    ADD_FAILURE() << "GET /api/v1/targets: " << (res ? std::to_string(res->status) : httplib::to_string(res.error()));
    return out;
  }
  const json body = json::parse(res->body);
  for (const json& t : body["data"]["activeTargets"]) {
    std::vector<Label> labels;
    for (const auto& [k, v] : t["labels"].items()) labels.push_back({k, v.get<std::string>()});
    out.insert(Labels(std::move(labels)).ToString() + " " + t["scrapeUrl"].get<std::string>() + " " +
               t["globalUrl"].get<std::string>());
  }
  if (out.empty()) ADD_FAILURE() << "no active targets in: " << res->body.substr(0, 300);
  return out;
}

std::set<std::string> VigilSeries(storage::Storage& db) {
  std::set<std::string> out;
  auto q = db.NewQuerier();
  auto series = (*q)->Select(storage::kMinTime, storage::kMaxTime,
                             {LabelMatcher::Make(MatchType::kRegexMatch, "__name__", ".+").value()});
  for (const auto& s : *series) out.insert(s->labels().ToString());
  return out;
}

TEST(Differential, SameConfigGivesSameSeriesAndTargetsAsPrometheus) {
  if (!std::filesystem::exists(kPrometheus)) GTEST_SKIP() << kPrometheus << " not installed";
  LoopbackServer a, b;
  for (auto* s : {&a, &b}) {
    s->server().Get("/metrics", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(kBody, "text/plain; version=0.0.4");
    });
    s->Start();
  }
  const std::string jobs = Replace(Replace(kJobs, "{A}", a.address()), "{B}", b.address());
  const auto dir = std::filesystem::temp_directory_path() / ("vigil-diff-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "data");
  std::filesystem::create_directories(dir / "targets");
  std::ofstream(dir / "targets" / "shop.json")
      << "[{\"targets\": [\"" << b.address() << "\"], \"labels\": {\"zone\": \"a\"}}]";
  const std::string config_path = (dir / "prometheus.yml").string();
  std::ofstream(config_path) << "scrape_configs:" << jobs;

  const int port = FreePort();
  PrometheusProcess prom(config_path, (dir / "data").string(), port);
  ASSERT_TRUE(prom.running());
  auto config = LoadConfigFile(config_path);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  storage::MemoryStorage db;
  Manager vigil(&db, {});
  ASSERT_TRUE(vigil.ApplyConfig(*config).ok());

  httplib::Client client("127.0.0.1", port);
  std::set<std::string> prom_series, vigil_series;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    prom_series = PrometheusSeries(client);
    vigil_series = VigilSeries(db);
    if (!prom_series.empty() && prom_series == vigil_series) break;
    std::this_thread::sleep_for(250ms);
  }
  EXPECT_FALSE(prom_series.empty());
  EXPECT_EQ(prom_series, vigil_series);

  std::set<std::string> vigil_targets;
  for (const auto& t : vigil.ActiveTargets()) {
    vigil_targets.insert(t.labels.ToString() + " " + t.scrape_url + " " + t.global_url);
  }
  EXPECT_EQ(PrometheusTargetLabels(client), vigil_targets);
  EXPECT_EQ(vigil_targets.size(), 4u);  // 2 inventory, 1 honored, 1 from the file_sd file
  EXPECT_TRUE(std::any_of(vigil_targets.begin(), vigil_targets.end(), [](const std::string& t) {
    return t.find("file=\"shop\"") != std::string::npos && t.find("zone=\"a\"") != std::string::npos;
  }));
  vigil.Stop();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vigil::scraper
