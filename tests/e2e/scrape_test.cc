// Scraping end to end with the real binary: staleness, timeouts, reload by
// SIGHUP, file_sd and Kubernetes pod discovery.
#include <signal.h>

#include <fstream>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "tests/e2e/metrics_target.h"
#include "tests/e2e/vigil_process.h"

namespace vigil::e2e {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string Global() {
  return "global:\n"
         "  scrape_interval: 1s\n"
         "  scrape_timeout: 500ms\n";
}

std::string StaticJob(const std::string& job, const std::string& target) {
  return "  - job_name: " + job + "\n"
         "    static_configs:\n"
         "      - targets: ['" + target + "']\n";
}

// The instant query's vector result (empty on any error).
json QueryVector(const VigilProcess& vigil, const std::string& query) {
  auto reply = vigil.Get("/api/v1/query?query=" + httplib::detail::encode_query_param(query));
  if (reply.status != 200) return json::array();
  json j = json::parse(reply.body, nullptr, false);
  if (j.is_discarded() || j["status"] != "success") return json::array();
  return j["data"]["result"];
}

// The value of the single sample `query` returns, or "" when it is not one sample.
std::string QueryValue(const VigilProcess& vigil, const std::string& query) {
  json v = QueryVector(vigil, query);
  return v.size() == 1 ? v[0]["value"][1].get<std::string>() : "";
}

TEST(ScrapeE2E, VanishedSeriesBecomeStale) {
  MetricsTarget target("a_metric 1\nb_metric 2\n");
  VigilProcess vigil(Global() + "scrape_configs:\n" + StaticJob("app", target.address()));
  ASSERT_TRUE(vigil.WaitReady()) << vigil.Logs();
  ASSERT_TRUE(vigil.WaitFor([&] { return QueryValue(vigil, "b_metric") == "2"; }, 10s))
      << vigil.Logs();
  target.SetBody("a_metric 1\n");
  // After the next scrape b_metric gets a stale marker: an instant query at
  // "now" no longer returns it, although it is well inside the 5m lookback.
  EXPECT_TRUE(vigil.WaitFor([&] { return QueryVector(vigil, "b_metric").empty(); }, 10s))
      << vigil.Logs();
  EXPECT_EQ(QueryValue(vigil, "a_metric"), "1");
}

TEST(ScrapeE2E, HangingTargetTimesOutAndIsReportedDown) {
  MetricsTarget target("a_metric 1\n");
  target.SetDelay(3s);
  VigilProcess vigil(Global() + "scrape_configs:\n" + StaticJob("slow", target.address()));
  ASSERT_TRUE(vigil.WaitReady()) << vigil.Logs();
  EXPECT_TRUE(vigil.WaitFor([&] { return QueryValue(vigil, "up{job=\"slow\"}") == "0"; }, 10s))
      << vigil.Logs();
  json targets;
  ASSERT_TRUE(vigil.WaitFor(
      [&] {
        auto reply = vigil.Get("/api/v1/targets");
        targets = json::parse(reply.body, nullptr, false);
        return !targets.is_discarded() && targets["data"]["activeTargets"].size() == 1 &&
               targets["data"]["activeTargets"][0]["health"] == "down";
      },
      10s))
      << vigil.Logs();
  const json& t = targets["data"]["activeTargets"][0];
  EXPECT_NE(t["lastError"].get<std::string>().find("deadline"), std::string::npos)
      << t.dump();
  EXPECT_EQ(t["scrapePool"], "slow");
}

TEST(ScrapeE2E, SighupAddsTargetsAndRejectsBrokenConfig) {
  MetricsTarget first("first_metric 1\n");
  MetricsTarget second("second_metric 2\n");
  VigilProcess vigil(Global() + "scrape_configs:\n" + StaticJob("first", first.address()));
  ASSERT_TRUE(vigil.WaitReady()) << vigil.Logs();
  ASSERT_TRUE(vigil.WaitFor([&] { return QueryValue(vigil, "first_metric") == "1"; }, 10s));

  WriteFileAtomically(vigil.config_path(), Global() + "scrape_configs:\n" +
                                               StaticJob("first", first.address()) +
                                               StaticJob("second", second.address()));
  vigil.Signal(SIGHUP);
  EXPECT_TRUE(vigil.WaitFor([&] { return QueryValue(vigil, "second_metric") == "2"; }, 10s))
      << vigil.Logs();

  WriteFileAtomically(vigil.config_path(), "scrape_configs:\n  - job_name: [broken\n");
  vigil.Signal(SIGHUP);
  EXPECT_TRUE(vigil.WaitFor(
      [&] {
        return vigil.Get("/metrics").body.find("prometheus_config_last_reload_successful 0") !=
               std::string::npos;
      },
      10s))
      << vigil.Logs();
  int before = first.scrapes();
  EXPECT_TRUE(vigil.WaitFor([&] { return first.scrapes() >= before + 2; }, 10s));
  EXPECT_TRUE(vigil.WaitFor([&] { return second.scrapes() >= 2; }, 10s));
  EXPECT_NE(vigil.Logs().find("Error reloading config"), std::string::npos);
}

TEST(ScrapeE2E, ReloadEndpointNeedsLifecycleFlag) {
  MetricsTarget target("a_metric 1\n");
  std::string config = Global() + "scrape_configs:\n" + StaticJob("app", target.address());
  {
    VigilProcess vigil(config);
    ASSERT_TRUE(vigil.WaitReady()) << vigil.Logs();
    EXPECT_EQ(vigil.Post("/-/reload", "").status, 403);
  }
  VigilProcess vigil(config, {"--web.enable-lifecycle"});
  ASSERT_TRUE(vigil.WaitReady()) << vigil.Logs();
  EXPECT_EQ(vigil.Post("/-/reload", "").status, 200);
}

TEST(ScrapeE2E, FileSdChangesArePickedUpWithoutReload) {
  MetricsTarget first("first_metric 1\n");
  MetricsTarget second("second_metric 2\n");
  TempDir dir;
  auto sd_file = dir.path() / "targets.json";
  WriteFileAtomically(sd_file, "[{\"targets\": [\"" + first.address() +
                                   "\"], \"labels\": {\"team\": \"a\"}}]");
  VigilProcess vigil(Global() +
                     "scrape_configs:\n"
                     "  - job_name: filesd\n"
                     "    file_sd_configs:\n"
                     "      - files: ['" + sd_file.string() + "']\n"
                     "        refresh_interval: 1s\n");
  ASSERT_TRUE(vigil.WaitReady()) << vigil.Logs();
  ASSERT_TRUE(vigil.WaitFor([&] { return QueryValue(vigil, "first_metric{team=\"a\"}") == "1"; },
                            10s))
      << vigil.Logs();
  WriteFileAtomically(sd_file, "[{\"targets\": [\"" + first.address() + "\", \"" +
                                   second.address() + "\"], \"labels\": {\"team\": \"b\"}}]");
  EXPECT_TRUE(vigil.WaitFor(
      [&] { return QueryValue(vigil, "second_metric{team=\"b\",job=\"filesd\"}") == "2"; }, 15s))
      << vigil.Logs();
}

// A loopback Kubernetes API server serving a real PodList (and an idle watch).
class FakeKubernetesApi {
 public:
  explicit FakeKubernetesApi(std::string pod_list) : pod_list_(std::move(pod_list)) {
    server_.Get(R"(/api/v1/(namespaces/[^/]+/)?pods)",
                [this](const httplib::Request& req, httplib::Response& res) {
                  if (req.get_param_value("watch") == "true" || req.get_param_value("watch") == "1") {
                    // An idle watch: no events; the client re-lists or re-watches later.
                    std::this_thread::sleep_for(500ms);
                    res.set_content("", "application/json");
                    return;
                  }
                  res.set_content(pod_list_, "application/json");
                });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FakeKubernetesApi() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }

 private:
  httplib::Server server_;
  std::thread thread_;
  std::string pod_list_;
  int port_ = 0;
};

json Pod(const std::string& name, const std::string& ip, int port, bool annotated) {
  json annotations = json::object();
  if (annotated) {
    annotations = {{"prometheus.io/scrape", "true"},
                   {"prometheus.io/port", std::to_string(port)},
                   {"prometheus.io/path", "/metrics"}};
  }
  return {{"metadata",
           {{"name", name},
            {"namespace", "shop"},
            {"uid", name + "-uid"},
            {"resourceVersion", "1"},
            {"labels", {{"app", "inventory"}}},
            {"annotations", annotations}}},
          {"spec",
           {{"nodeName", "node-1"},
            {"containers",
             json::array({{{"name", "app"},
                           {"image", "inventory:1"},
                           {"ports", json::array({{{"name", "http"},
                                                   {"containerPort", port},
                                                   {"protocol", "TCP"}}})}}})}}},
          {"status",
           {{"phase", "Running"},
            {"podIP", ip},
            {"hostIP", "127.0.0.1"},
            {"conditions", json::array({{{"type", "Ready"}, {"status", "True"}}})}}}};
}

TEST(ScrapeE2E, KubernetesPodRoleDiscoversAnnotatedPods) {
  MetricsTarget app("inventory_items_total 5\n");
  json pods = {{"kind", "PodList"},
               {"apiVersion", "v1"},
               {"metadata", {{"resourceVersion", "1"}}},
               {"items", json::array({Pod("inventory-0", "127.0.0.1", app.port(), true),
                                      Pod("other-0", "127.0.0.2", 1, false)})}};
  FakeKubernetesApi api(pods.dump());
  VigilProcess vigil(
      Global() +
      "scrape_configs:\n"
      "  - job_name: kubernetes-pods\n"
      "    kubernetes_sd_configs:\n"
      "      - role: pod\n"
      "        api_server: http://127.0.0.1:" + std::to_string(api.port()) + "\n"
      "    relabel_configs:\n"
      "      - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape]\n"
      "        action: keep\n"
      "        regex: true\n"
      "      - source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_path]\n"
      "        action: replace\n"
      "        target_label: __metrics_path__\n"
      "        regex: (.+)\n"
      "      - source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port]\n"
      "        action: replace\n"
      "        regex: ([^:]+)(?::\\d+)?;(\\d+)\n"
      "        replacement: $1:$2\n"
      "        target_label: __address__\n"
      "      - action: labelmap\n"
      "        regex: __meta_kubernetes_pod_label_(.+)\n"
      "      - source_labels: [__meta_kubernetes_namespace]\n"
      "        target_label: kubernetes_namespace\n"
      "      - source_labels: [__meta_kubernetes_pod_name]\n"
      "        target_label: kubernetes_pod_name\n");
  ASSERT_TRUE(vigil.WaitReady()) << vigil.Logs();
  json result;
  ASSERT_TRUE(vigil.WaitFor(
      [&] { return (result = QueryVector(vigil, "inventory_items_total")).size() == 1; }, 15s))
      << vigil.Logs();
  EXPECT_EQ(result[0]["metric"]["kubernetes_pod_name"], "inventory-0");
  EXPECT_EQ(result[0]["metric"]["kubernetes_namespace"], "shop");
  EXPECT_EQ(result[0]["metric"]["app"], "inventory");
  EXPECT_EQ(result[0]["metric"]["instance"], app.address());
  EXPECT_EQ(QueryValue(vigil, "count(up{job=\"kubernetes-pods\"})"), "1");
}

}  // namespace
}  // namespace vigil::e2e
