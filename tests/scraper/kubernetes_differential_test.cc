// Differential test: Prometheus 2.48 and Vigil's Kubernetes
// discovery read the same loopback API server (FakeKubeApi, the objects of
// Prometheus's own discovery tests plus a few more); for every role the
// discovered label sets (__address__ and __meta_kubernetes_*) must be the
// same. Prometheus's targets are all dropped by relabeling, so nothing is
// scraped and /api/v1/targets lists their discovered labels.
//
// Debian's prometheus package is built without Kubernetes SD (its promtool
// answers "field kubernetes_sd_configs not found"), so on a Debian machine
// this test skips; VIGIL_KUBERNETES_PROMETHEUS names a Prometheus 2.48
// binary (an upstream release, with promtool beside it) to run it with. It
// also skips when the binary or its promtool is absent.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "scraper/kubernetes_discovery.h"
#include "tests/scraper/fake_kube_api.h"
#include "tests/scraper/kubernetes_test_objects.h"
#include "tests/support/child_process.h"
#include "tests/support/test_dirs_and_ports.h"

namespace vigil::scraper {
namespace {

using json = nlohmann::json;
using LabelMap = std::map<std::string, std::string>;
using namespace k8s_test;
using namespace std::chrono_literals;

constexpr char kBinaryEnv[] = "VIGIL_KUBERNETES_PROMETHEUS";

std::filesystem::path PrometheusBinary() {
  const char* path = std::getenv(kBinaryEnv);
  return path && *path ? path : "/usr/bin/prometheus";
}

struct Job {
  std::string name, role;
  bool attach_node;
};

const std::vector<Job> kJobs = {
    {"endpoints", "endpoints", true}, {"endpointslice", "endpointslice", true},
    {"ingress", "ingress", false},    {"pod", "pod", true},
    {"service", "service", false},    {"node", "node", false},
};

// A label set as Prometheus's discoveredLabels shows it, reduced to what
// Kubernetes SD sets (empty values read as absent, as everywhere).
LabelMap Discovered(const LabelMap& all) {
  LabelMap m;
  for (const auto& [k, v] : all) {
    if (!v.empty() && (k == "__address__" || k.starts_with("__meta_kubernetes_"))) m[k] = v;
  }
  return m;
}

void ServeObjects(FakeKubeApi& api) {
  const std::string core = "/api/v1";
  json pod = MakeTestPod();
  pod["metadata"]["labels"] = {{"app", "inventory"}};
  pod["metadata"]["annotations"] = {{"prometheus.io/scrape", "true"}};
  pod["metadata"]["ownerReferences"] = json::parse(
      R"([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "inv-1", "uid": "u1", "controller": true}])");
  pod["spec"]["containers"].push_back({{"name", "sidecar"}, {"image", "envoy:1"}});
  pod["spec"]["initContainers"] = json::parse(R"([{"name": "init", "image": "init:1"}])");
  pod["status"]["phase"] = "Running";
  pod["status"]["conditions"] = json::parse(R"([{"type": "Ready", "status": "True"}])");
  pod["status"]["containerStatuses"] = json::parse(
      R"([{"name": "c1", "containerID": "containerd://abc", "image": "c1:latest", "imageID": "", "ready": true, "restartCount": 0}])");
  api.Add(core, "pods", pod);

  json service = MakeService({{"app/name", "test"}});
  service["metadata"]["annotations"] = {{"prometheus.io/scrape", "true"}};
  service["spec"] = json::parse(
      R"({"type": "LoadBalancer", "clusterIP": "10.96.0.7", "loadBalancerIP": "203.0.113.9",
          "ports": [{"name": "web", "port": 80, "protocol": "TCP"}]})");
  api.Add(core, "services", service);

  json node = MakeNode("us-east1");
  node["metadata"]["annotations"] = {{"node.alpha.kubernetes.io/ttl", "0"}};
  node["status"]["addresses"] = json::parse(R"([{"type": "InternalIP", "address": "10.0.0.5"}])");
  api.Add(core, "nodes", node);
  json testnode = MakeNode("eu-west1");
  testnode["metadata"]["name"] = "testnode";
  api.Add(core, "nodes", testnode);

  json eps = MakeEndpoints();
  eps["metadata"]["labels"] = {{"endpoints/label", "x"}};
  api.Add(core, "endpoints", eps);
  json pod_eps = MakePodEndpoints();
  pod_eps["metadata"]["name"] = "podendpoints";
  pod_eps["subsets"][0]["addresses"][0]["nodeName"] = "testnode";
  api.Add(core, "endpoints", pod_eps);

  api.Add("/apis/discovery.k8s.io/v1", "endpointslices", MakeEndpointSliceV1());
  json pod_slice = MakePodEndpointSlice();
  pod_slice["metadata"]["name"] = "podslice";
  pod_slice["endpoints"][0]["nodeName"] = "testnode";
  api.Add("/apis/discovery.k8s.io/v1", "endpointslices", pod_slice);

  api.Add("/apis/networking.k8s.io/v1", "ingresses", MakeIngress(Tls::kMixed));
  json wild = MakeIngress(Tls::kWildcard);
  wild["metadata"]["name"] = "wild";
  wild["spec"].erase("ingressClassName");
  api.Add("/apis/networking.k8s.io/v1", "ingresses", wild);
}

std::string PrometheusConfig(const std::string& api_url) {
  std::string yaml = "scrape_configs:\n";
  for (const Job& j : kJobs) {
    yaml += "  - job_name: " + j.name + "\n    kubernetes_sd_configs:\n      - role: " + j.role +
            "\n        api_server: " + api_url + "\n";
    if (j.attach_node) yaml += "        attach_metadata: {node: true}\n";
    yaml +=
        "    relabel_configs:\n      - {source_labels: [__address__], regex: '.*', action: drop}\n";
  }
  return yaml;
}

// Vigil's label sets for one job: every target of every group.
std::vector<LabelMap> VigilTargets(const std::string& api_url, const Job& job) {
  config::KubernetesSdConfig c;
  c.role = job.role;
  c.api_server = api_url;
  c.attach_metadata_node = job.attach_node;
  KubernetesDiscoverer d(c);
  std::mutex mu;
  std::condition_variable cv;
  std::vector<config::TargetGroup> groups;
  bool reported = false;
  d.Start([&](std::vector<config::TargetGroup> g) {
    std::lock_guard<std::mutex> lock(mu);
    groups = std::move(g);
    reported = true;
    cv.notify_all();
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, 5s, [&] { return reported; });
  }
  d.Stop();
  std::vector<LabelMap> out;
  for (const config::TargetGroup& g : groups) {
    for (size_t i = 0; i < g.targets.size(); ++i) {
      LabelMap m;
      for (const Label& l : g.labels) m[l.name] = l.value;
      for (const Label& l : g.target_labels[i]) m[l.name] = l.value;
      m["__address__"] = g.targets[i];
      out.push_back(Discovered(m));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Prometheus's dropped targets by job, once `want` of them are there (20s at most).
std::map<std::string, std::vector<LabelMap>> PrometheusTargets(int port, size_t want) {
  httplib::Client client("127.0.0.1", port);
  std::map<std::string, std::vector<LabelMap>> by_job;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(250ms);
    auto res = client.Get("/api/v1/targets?state=dropped");
    if (!res || res->status != 200) continue;
    const json body = json::parse(res->body, nullptr, false);
    if (body.is_discarded()) continue;
    by_job.clear();
    size_t n = 0;
    for (const json& t : body["data"]["droppedTargets"]) {
      const LabelMap all = t["discoveredLabels"].get<LabelMap>();
      by_job[all.at("job")].push_back(Discovered(all));
      ++n;
    }
    if (n >= want) break;
  }
  for (auto& [job, targets] : by_job) std::sort(targets.begin(), targets.end());
  return by_job;
}

// Why this Prometheus cannot take part ("" when it can): absent, or built
// without Kubernetes SD, as its promtool tells for the test's configuration.
std::string UnusableReason(const std::filesystem::path& prometheus,
                           const std::filesystem::path& config) {
  const std::filesystem::path promtool = prometheus.parent_path() / "promtool";
  if (!std::filesystem::exists(prometheus) || !std::filesystem::exists(promtool))
    return prometheus.string() + " or " + promtool.string() + " not installed";
  std::string output;
  const int code = test_support::RunToCompletion(
      {promtool.string(), "check", "config", config.string()}, &output);
  if (code != 0 && output.find("field kubernetes_sd_configs not found") != std::string::npos) {
    return prometheus.string() + " is built without Kubernetes SD (as Debian's package is); set " +
           kBinaryEnv + " to an upstream Prometheus 2.48 binary to run this test";
  }
  EXPECT_EQ(code, 0) << output;  // any other complaint is this test's mistake
  return "";
}

TEST(KubernetesDifferential, EveryRole_SameDiscoveredLabelsAsPrometheus) {
  FakeKubeApi api;
  test_support::TempDir dir;
  std::ofstream(dir.path() / "prometheus.yml") << PrometheusConfig(api.url());
  const std::filesystem::path prometheus_binary = PrometheusBinary();
  const std::string unusable = UnusableReason(prometheus_binary, dir.path() / "prometheus.yml");
  if (!unusable.empty()) GTEST_SKIP() << unusable;
  ASSERT_FALSE(HasFailure());
  ServeObjects(api);

  std::map<std::string, std::vector<LabelMap>> vigil;
  size_t total = 0;
  for (const Job& j : kJobs) {
    vigil[j.name] = VigilTargets(api.url(), j);
    total += vigil[j.name].size();
  }

  const int port = test_support::FreePort();
  test_support::ChildProcess prometheus(
      {prometheus_binary.string(), "--config.file=" + (dir.path() / "prometheus.yml").string(),
       "--storage.tsdb.path=" + (dir.path() / "data").string(),
       "--web.listen-address=127.0.0.1:" + std::to_string(port), "--log.level=warn"},
      dir.path() / "prometheus.log");
  ASSERT_TRUE(prometheus.running());
  const auto prom = PrometheusTargets(port, total);

  if (prom.size() != kJobs.size()) {
    std::ifstream log(dir.path() / "prometheus.log");
    ADD_FAILURE() << "Prometheus's log:\n" << std::string(std::istreambuf_iterator<char>(log), {});
  }
  for (const Job& j : kJobs) {
    ASSERT_FALSE(vigil[j.name].empty()) << j.name;
    auto it = prom.find(j.name);
    ASSERT_NE(it, prom.end()) << "Prometheus discovered nothing for " << j.name;
    EXPECT_EQ(vigil[j.name], it->second) << j.name;
  }
}

}  // namespace
}  // namespace vigil::scraper
