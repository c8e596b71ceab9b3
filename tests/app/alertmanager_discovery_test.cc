// Alertmanagers found by the scraper's discoverers: file_sd_configs files
// written, changed and removed while discovery runs, and kubernetes_sd_configs
// against a loopback API server (FakeKubeApi) serving real pod and endpoints
// JSON; the notifier's Alertmanagers follow, through the entry's
// relabel_configs, and a reload restarts only the entries that changed.
#include "src/alertmanager_discovery.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "config/config.h"
#include "tests/rules/alerting_config.h"
#include "tests/scraper/fake_kube_api.h"
#include "tests/scraper/kubernetes_test_objects.h"
#include "tests/support/test_dirs_and_ports.h"

namespace vigil {
namespace {

using namespace std::chrono_literals;
using Urls = std::vector<std::string>;

using test_support::Alerting;

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  const auto tmp = path.string() + ".tmp";
  std::ofstream(tmp) << text;
  std::filesystem::rename(tmp, path);
}

// Polls the notifier until its active Alertmanagers are `want` (10 s at most).
bool WaitForUrls(const rules::Notifier& n, const Urls& want) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (n.AlertmanagerUrls() == want) return true;
    std::this_thread::sleep_for(50ms);
  }
  return n.AlertmanagerUrls() == want;
}

TEST(AlertmanagerDiscoveryTest, FileSdAlertmanagersFollowTheFile) {
  test_support::TempDir dir;
  const auto file = dir.path() / "am.json";
  const config::AlertingConfig alerting =
      Alerting("    - file_sd_configs: [{files: ['" + (dir.path() / "*.json").string() +
               "']}]\n"
               "      relabel_configs:\n"
               "        - source_labels: [__meta_filepath, role]\n"
               "          regex: '.*/am.json;standby'\n"
               "          action: drop\n");
  rules::Notifier notifier;
  AlertmanagerDiscovery discovery(&notifier);
  discovery.ApplyConfig(alerting, {});
  EXPECT_EQ(notifier.AlertmanagerUrls(), Urls{});

  WriteFile(file, R"([{"targets": ["127.0.0.1:9093"]},
                      {"targets": ["127.0.0.1:9094"], "labels": {"role": "standby"}}])");
  ASSERT_TRUE(WaitForUrls(notifier, {"http://127.0.0.1:9093/api/v2/alerts"}));
  EXPECT_EQ(notifier.DroppedAlertmanagerUrls(), Urls{"http://127.0.0.1:9094/api/v2/alerts"});

  // An unchanged config keeps its discovery (and what it found) across a reload.
  discovery.ApplyConfig(alerting, {});
  EXPECT_EQ(notifier.AlertmanagerUrls(), Urls{"http://127.0.0.1:9093/api/v2/alerts"});

  WriteFile(file, R"([{"targets": ["127.0.0.1:9095"]}])");
  ASSERT_TRUE(WaitForUrls(notifier, {"http://127.0.0.1:9095/api/v2/alerts"}));
  EXPECT_EQ(notifier.DroppedAlertmanagerUrls(), Urls{});

  std::filesystem::remove(file);
  ASSERT_TRUE(WaitForUrls(notifier, {}));
}

TEST(AlertmanagerDiscoveryTest, AChangedEntryRestartsItsDiscovery) {
  test_support::TempDir dir;
  WriteFile(dir.path() / "am.yml", "- targets: ['127.0.0.1:9093']\n");
  const std::string entry =
      "    - file_sd_configs: [{files: ['" + (dir.path() / "am.yml").string() + "']}]\n";
  rules::Notifier notifier;
  AlertmanagerDiscovery discovery(&notifier);
  discovery.ApplyConfig(Alerting(entry), {});
  ASSERT_TRUE(WaitForUrls(notifier, {"http://127.0.0.1:9093/api/v2/alerts"}));

  discovery.ApplyConfig(Alerting(entry + "      scheme: https\n      path_prefix: /am\n"), {});
  ASSERT_TRUE(WaitForUrls(notifier, {"https://127.0.0.1:9093/am/api/v2/alerts"}));

  // A second entry added in front: both indices changed, both rediscover.
  discovery.ApplyConfig(Alerting("    - static_configs: [{targets: ['127.0.0.1:1']}]\n" + entry),
                        {});
  ASSERT_TRUE(WaitForUrls(
      notifier, {"http://127.0.0.1:1/api/v2/alerts", "http://127.0.0.1:9093/api/v2/alerts"}));
  discovery.Stop();
  WriteFile(dir.path() / "am.yml", "- targets: ['127.0.0.1:9099']\n");
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(notifier.AlertmanagerUrls(),
            (Urls{"http://127.0.0.1:1/api/v2/alerts", "http://127.0.0.1:9093/api/v2/alerts"}))
      << "no update after Stop()";
}

// The usual recipe: Alertmanager pods selected by label and port name.
TEST(AlertmanagerDiscoveryTest, KubernetesPodsBecomeAlertmanagers) {
  scraper::FakeKubeApi api;
  nlohmann::json am = scraper::k8s_test::MakeTestPod();
  am["metadata"]["name"] = "alertmanager-0";
  am["metadata"]["labels"] = {{"app", "alertmanager"}};
  am["spec"]["containers"][0]["ports"][0]["name"] = "web";
  api.Add("/api/v1", "pods", am);
  api.Add("/api/v1", "pods", scraper::k8s_test::MakeTestPod());  // not labelled: not kept
  rules::Notifier notifier;
  AlertmanagerDiscovery discovery(&notifier);
  discovery.ApplyConfig(Alerting("    - kubernetes_sd_configs:\n"
                                 "        - role: pod\n"
                                 "          api_server: " +
                                 api.url() +
                                 "\n"
                                 "          namespaces: {names: [default]}\n"
                                 "      relabel_configs:\n"
                                 "        - source_labels: [__meta_kubernetes_pod_label_app, "
                                 "__meta_kubernetes_pod_container_port_name]\n"
                                 "          regex: alertmanager;web\n"
                                 "          action: keep\n"),
                        {});
  ASSERT_TRUE(WaitForUrls(notifier, {"http://1.2.3.4:9000/api/v2/alerts"}));
  // testpod's two ports and alertmanager-0's other port.
  EXPECT_EQ(notifier.DroppedAlertmanagerUrls().size(), 3u);

  api.Delete("/api/v1", "pods", am);
  ASSERT_TRUE(WaitForUrls(notifier, {}));
}

// role: endpoints, joined with the service, as Prometheus's own example
// for Alertmanagers behind a Service.
TEST(AlertmanagerDiscoveryTest, KubernetesEndpointsBecomeAlertmanagers) {
  scraper::FakeKubeApi api;
  api.Add("/api/v1", "endpoints", scraper::k8s_test::MakeEndpoints());
  api.Add("/api/v1", "services", scraper::k8s_test::MakeService({{"app", "alertmanager"}}));
  rules::Notifier notifier;
  AlertmanagerDiscovery discovery(&notifier);
  discovery.ApplyConfig(Alerting("    - kubernetes_sd_configs:\n"
                                 "        - role: endpoints\n"
                                 "          api_server: " +
                                 api.url() +
                                 "\n"
                                 "          namespaces: {names: [default]}\n"
                                 "      relabel_configs:\n"
                                 "        - source_labels: [__meta_kubernetes_service_label_app, "
                                 "__meta_kubernetes_endpoint_ready]\n"
                                 "          regex: alertmanager;true\n"
                                 "          action: keep\n"),
                        {});
  // 2.3.4.5:9001 is listed both ready and not ready; the not ready one is dropped.
  ASSERT_TRUE(WaitForUrls(notifier,
                          {"http://1.2.3.4:9000/api/v2/alerts", "http://2.3.4.5:9001/api/v2/alerts",
                           "http://6.7.8.9:9002/api/v2/alerts"}));
  EXPECT_EQ(notifier.DroppedAlertmanagerUrls(), Urls{"http://2.3.4.5:9001/api/v2/alerts"});
}

}  // namespace
}  // namespace vigil
