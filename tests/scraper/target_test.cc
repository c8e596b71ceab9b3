// Target building: defaults, reserved labels and URLs as Prometheus's PopulateLabels.
#include <gtest/gtest.h>

#include "config/config.h"
#include "scraper/sample_labels.h"
#include "scraper/target.h"

namespace vigil::scraper {
namespace {

config::ScrapeConfig Job(const std::string& extra = "") {
  auto c = config::LoadConfigString("scrape_configs:\n  - job_name: j\n    scrape_interval: 15s\n" + extra,
                            "t.yml");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c->scrape_configs[0];
}

TEST(Target, Defaults_InstanceJobAndUrl) {
  TargetSet set;
  TargetsFromGroup({{"localhost:9100"}, Labels{{"env", "prod"}}, "0", {}}, Job(), set);
  ASSERT_EQ(set.targets.size(), 1u);
  const Target& t = set.targets[0];
  EXPECT_EQ(t.labels().ToString(), "{env=\"prod\", instance=\"localhost:9100\", job=\"j\"}");
  EXPECT_EQ(t.url(), "http://localhost:9100/metrics");
  EXPECT_EQ(t.interval_ms(), 15'000);
  EXPECT_EQ(t.timeout_ms(), 10'000);
  EXPECT_EQ(t.discovered_labels().Get("__scrape_interval__"), "15s");
  EXPECT_EQ(t.discovered_labels().Get("__scheme__"), "http");
}

TEST(Target, AddressWithoutPort_GetsSchemeDefault) {
  TargetSet set;
  TargetsFromGroup({{"example"}, {}, "0", {}}, Job("    scheme: https\n"), set);
  ASSERT_EQ(set.targets.size(), 1u);
  EXPECT_EQ(set.targets[0].labels().Get("instance"), "example:443");
  EXPECT_EQ(set.targets[0].url(), "https://example:443/metrics");
}

TEST(Target, ParamsAndParamLabels_BuildQuery) {
  TargetSet set;
  const config::ScrapeConfig job = Job(
      "    params: {module: [http_2xx], target: [a b]}\n"
      "    relabel_configs:\n"
      "      - {target_label: __param_target, replacement: 'x&y'}\n"
      "      - {target_label: __tmp_x, replacement: gone}\n"
      "      - {target_label: __meta_y, replacement: gone}\n");
  TargetsFromGroup({{"h:1"}, {}, "0", {}}, job, set);
  ASSERT_EQ(set.targets.size(), 1u);
  EXPECT_EQ(set.targets[0].url(), "http://h:1/metrics?module=http_2xx&target=x%26y");
  EXPECT_FALSE(set.targets[0].labels().Has("__tmp_x"));
  EXPECT_FALSE(set.targets[0].all_labels().Has("__meta_y"));
  EXPECT_EQ(set.targets[0].discovered_labels().Get("__param_target"), "a b");
}

TEST(Target, RelabeledIntervalAndTimeout_AreUsed) {
  TargetSet set;
  TargetsFromGroup({{"h:1"}, {}, "0", {}},
                   Job("    relabel_configs:\n"
                       "      - {target_label: __scrape_interval__, replacement: 1m}\n"
                       "      - {target_label: __scrape_timeout__, replacement: 30s}\n"),
                   set);
  ASSERT_EQ(set.targets.size(), 1u);
  EXPECT_EQ(set.targets[0].interval_ms(), 60'000);
  EXPECT_EQ(set.targets[0].timeout_ms(), 30'000);
}

TEST(Target, TimeoutOverInterval_IsAnError) {
  TargetSet set;
  TargetsFromGroup({{"h:1"}, {}, "g", {}},
                   Job("    relabel_configs:\n      - {target_label: __scrape_timeout__, replacement: 1m}\n"),
                   set);
  EXPECT_TRUE(set.targets.empty());
  ASSERT_EQ(set.errors.size(), 1u);
  EXPECT_NE(set.errors[0].find("scrape timeout cannot be greater than scrape interval"),
            std::string::npos);
}

TEST(Target, DroppedByRelabeling_KeepsDiscoveredLabels) {
  TargetSet set;
  TargetsFromGroup({{"h:1", "h:2"}, {}, "g", {}},
                   Job("    relabel_configs:\n      - {source_labels: [__address__], regex: 'h:2', action: drop}\n"),
                   set);
  EXPECT_EQ(set.targets.size(), 1u);
  ASSERT_EQ(set.dropped.size(), 1u);
  EXPECT_EQ(set.dropped[0].Get("__address__"), "h:2");
}

TEST(SampleLabels, TargetLabelsWin_ScrapedKeptAsExported) {
  const Labels scraped = {{"__name__", "m"}, {"job", "inner"}, {"exported_job", "x"}};
  const Labels target = {{"job", "outer"}, {"instance", "h:1"}};
  const Labels out = ApplyTargetLabels(scraped.vec(), target, false);
  EXPECT_EQ(out.Get("job"), "outer");
  EXPECT_EQ(out.Get("exported_job"), "x");
  EXPECT_EQ(out.Get("exported_exported_job"), "inner");
  EXPECT_EQ(out.Get("instance"), "h:1");
}

TEST(SampleLabels, HonorLabels_ScrapedWin) {
  const std::vector<Label> exposed = {{"__name__", "m"}, {"job", "inner"}};
  const Labels out = ApplyTargetLabels(exposed, {{"job", "outer"}, {"instance", "h:1"}}, true);
  EXPECT_EQ(out.Get("job"), "inner");
  EXPECT_EQ(out.Get("instance"), "h:1");
  EXPECT_FALSE(out.Has("exported_job"));
}

// As Prometheus: the exposed label exists (with an empty value), so the
// target's is not added, and an empty value means no label.
TEST(SampleLabels, HonorLabels_ExposedEmptyValueRemovesTargetLabel) {
  const std::vector<Label> exposed = {{"__name__", "m"}, {"job", ""}, {"other", "2"}};
  const Labels out = ApplyTargetLabels(exposed, {{"job", "outer"}, {"instance", "h:1"}}, true);
  EXPECT_EQ(out, (Labels{{"__name__", "m"}, {"instance", "h:1"}, {"other", "2"}}));
}

TEST(SampleLabels, ExposedEmptyValueIsNoConflict_NoExportedLabel) {
  const std::vector<Label> exposed = {{"__name__", "m"}, {"exported_job", ""}, {"job", ""}};
  const Labels out = ApplyTargetLabels(exposed, {{"job", "outer"}}, false);
  EXPECT_EQ(out, (Labels{{"__name__", "m"}, {"job", "outer"}}));
}

TEST(SampleLabels, ExportedNameTakenOnlyByNonEmptyValue) {
  const std::vector<Label> exposed = {{"__name__", "m"}, {"exported_job", ""}, {"job", "inner"}};
  const Labels out = ApplyTargetLabels(exposed, {{"job", "outer"}}, false);
  EXPECT_EQ(out, (Labels{{"__name__", "m"}, {"exported_job", "inner"}, {"job", "outer"}}));
}

}  // namespace
}  // namespace vigil::scraper
