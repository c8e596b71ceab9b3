// Kubernetes SD: real Pod JSON to __meta_kubernetes_* labels, and list +
// watch against a loopback API server driving the pod-annotation recipe.
#include "scraper/kubernetes_discovery.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "scraper/manager.h"
#include "tests/scraper/loopback_server.h"
#include "tests/support/memory_storage.h"
#include "tests/support/test_dirs_and_ports.h"

namespace vigil::scraper {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

json Pod(const std::string& name, const std::string& ip, int port, bool annotated,
         const std::string& rv = "1") {
  json annotations = json::object();
  if (annotated) {
    annotations["prometheus.io/scrape"] = "true";
    annotations["prometheus.io/port"] = std::to_string(port);
    annotations["prometheus.io/path"] = "/metrics";
  }
  return json{
      {"kind", "Pod"},
      {"apiVersion", "v1"},
      {"metadata",
       {{"name", name},
        {"namespace", "shop"},
        {"uid", "uid-" + name},
        {"resourceVersion", rv},
        {"labels", {{"app", "inventory"}, {"pod-template-hash", "abc"}}},
        {"annotations", annotations},
        {"ownerReferences",
         json::array({{{"apiVersion", "apps/v1"}, {"kind", "ReplicaSet"}, {"name", "inventory-abc"},
                       {"uid", "rs"}, {"controller", true}}})}}},
      {"spec",
       {{"nodeName", "node-1"},
        {"containers",
         json::array({{{"name", "app"},
                       {"image", "inventory:1.0"},
                       {"ports", json::array({{{"name", "http"}, {"containerPort", port}, {"protocol", "TCP"}}})}},
                      {{"name", "sidecar"}, {"image", "envoy:1"}}})},
        {"initContainers", json::array({{{"name", "migrate"}, {"image", "migrate:1"}}})}}},
      {"status",
       {{"phase", "Running"},
        {"hostIP", "10.0.0.1"},
        {"podIP", ip},
        {"conditions", json::array({{{"type", "Initialized"}, {"status", "True"}},
                                    {{"type", "Ready"}, {"status", "True"}}})}}}};
}

TEST(KubernetesPod, ObjectBecomesGroupWithPrometheusLabels) {
  const config::TargetGroup g = KubernetesObjectToGroup("pod", Pod("inv-0", "10.1.2.3", 3000, true));
  EXPECT_EQ(g.source, "pod/shop/inv-0");
  EXPECT_EQ(g.labels.Get("__meta_kubernetes_namespace"), "shop");
  EXPECT_EQ(g.labels.Get("__meta_kubernetes_pod_name"), "inv-0");
  EXPECT_EQ(g.labels.Get("__meta_kubernetes_pod_ip"), "10.1.2.3");
  EXPECT_EQ(g.labels.Get("__meta_kubernetes_pod_ready"), "true");
  EXPECT_EQ(g.labels.Get("__meta_kubernetes_pod_phase"), "Running");
  EXPECT_EQ(g.labels.Get("__meta_kubernetes_pod_node_name"), "node-1");
  EXPECT_EQ(g.labels.Get("__meta_kubernetes_pod_host_ip"), "10.0.0.1");
  EXPECT_EQ(g.labels.Get("__meta_kubernetes_pod_uid"), "uid-inv-0");
  EXPECT_EQ(g.labels.Get("__meta_kubernetes_pod_controller_kind"), "ReplicaSet");
  EXPECT_EQ(g.labels.Get("__meta_kubernetes_pod_controller_name"), "inventory-abc");
  EXPECT_EQ(g.labels.Get("__meta_kubernetes_pod_label_pod_template_hash"), "abc");
  EXPECT_EQ(g.labels.Get("__meta_kubernetes_pod_labelpresent_app"), "true");
  EXPECT_EQ(g.labels.Get("__meta_kubernetes_pod_annotation_prometheus_io_scrape"), "true");
  EXPECT_EQ(g.labels.Get("__meta_kubernetes_pod_annotationpresent_prometheus_io_port"), "true");
  // app:3000, sidecar (no ports), init container migrate (no ports).
  ASSERT_EQ(g.targets, (std::vector<std::string>{"10.1.2.3:3000", "10.1.2.3", "10.1.2.3"}));
  EXPECT_EQ(g.target_labels[0].Get("__meta_kubernetes_pod_container_port_name"), "http");
  EXPECT_EQ(g.target_labels[0].Get("__meta_kubernetes_pod_container_port_number"), "3000");
  EXPECT_EQ(g.target_labels[0].Get("__meta_kubernetes_pod_container_port_protocol"), "TCP");
  EXPECT_EQ(g.target_labels[0].Get("__meta_kubernetes_pod_container_image"), "inventory:1.0");
  EXPECT_EQ(g.target_labels[0].Get("__meta_kubernetes_pod_container_init"), "false");
  EXPECT_EQ(g.target_labels[2].Get("__meta_kubernetes_pod_container_name"), "migrate");
  EXPECT_EQ(g.target_labels[2].Get("__meta_kubernetes_pod_container_init"), "true");
}

TEST(KubernetesPod, PodWithoutIpHasNoTargets) {
  const config::TargetGroup g = KubernetesObjectToGroup("pod", Pod("p", "", 1, true));
  EXPECT_TRUE(g.targets.empty());
}

TEST(KubernetesService, ObjectBecomesGroupPerPort) {
  const json svc = {{"metadata", {{"name", "inventory"}, {"namespace", "shop"}, {"labels", {{"app", "inv"}}}}},
                    {"spec", {{"type", "ClusterIP"}, {"clusterIP", "10.96.0.10"},
                              {"ports", json::array({{{"name", "web"}, {"port", 80}, {"protocol", "TCP"}}})}}}};
  const config::TargetGroup g = KubernetesObjectToGroup("service", svc);
  EXPECT_EQ(g.targets, std::vector<std::string>{"inventory.shop.svc:80"});
  EXPECT_EQ(g.labels.Get("__meta_kubernetes_service_cluster_ip"), "10.96.0.10");
  EXPECT_EQ(g.labels.Get("__meta_kubernetes_service_label_app"), "inv");
  EXPECT_EQ(g.target_labels[0].Get("__meta_kubernetes_service_port_name"), "web");
}

TEST(KubernetesNode, UsesInternalIpAndKubeletPort) {
  const json node = {{"metadata", {{"name", "node-1"}}},
                     {"status", {{"addresses", json::array({{{"type", "Hostname"}, {"address", "n1"}},
                                                            {{"type", "InternalIP"}, {"address", "10.0.0.5"}}})},
                                 {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", 10250}}}}}}}};
  const config::TargetGroup g = KubernetesObjectToGroup("node", node);
  EXPECT_EQ(g.targets, std::vector<std::string>{"10.0.0.5:10250"});
  EXPECT_EQ(g.target_labels[0].Get("instance"), "node-1");
  EXPECT_EQ(g.labels.Get("__meta_kubernetes_node_address_InternalIP"), "10.0.0.5");
}

// Prometheus 2.42 and 2.48 join the address with the kubelet port as sent,
// 0 when the node reports none (Vigil used to assume 10250).
TEST(KubernetesNode, WithoutKubeletPort_UsesPortZeroAsPrometheus) {
  const json node = {
      {"metadata", {{"name", "node-1"}}},
      {"status",
       {{"addresses", json::array({{{"type", "InternalIP"}, {"address", "10.0.0.5"}}})}}}};
  EXPECT_EQ(KubernetesObjectToGroup("node", node).targets, std::vector<std::string>{"10.0.0.5:0"});
}

// Found while writing kubernetes_object_fuzz: a port that is not an int32 (a string,
// 1e300, an object) made nlohmann::json throw type_error out of the watcher
// thread, or convert a huge double to int (undefined behaviour); a non-bool
// "controller" threw too. Such fields now read as absent.
TEST(KubernetesObjects, MalformedFields_DoNotThrow) {
  for (const json& port : {json("80"), json(1e300), json(-1.5), json::object(), json(4294967296ULL)}) {
    json pod = Pod("p", "10.0.0.9", 1, true);
    pod["spec"]["containers"][0]["ports"][0]["containerPort"] = port;
    pod["metadata"]["ownerReferences"][0]["controller"] = "yes";
    const config::TargetGroup g = KubernetesObjectToGroup("pod", pod);
    EXPECT_EQ(g.targets[0], "10.0.0.9:0") << port.dump();
    EXPECT_EQ(g.labels.Get("__meta_kubernetes_pod_controller_kind"), "");

    const json svc = {{"metadata", {{"name", "s"}, {"namespace", "n"}}},
                      {"spec", {{"ports", json::array({{{"port", port}}, 7})}}}};
    const config::TargetGroup sg = KubernetesObjectToGroup("service", svc);
    EXPECT_EQ(sg.targets, (std::vector<std::string>{"s.n.svc:0", "s.n.svc:0"})) << port.dump();

    const json node = {{"metadata", {{"name", "n1"}}},
                       {"status", {{"addresses", json::array({{{"type", "InternalIP"}, {"address", "10.0.0.5"}}})},
                                   {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", port}}}}}}}};
    EXPECT_EQ(KubernetesObjectToGroup("node", node).targets[0], "10.0.0.5:0") << port.dump();
  }
  // Annotation values that are objects are skipped, not dumped recursively.
  json pod = Pod("p", "10.0.0.9", 1, true);
  pod["metadata"]["annotations"]["deep"] = json::array({json::array({json::array()})});
  EXPECT_FALSE(KubernetesObjectToGroup("pod", pod).labels.Has("__meta_kubernetes_pod_annotation_deep"));
}

// A loopback API server: PodList on list, then one ADDED event per watch.
class FakeApiServer {
 public:
  explicit FakeApiServer(int target_port) : target_port_(target_port) {
    server_.server().Get("/api/v1/pods", [this](const httplib::Request& req, httplib::Response& res) {
      if (req.get_header_value("Authorization") != "Bearer sekret") {
        res.status = 401;
        return;
      }
      if (!req.has_param("watch")) {
        json list = {{"kind", "PodList"}, {"apiVersion", "v1"}, {"metadata", {{"resourceVersion", "10"}}},
                     {"items", json::array({Pod("annotated", "127.0.0.1", target_port_, true),
                                            Pod("plain", "127.0.0.1", target_port_ + 1, false)})}};
        res.set_content(list.dump(), "application/json");
        return;
      }
      watch_rv_ = req.get_param_value("resourceVersion");
      res.set_chunked_content_provider("application/json", [this](size_t, httplib::DataSink& sink) {
        if (!sent_) {
          json ev = {{"type", "ADDED"}, {"object", Pod("late", "127.0.0.2", target_port_, true, "11")}};
          const std::string line = ev.dump() + "\n";
          sink.write(line.data(), line.size());
          sent_ = true;
        }
        std::this_thread::sleep_for(50ms);
        if (done_) sink.done();
        return true;
      });
    });
    server_.Start();
  }
  ~FakeApiServer() {
    done_ = true;
    server_.Stop();
  }
  std::string url() const { return "http://" + server_.address(); }
  std::string watch_rv() const { return watch_rv_; }

 private:
  int target_port_;
  LoopbackServer server_;
  std::atomic<bool> sent_{false}, done_{false};
  std::string watch_rv_;
};

TEST(KubernetesDiscovery, PodRoleDiscoversAnnotatedPodsThroughListAndWatch) {
  LoopbackServer target;
  target.server().Get("/metrics", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("inventory_items_total 7\n", "text/plain");
  });
  target.Start();
  FakeApiServer api(target.port());
  auto base = config::LoadConfigFile(std::string(VIGIL_SOURCE_DIR) + "/examples/configs/kubernetes-pods.yml");
  ASSERT_TRUE(base.ok()) << base.status().ToString();
  config::ScrapeConfig job = base->scrape_configs[1];
  job.scrape_interval_ms = 1000;
  job.scrape_timeout_ms = 500;
  job.kubernetes_sd_configs[0].api_server = api.url();
  job.kubernetes_sd_configs[0].http.authorization = config::Authorization{"Bearer", "sekret", ""};
  config::Config config;
  config.scrape_configs = {job};

  storage::MemoryStorage db;
  Manager m(&db, {});
  ASSERT_TRUE(m.ApplyConfig(config).ok());
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto targets = m.ActiveTargets();
    if (targets.size() == 2 && targets[0].health == "up") break;
    std::this_thread::sleep_for(20ms);
  }
  const auto targets = m.ActiveTargets();
  ASSERT_EQ(targets.size(), 2u);
  std::set<std::string> pods;
  for (const auto& t : targets) pods.insert(std::string(t.labels.Get("kubernetes_pod_name")));
  EXPECT_EQ(pods, (std::set<std::string>{"annotated", "late"}));
  EXPECT_EQ(targets[0].labels.Get("app"), "inventory");
  EXPECT_EQ(targets[0].labels.Get("kubernetes_namespace"), "shop");
  EXPECT_EQ(api.watch_rv(), "10");
  // The unannotated pod's containers were dropped by the keep rule.
  EXPECT_FALSE(m.DroppedTargets().empty());
  m.Stop();
}

// Prometheus reads credential files on every request; the in-cluster service
// account token rotates hourly. A token file rewritten while discovery runs
// is sent on the next list or watch, not only after a failure.
TEST(KubernetesDiscovery, RotatedTokenFileIsSentOnTheNextWatch) {
  LoopbackServer api;
  std::mutex mu;
  std::vector<std::string> auth;  // Authorization of every request
  api.server().Get("/api/v1/pods", [&](const httplib::Request& req, httplib::Response& res) {
    {
      std::lock_guard<std::mutex> lock(mu);
      auth.push_back(req.get_header_value("Authorization"));
    }
    if (!req.has_param("watch")) {
      const json list = {{"kind", "PodList"},
                         {"apiVersion", "v1"},
                         {"metadata", {{"resourceVersion", "1"}}},
                         {"items", json::array()}};
      res.set_content(list.dump(), "application/json");
      return;
    }
    res.set_content("", "application/json");  // the watch ends at once; discovery re-watches
  });
  api.Start();
  test_support::TempDir dir;
  const std::string token = (dir.path() / "token").string();
  std::ofstream(token) << "one\n";
  config::KubernetesSdConfig sd;
  sd.role = "pod";
  sd.api_server = "http://" + api.address();
  sd.http.authorization = config::Authorization{"Bearer", "", token};
  KubernetesDiscoverer discoverer(sd);
  discoverer.Start([](std::vector<config::TargetGroup>) {});
  const auto saw = [&](const std::string& header) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (std::find(auth.begin(), auth.end(), header) != auth.end()) return true;
      }
      std::this_thread::sleep_for(20ms);
    }
    return false;
  };
  EXPECT_TRUE(saw("Bearer one"));
  std::ofstream(token) << "two\n";
  EXPECT_TRUE(saw("Bearer two"));
  discoverer.Stop();
}

}  // namespace
}  // namespace vigil::scraper
