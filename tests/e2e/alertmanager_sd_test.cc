// Alertmanagers found through file_sd_configs, end to end: Debian's real
// Alertmanager is named in a file written after Vigil started, an alert firing
// in Vigil reaches it, and /api/v1/alertmanagers follows the file as it
// changes and goes away (activeAlertmanagers / droppedAlertmanagers, compared
// with Debian's Prometheus 2.42 reading the same file), and a SIGHUP with a
// changed alertmanagers entry restarts its discovery.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "tests/e2e/alertmanager_process.h"
#include "tests/e2e/rules_fixture.h"
#include "tests/support/child_process.h"

namespace vigil::e2e {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kPrometheus = "/usr/bin/prometheus";

constexpr char kRules[] =
    "groups:\n"
    "  - name: always\n"
    "    interval: 1s\n"
    "    rules:\n"
    "      - alert: AlwaysOn\n"
    "        expr: up{job=\"node\"} > 0\n";

// The alerting section both servers read: every *.json under `dir`, the
// targets labelled role=standby dropped.
std::string AlertingSection(const std::filesystem::path& dir) {
  return "alerting:\n  alertmanagers:\n"
         "    - path_prefix: /\n"
         "      file_sd_configs:\n"
         "        - files: ['" +
         (dir / "*.json").string() +
         "']\n"
         "      relabel_configs:\n"
         "        - source_labels: [role]\n"
         "          regex: standby\n"
         "          action: drop\n";
}

std::string Url(int port, const std::string& prefix = "") {
  return "http://127.0.0.1:" + std::to_string(port) + prefix + "/api/v2/alerts";
}

// {"activeAlertmanagers": [{"url": ...}], "droppedAlertmanagers": [...]}.
json Alertmanagers(const std::vector<std::string>& active,
                   const std::vector<std::string>& dropped) {
  json out = {{"activeAlertmanagers", json::array()}, {"droppedAlertmanagers", json::array()}};
  for (const auto& url : active) out["activeAlertmanagers"].push_back({{"url", url}});
  for (const auto& url : dropped) out["droppedAlertmanagers"].push_back({{"url", url}});
  return out;
}

json AlertmanagersOf(int port) {
  const json j = json::parse(HttpGet(port, "/api/v1/alertmanagers").body, nullptr, false);
  return j.is_object() ? j["data"] : json();
}

TEST(AlertmanagerSdTest, FileSdAlertmanagerGetsAlertsAndTheApiFollowsTheFile) {
  if (!std::filesystem::exists(AlertmanagerProcess::kBinary)) {
    GTEST_SKIP() << AlertmanagerProcess::kBinary
                 << " missing (apt-get install prometheus-alertmanager)";
  }
  TempDir dir;
  const auto sd_dir = dir.path() / "sd";
  std::filesystem::create_directories(sd_dir);
  const AlertmanagerProcess am(dir.path());
  ASSERT_TRUE(am.listening()) << "Alertmanager did not listen within 20 s";
  // Alerts that fire before the file names an Alertmanager are dropped; the
  // short resend delay sends them again once it does.
  RuleServer server(kRules, {.global_extra = "",
                             .sections = AlertingSection(sd_dir),
                             .flags = {"--rules.alert.resend-delay=1s"}});
  VigilProcess& vigil = server.vigil();
  ASSERT_TRUE(vigil.WaitReady());
  EXPECT_EQ(AlertmanagersOf(vigil.port()), Alertmanagers({}, {}));

  // The reference: Prometheus 2.42 with the same alerting section.
  const bool with_prometheus = std::filesystem::exists(kPrometheus);
  const int prom_port = FreePort();
  std::optional<test_support::ChildProcess> prometheus;
  if (with_prometheus) {
    WriteFileAtomically(dir.path() / "prometheus.yml", AlertingSection(sd_dir));
    prometheus.emplace(
        std::vector<std::string>{kPrometheus,
                                 "--config.file=" + (dir.path() / "prometheus.yml").string(),
                                 "--storage.tsdb.path=" + (dir.path() / "prom-data").string(),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)},
        dir.path() / "prometheus.log");
  }

  const int standby_port = FreePort();
  WriteFileAtomically(sd_dir / "am.json",
                      "[{\"targets\": [\"127.0.0.1:" + std::to_string(am.port()) +
                          "\"]},\n"
                          " {\"targets\": [\"127.0.0.1:" +
                          std::to_string(standby_port) +
                          "\"], \"labels\": {\"role\": \"standby\"}}]\n");
  json alerts;
  ASSERT_TRUE(vigil.WaitFor(
      [&] {
        alerts = json::parse(HttpGet(am.port(), "/api/v2/alerts").body, nullptr, false);
        return alerts.is_array() && !alerts.empty();
      },
      20s))
      << "Alertmanager never got an alert; Vigil log:\n"
      << vigil.Logs();
  EXPECT_EQ(alerts[0]["labels"]["alertname"], "AlwaysOn");
  const json expected = Alertmanagers({Url(am.port())}, {Url(standby_port)});
  EXPECT_EQ(AlertmanagersOf(vigil.port()), expected);
  if (with_prometheus) {  // its notifier discovery publishes every 5 s
    json prom;
    EXPECT_TRUE(vigil.WaitFor(
        [&] {
          prom = AlertmanagersOf(prom_port);
          return prom == expected;
        },
        20s))
        << "Prometheus 2.42 answered " << prom.dump() << ", Vigil " << expected.dump();
  }

  // Another port: the API follows without a reload.
  const int moved_port = FreePort();
  WriteFileAtomically(sd_dir / "am.json",
                      "[{\"targets\": [\"127.0.0.1:" + std::to_string(moved_port) + "\"]}]\n");
  EXPECT_TRUE(vigil.WaitFor(
      [&] { return AlertmanagersOf(vigil.port()) == Alertmanagers({Url(moved_port)}, {}); }, 10s))
      << AlertmanagersOf(vigil.port()).dump();

  // A changed entry (path_prefix) on SIGHUP: rediscovered with the new prefix.
  std::stringstream text;
  text << std::ifstream(vigil.config_path()).rdbuf();
  std::string config = text.str();
  config.replace(config.find("path_prefix: /\n"), 15, "path_prefix: /am\n");
  WriteFileAtomically(vigil.config_path(), config);
  vigil.Signal(SIGHUP);
  EXPECT_TRUE(vigil.WaitFor(
      [&] { return AlertmanagersOf(vigil.port()) == Alertmanagers({Url(moved_port, "/am")}, {}); },
      10s))
      << AlertmanagersOf(vigil.port()).dump();

  // The file removed: no Alertmanager left.
  std::filesystem::remove(sd_dir / "am.json");
  EXPECT_TRUE(
      vigil.WaitFor([&] { return AlertmanagersOf(vigil.port()) == Alertmanagers({}, {}); }, 10s))
      << AlertmanagersOf(vigil.port()).dump();
  const std::string metrics = vigil.Get("/metrics").body;
  EXPECT_NE(metrics.find("prometheus_notifications_alertmanagers_discovered 0\n"),
            std::string::npos);
}

}  // namespace
}  // namespace vigil::e2e
