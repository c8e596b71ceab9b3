// Rule evaluation end to end with the real binary: rule_files from the config
// are evaluated on the evaluation interval, recorded series and ALERTS are
// queryable, /api/v1/rules and /api/v1/alerts answer in Prometheus 2.42's shape
// (the expected documents below are what Prometheus 2.42 returned for the same
// rule file, minus timestamps), and a reload with a broken rule file is refused.
// keep_firing_for: an alert whose expression stops returning stays firing
// (ALERTS, the APIs, Alertmanager) for that long, side by side with Prometheus.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/e2e/alertmanager_process.h"
#include "tests/e2e/rules_fixture.h"
#include "tests/support/child_process.h"

namespace vigil::e2e {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr char kRules[] =
    "groups:\n"
    "  - name: always\n"
    "    interval: 1s\n"
    "    rules:\n"
    "      - alert: AlwaysOn\n"
    "        expr: up{job=\"node\"} > 0\n"
    "        labels:\n"
    "          severity: \"{{ $labels.job }}-x\"\n"
    "        annotations:\n"
    "          summary: \"{{ $labels.instance }} value {{ $value }}\"\n"
    "      - alert: PendingOne\n"
    "        expr: up{job=\"node\"} > 0\n"
    "        for: 10m\n"
    "      - record: job:up:sum\n"
    "        expr: sum by (job) (up)\n"
    "        labels:\n"
    "          team: infra\n";

// Drops what differs between runs: evaluation times and timestamps.
void Normalize(json& j) {
  if (j.is_object()) {
    for (const char* key : {"evaluationTime", "lastEvaluation", "activeAt"}) j.erase(key);
    for (auto& [k, v] : j.items()) Normalize(v);
  } else if (j.is_array()) {
    for (auto& v : j) Normalize(v);
  }
}

class RulesTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(vigil_->WaitReady()); }

  RuleServer server_{kRules};
  VigilProcess* const vigil_ = &server_.vigil();
};

TEST_F(RulesTest, RecordedSeriesAndAlertsAreQueryable) {
  ASSERT_TRUE(vigil_->WaitFor(
      [&] {
        const json r = ApiData(*vigil_, "/api/v1/query?query=job:up:sum");
        return r.is_object() && r["result"].size() == 1;
      },
      15s));
  // ALERTS are written once `for` state restoration ran (second evaluation).
  json alerts;
  ASSERT_TRUE(vigil_->WaitFor(
      [&] {
        alerts = ApiData(*vigil_, "/api/v1/query?query=ALERTS");
        return alerts.is_object() && alerts["result"].size() == 2;
      },
      15s))
      << alerts.dump();
  EXPECT_EQ(alerts["result"][0]["metric"]["alertstate"], "firing");
  EXPECT_EQ(alerts["result"][0]["metric"]["severity"], "node-x");
  EXPECT_EQ(alerts["result"][1]["metric"]["alertstate"], "pending");
}

TEST_F(RulesTest, RulesAndAlertsApiHavePrometheusShape) {
  ASSERT_TRUE(
      vigil_->WaitFor([&] { return !ApiData(*vigil_, "/api/v1/alerts")["alerts"].empty(); }, 15s));
  json rules = ApiData(*vigil_, "/api/v1/rules");
  Normalize(rules);
  const std::string instance = server_.target().address();
  const json expected = json::parse(R"J({"groups":[{"name":"always","file":")J" +
                                    server_.rules_file().string() + R"J(","rules":[
    {"state":"firing","name":"AlwaysOn","query":"up{job=\"node\"} > 0","duration":0,"keepFiringFor":0,
     "labels":{"severity":"{{ $labels.job }}-x"},"annotations":{"summary":"{{ $labels.instance }} value {{ $value }}"},
     "alerts":[{"labels":{"alertname":"AlwaysOn","instance":")J" +
                                    instance + R"J(","job":"node","severity":"node-x"},
                "annotations":{"summary":")J" +
                                    instance + R"J( value 1"},"state":"firing","value":"1e+00"}],
     "health":"ok","type":"alerting"},
    {"state":"pending","name":"PendingOne","query":"up{job=\"node\"} > 0","duration":600,"keepFiringFor":0,
     "labels":{},"annotations":{},
     "alerts":[{"labels":{"alertname":"PendingOne","instance":")J" +
                                    instance + R"J(","job":"node"},
                "annotations":{},"state":"pending","value":"1e+00"}],
     "health":"ok","type":"alerting"},
    {"name":"job:up:sum","query":"sum by (job) (up)","labels":{"team":"infra"},"health":"ok","type":"recording"}],
    "interval":1,"limit":0}]})J");
  EXPECT_EQ(rules, expected) << rules.dump(1);
  EXPECT_EQ(ApiData(*vigil_, "/api/v1/alerts")["alerts"].size(), 2u);
  const json only_recording = ApiData(*vigil_, "/api/v1/rules?type=record");
  ASSERT_EQ(only_recording["groups"][0]["rules"].size(), 1u);
  EXPECT_EQ(vigil_->Get("/api/v1/rules?type=bad").status, 400);
}

TEST_F(RulesTest, ReloadWithABrokenRuleFileKeepsTheOldRules) {
  WriteFileAtomically(server_.rules_file(),
                      "groups:\n  - name: x\n    rules:\n"
                      "      - record: r\n        expr: sum(\n");
  EXPECT_NE(vigil_->Post("/-/reload", "").status, 200);
  const json rules = ApiData(*vigil_, "/api/v1/rules");
  EXPECT_EQ(rules["groups"][0]["name"], "always");
}

TEST(RulesAlertmanagerTest, FiringAlertReachesARealAlertmanagerWithExternalLabels) {
  if (!std::filesystem::exists(AlertmanagerProcess::kBinary)) {
    GTEST_SKIP() << AlertmanagerProcess::kBinary
                 << " missing (apt-get install prometheus-alertmanager)";
  }
  TempDir dir;
  const AlertmanagerProcess am(dir.path());
  const int am_port = am.port();
  ASSERT_TRUE(am.listening()) << "Alertmanager did not listen within 20 s";
  RuleServer server(kRules, {.global_extra = "  external_labels: {cluster: eu}\n",
                             .sections = "alerting:\n  alertmanagers:\n    - static_configs:\n"
                                         "        - targets: ['127.0.0.1:" +
                                         std::to_string(am_port) + "']\n",
                             .flags = {"--web.external-url=http://vigil.example:9090/"}});
  VigilProcess& vigil = server.vigil();
  ASSERT_TRUE(vigil.WaitReady());
  json alerts;
  ASSERT_TRUE(vigil.WaitFor(
      [&] {
        alerts = json::parse(HttpGet(am_port, "/api/v2/alerts").body, nullptr, false);
        return alerts.is_array() && !alerts.empty();
      },
      20s))
      << "Alertmanager never got an alert; Vigil log:\n"
      << vigil.Logs();
  ASSERT_EQ(alerts.size(), 1u) << alerts.dump();  // pending alerts are not sent
  EXPECT_EQ(alerts[0]["labels"]["alertname"], "AlwaysOn");
  EXPECT_EQ(alerts[0]["labels"]["cluster"], "eu");
  EXPECT_EQ(alerts[0]["labels"]["severity"], "node-x");
  EXPECT_EQ(alerts[0]["status"]["state"], "active");
  EXPECT_EQ(alerts[0]["generatorURL"],
            "http://vigil.example:9090/graph?g0.expr=up%7Bjob%3D%22node%22%7D+%3E+0&g0.tab=1");
  const std::string metrics = vigil.Get("/metrics").body;
  EXPECT_NE(metrics.find("prometheus_notifications_alertmanagers_discovered 1\n"),
            std::string::npos);
  EXPECT_NE(metrics.find("prometheus_notifications_sent_total{alertmanager=\"http://127.0.0.1:" +
                         std::to_string(am_port) + "/api/v2/alerts\"} "),
            std::string::npos);
  const json ams = json::parse(vigil.Get("/api/v1/alertmanagers").body);
  EXPECT_EQ(ams["data"]["activeAlertmanagers"][0]["url"],
            "http://127.0.0.1:" + std::to_string(am_port) + "/api/v2/alerts");
}

// keep_firing_for as Prometheus 2.48's rules/alerting.go (the same since
// 2.42, so Debian's Prometheus runs the same rule file next to Vigil as the
// reference): once `m` drops to 0 the alert stays firing for 6s, with
// keepFiringSince in /api/v1/alerts and /api/v1/rules, ALERTS{alertstate=
// "firing"} still written, and Alertmanager learns it resolved only then.
TEST(RulesAlertmanagerTest, KeepFiringForKeepsTheAlertFiringEverywhereUntilItEnds) {
  const char* kPrometheus = "/usr/bin/prometheus";
  if (!std::filesystem::exists(AlertmanagerProcess::kBinary)) {
    GTEST_SKIP() << AlertmanagerProcess::kBinary
                 << " missing (apt-get install prometheus-alertmanager)";
  }
  constexpr auto kKeepFiringFor = 6s;
  const std::string rules =
      "groups:\n"
      "  - name: keep\n"
      "    interval: 1s\n"
      "    rules:\n"
      "      - alert: Flapping\n"
      "        expr: m > 0\n"
      "        keep_firing_for: 6s\n";
  TempDir dir;
  const AlertmanagerProcess am(dir.path());
  const int am_port = am.port();
  ASSERT_TRUE(am.listening()) << "Alertmanager did not listen within 20 s";
  RuleServer server(rules, {.global_extra = "",
                            .sections = "alerting:\n  alertmanagers:\n    - static_configs:\n"
                                        "        - targets: ['127.0.0.1:" +
                                        std::to_string(am_port) + "']\n"});
  VigilProcess& vigil = server.vigil();
  // The reference: Prometheus with the same rule file, scraping the same target.
  const bool with_prometheus = std::filesystem::exists(kPrometheus);
  const int prom_port = FreePort();
  std::optional<test_support::ChildProcess> prometheus;
  if (with_prometheus) {
    WriteFileAtomically(dir.path() / "prometheus.yml",
                        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                        "rule_files:\n  - " +
                            server.rules_file().string() +
                            "\n"
                            "scrape_configs:\n  - job_name: node\n    static_configs:\n"
                            "      - targets: ['" +
                            server.target().address() + "']\n");
    prometheus.emplace(
        std::vector<std::string>{kPrometheus,
                                 "--config.file=" + (dir.path() / "prometheus.yml").string(),
                                 "--storage.tsdb.path=" + (dir.path() / "prom-data").string(),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)},
        dir.path() / "prometheus.log");
  }
  ASSERT_TRUE(vigil.WaitReady());
  const auto am_alerts = [&] {
    return json::parse(HttpGet(am_port, "/api/v2/alerts").body, nullptr, false);
  };
  const auto alerts_of = [&](int port) {
    const json j = json::parse(HttpGet(port, "/api/v1/alerts").body, nullptr, false);
    return j.is_object() ? j["data"]["alerts"] : json();
  };
  ASSERT_TRUE(vigil.WaitFor(
      [&] {
        const json a = am_alerts();
        return a.is_array() && a.size() == 1 &&
               (!with_prometheus || alerts_of(prom_port).size() == 1);
      },
      20s))
      << "never fired; Vigil log:\n"
      << vigil.Logs();

  server.target().SetBody("m 0\n");
  const auto stopped = std::chrono::steady_clock::now();
  // Both keep it firing and say since when.
  json vigil_alerts, prom_alerts;
  ASSERT_TRUE(vigil.WaitFor(
      [&] {
        vigil_alerts = alerts_of(vigil.port());
        if (with_prometheus) prom_alerts = alerts_of(prom_port);
        return vigil_alerts.size() == 1 && vigil_alerts[0].contains("keepFiringSince") &&
               (!with_prometheus ||
                (prom_alerts.size() == 1 && prom_alerts[0].contains("keepFiringSince")));
      },
      5s))
      << vigil_alerts.dump() << prom_alerts.dump();
  EXPECT_EQ(vigil_alerts[0]["state"], "firing");
  const json rule = ApiData(vigil, "/api/v1/rules")["groups"][0]["rules"][0];
  EXPECT_EQ(rule["keepFiringFor"], 6);
  EXPECT_EQ(rule["state"], "firing");
  ASSERT_EQ(rule["alerts"].size(), 1u);
  EXPECT_TRUE(rule["alerts"][0].contains("keepFiringSince"));
  if (with_prometheus) {
    // The same document as Prometheus's, but for the times.
    const auto shape = [](json alerts) {
      for (auto& a : alerts) {
        for (const char* key : {"activeAt", "keepFiringSince"}) a[key] = a.contains(key);
      }
      return alerts;
    };
    EXPECT_EQ(shape(vigil_alerts), shape(prom_alerts));
    const json prom_rule =
        json::parse(HttpGet(prom_port, "/api/v1/rules").body)["data"]["groups"][0]["rules"][0];
    EXPECT_EQ(rule["keepFiringFor"], prom_rule["keepFiringFor"]);
  }
  const json firing =
      ApiData(vigil, "/api/v1/query?query=ALERTS%7Balertname%3D%22Flapping%22%7D")["result"];
  ASSERT_EQ(firing.size(), 1u) << firing.dump();
  EXPECT_EQ(firing[0]["metric"]["alertstate"], "firing");

  // Alertmanager drops the alert from its list once Vigil sends it resolved:
  // not before keep_firing_for has passed since the expression stopped.
  ASSERT_TRUE(vigil.WaitFor([&] { return am_alerts().empty(); }, 20s)) << am_alerts().dump();
  EXPECT_GE(std::chrono::steady_clock::now() - stopped, kKeepFiringFor);
  EXPECT_TRUE(alerts_of(vigil.port()).empty());
  EXPECT_TRUE(vigil.WaitFor(
      [&] {
        return ApiData(vigil,
                       "/api/v1/query?query=ALERTS%7Balertname%3D%22Flapping%22%7D")["result"]
            .empty();
      },
      5s))
      << "ALERTS goes stale once the alert resolved";
}

}  // namespace
}  // namespace vigil::e2e
