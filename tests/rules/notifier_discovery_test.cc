// The Alertmanagers of an alertmanagers[] entry from its target groups, as
// Prometheus 2.48's notifier (notifier/notifier.go AlertmanagerFromGroup,
// alertmanagerSet.sync): relabel_configs over the discovered labels decide
// which targets are notified and where; dropped targets are listed; every
// update replaces the entry's set; a reload keeps what discovery found for
// entries that did not change.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/config.h"
#include "rules/notifier.h"
#include "tests/rules/alerting_config.h"

namespace vigil::rules {
namespace {

using Urls = std::vector<std::string>;

using test_support::Alerting;

config::TargetGroup Group(Urls targets, Labels labels, std::vector<Labels> target_labels = {}) {
  config::TargetGroup g;
  g.targets = std::move(targets);
  g.labels = std::move(labels);
  g.target_labels = std::move(target_labels);
  return g;
}

constexpr char kFileSd[] =
    "    - path_prefix: /am/\n"
    "      file_sd_configs: [{files: [/nonexistent/am.json]}]\n"
    "      relabel_configs:\n"
    "        - source_labels: [__meta_role]\n"
    "          regex: standby\n"
    "          action: drop\n"
    "        - source_labels: [__meta_tls]\n"
    "          regex: 'yes'\n"
    "          target_label: __scheme__\n"
    "          replacement: https\n";

TEST(NotifierDiscoveryTest, DiscoveredGroupsBecomeAlertmanagersThroughRelabeling) {
  Notifier n;
  n.ApplyConfig(Alerting(kFileSd), {});
  EXPECT_EQ(n.AlertmanagerUrls(), Urls{}) << "nothing discovered yet";
  n.SetTargetGroups(0,
                    {Group({"a:9093", "b:9093"}, Labels{{"__meta_role", "primary"}}),
                     Group({"c:9093"}, Labels{{"__meta_role", "standby"}}),
                     Group({"d:9093"}, Labels{{"__meta_role", "primary"}, {"__meta_tls", "yes"}})});
  EXPECT_EQ(n.AlertmanagerUrls(),
            (Urls{"http://a:9093/am/api/v2/alerts", "http://b:9093/am/api/v2/alerts",
                  "https://d:9093/am/api/v2/alerts"}));
  // A dropped target's URL comes from its labels before relabeling.
  EXPECT_EQ(n.DroppedAlertmanagerUrls(), Urls{"http://c:9093/am/api/v2/alerts"});
}

TEST(NotifierDiscoveryTest, AlertsPathAndAddressAreRelabelable) {
  Notifier n;
  n.ApplyConfig(Alerting("    - api_version: v2\n"
                         "      path_prefix: /x/../proxy//\n"
                         "      static_configs: [{targets: ['am:80']}]\n"
                         "      relabel_configs:\n"
                         "        - source_labels: [__alerts_path__]\n"
                         "          regex: (.*)\n"
                         "          target_label: __alerts_path__\n"
                         "          replacement: /tenant-1$1\n"
                         "        - source_labels: [__address__]\n"
                         "          regex: (.*):80\n"
                         "          target_label: __address__\n"
                         "          replacement: $1.mon:9093\n"),
                {});
  // path.Join("/", "/x/../proxy//", "/api/v2/alerts") is /proxy/api/v2/alerts.
  EXPECT_EQ(n.AlertmanagerUrls(), Urls{"http://am.mon:9093/tenant-1/proxy/api/v2/alerts"});
}

// Kubernetes groups carry per-target labels (one set per container port);
// they win over the group's labels of the same name.
TEST(NotifierDiscoveryTest, PerTargetLabelsAreRelabeledAndWinOverGroupLabels) {
  Notifier n;
  n.ApplyConfig(Alerting("    - kubernetes_sd_configs: [{role: pod}]\n"
                         "      relabel_configs:\n"
                         "        - source_labels: [__meta_kubernetes_pod_container_port_name]\n"
                         "          regex: web\n"
                         "          action: keep\n"),
                {});
  const Labels group{{"__meta_kubernetes_namespace", "mon"},
                     {"__meta_kubernetes_pod_container_port_name", "group-level"}};
  n.SetTargetGroups(0, {Group({"10.0.0.5:9093", "10.0.0.5:9094"}, group,
                              {Labels{{"__meta_kubernetes_pod_container_port_name", "web"}},
                               Labels{{"__meta_kubernetes_pod_container_port_name", "cluster"}}})});
  EXPECT_EQ(n.AlertmanagerUrls(), Urls{"http://10.0.0.5:9093/api/v2/alerts"});
  EXPECT_EQ(n.DroppedAlertmanagerUrls(), Urls{"http://10.0.0.5:9094/api/v2/alerts"});
}

TEST(NotifierDiscoveryTest, EveryUpdateReplacesTheEntrysAlertmanagers) {
  Notifier n;
  n.ApplyConfig(Alerting(kFileSd), {});
  n.SetTargetGroups(0, {Group({"a:9093"}, {})});
  EXPECT_EQ(n.AlertmanagerUrls(), Urls{"http://a:9093/am/api/v2/alerts"});
  n.SetTargetGroups(0, {Group({"a:9094"}, {}), Group({"c:1"}, Labels{{"__meta_role", "standby"}})});
  EXPECT_EQ(n.AlertmanagerUrls(), Urls{"http://a:9094/am/api/v2/alerts"});
  EXPECT_EQ(n.DroppedAlertmanagerUrls(), Urls{"http://c:1/am/api/v2/alerts"});
  n.SetTargetGroups(0, {});
  EXPECT_EQ(n.AlertmanagerUrls(), Urls{});
  EXPECT_EQ(n.DroppedAlertmanagerUrls(), Urls{});
}

TEST(NotifierDiscoveryTest, DuplicateUrlsAreNotifiedOnceAndAUrlAddressFailsItsGroup) {
  Notifier n;
  n.ApplyConfig(Alerting(kFileSd), {});
  n.SetTargetGroups(0, {Group({"a:1", "a:1"}, {}), Group({"a:1"}, {}),
                        Group({"b:1", "http://b:1/x"}, {}), Group({"c:1"}, {})});
  // The group with a URL for an address contributes nothing, as in Prometheus.
  EXPECT_EQ(n.AlertmanagerUrls(),
            (Urls{"http://a:1/am/api/v2/alerts", "http://c:1/am/api/v2/alerts"}));
}

TEST(NotifierDiscoveryTest, ReloadKeepsDiscoveredGroupsOfUnchangedEntriesOnly) {
  const std::string second =
      "    - static_configs: [{targets: ['s:9093']}]\n"
      "      file_sd_configs: [{files: [/nonexistent/b.json]}]\n";
  Notifier n;
  n.ApplyConfig(Alerting(std::string(kFileSd) + second), {});
  EXPECT_EQ(n.AlertmanagerUrls(), Urls{"http://s:9093/api/v2/alerts"})
      << "static_configs are notified before any discovery";
  n.SetTargetGroups(0, {Group({"a:1"}, {})});
  n.SetTargetGroups(1, {Group({"s:9093"}, {}), Group({"f:1"}, {})});
  n.SetTargetGroups(2, {Group({"ignored:1"}, {})});  // no such entry
  EXPECT_EQ(n.AlertmanagerUrls(),
            (Urls{"http://a:1/am/api/v2/alerts", "http://s:9093/api/v2/alerts",
                  "http://f:1/api/v2/alerts"}));

  n.ApplyConfig(Alerting(std::string(kFileSd) + second + "      timeout: 3s\n"), {});
  EXPECT_EQ(n.AlertmanagerUrls(),
            (Urls{"http://a:1/am/api/v2/alerts", "http://s:9093/api/v2/alerts"}))
      << "entry 0 unchanged keeps its groups, entry 1 changed starts from its static_configs";
  n.ApplyConfig(Alerting(second), {});
  EXPECT_EQ(n.AlertmanagerUrls(), Urls{"http://s:9093/api/v2/alerts"});
}

}  // namespace
}  // namespace vigil::rules
