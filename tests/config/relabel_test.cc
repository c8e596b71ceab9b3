// Relabeling: every action with Prometheus's semantics, and the
// prometheus.io/* pod-annotation recipe.
#include <gtest/gtest.h>

#include "config/config.h"
#include "config/relabel.h"

namespace vigil::config {
namespace {

RelabelConfig Make(RelabelAction action, std::vector<std::string> sources, std::string regex,
                   std::string target = "", std::string replacement = "$1", uint64_t modulus = 0) {
  RelabelConfig c;
  c.action = action;
  c.source_labels = std::move(sources);
  c.regex = std::move(regex);
  c.target_label = std::move(target);
  c.replacement = std::move(replacement);
  c.modulus = modulus;
  const Status st = CompileRelabelConfig(c);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return c;
}

std::optional<Labels> Apply(const Labels& in, std::vector<RelabelConfig> cfgs) {
  return Relabel(in, cfgs);
}

const Labels kIn = {{"__name__", "http_requests_total"}, {"job", "api"}, {"instance", "h:1"},
                    {"Env", "Prod"}};

TEST(Relabel, Replace_WritesExpandedReplacement) {
  auto out = Apply(kIn, {Make(RelabelAction::kReplace, {"job", "instance"}, "(.*);h:(\\d+)", "port",
                              "p-$2")});
  ASSERT_TRUE(out);
  EXPECT_EQ(out->Get("port"), "p-1");
}

TEST(Relabel, Replace_NoMatchLeavesLabelsUnchanged) {
  auto out = Apply(kIn, {Make(RelabelAction::kReplace, {"job"}, "nomatch", "job", "x")});
  EXPECT_EQ(*out, kIn);
}

TEST(Relabel, Replace_EmptyResultDeletesTarget) {
  auto out = Apply(kIn, {Make(RelabelAction::kReplace, {"absent"}, "(.*)", "job", "$1")});
  EXPECT_FALSE(out->Has("job"));
}

TEST(Relabel, Replace_TargetLabelMayUseGroups) {
  auto out = Apply(kIn, {Make(RelabelAction::kReplace, {"job"}, "(a)(p)i", "lbl_${2}", "v")});
  EXPECT_EQ(out->Get("lbl_p"), "v");
}

TEST(Relabel, Replace_RegexIsFullyAnchored) {
  auto out = Apply(kIn, {Make(RelabelAction::kReplace, {"job"}, "p", "m", "hit")});
  EXPECT_FALSE(out->Has("m"));
}

TEST(Relabel, Replace_DefaultsCopySourceValue) {
  RelabelConfig c;
  c.source_labels = {"job"};
  c.target_label = "copy";
  ASSERT_TRUE(CompileRelabelConfig(c).ok());
  EXPECT_EQ(Apply(kIn, {c})->Get("copy"), "api");
}

TEST(Relabel, KeepAndDrop_FilterOnJoinedSources) {
  EXPECT_TRUE(Apply(kIn, {Make(RelabelAction::kKeep, {"job", "Env"}, "api;Prod")}));
  EXPECT_FALSE(Apply(kIn, {Make(RelabelAction::kKeep, {"job"}, "web")}));
  EXPECT_FALSE(Apply(kIn, {Make(RelabelAction::kDrop, {"job"}, "a.*")}));
  EXPECT_TRUE(Apply(kIn, {Make(RelabelAction::kDrop, {"job"}, "web")}));
}

TEST(Relabel, KeepEqualAndDropEqual_CompareWithTargetLabel) {
  const Labels in = {{"a", "x"}, {"b", "x"}, {"c", "y"}};
  RelabelConfig keq;
  keq.action = RelabelAction::kKeepEqual;
  keq.source_labels = {"a"};
  keq.target_label = "b";
  ASSERT_TRUE(CompileRelabelConfig(keq).ok());
  EXPECT_TRUE(Relabel(in, std::vector{keq}));
  keq.target_label = "c";
  EXPECT_FALSE(Relabel(in, std::vector{keq}));
  RelabelConfig deq = keq;
  deq.action = RelabelAction::kDropEqual;
  EXPECT_TRUE(Relabel(in, std::vector{deq}));
  deq.target_label = "b";
  EXPECT_FALSE(Relabel(in, std::vector{deq}));
}

TEST(Relabel, HashMod_MatchesPrometheusMd5Hash) {
  const Labels in = {{"v", "foo"}, {"addr", "10.0.0.1:9100"}};
  EXPECT_EQ(Apply(in, {Make(RelabelAction::kHashMod, {"v"}, "(.*)", "shard", "$1", 1000)})->Get("shard"),
            "696");
  EXPECT_EQ(Apply(in, {Make(RelabelAction::kHashMod, {"addr"}, "(.*)", "shard", "$1", 8)})->Get("shard"),
            "5");
}

TEST(Relabel, LabelMap_CopiesMatchingNames) {
  const Labels in = {{"__meta_kubernetes_pod_label_app", "web"}, {"__meta_kubernetes_pod_label_tier", "fe"}};
  auto out = Apply(in, {Make(RelabelAction::kLabelMap, {}, "__meta_kubernetes_pod_label_(.+)", "", "$1")});
  EXPECT_EQ(out->Get("app"), "web");
  EXPECT_EQ(out->Get("tier"), "fe");
  EXPECT_TRUE(out->Has("__meta_kubernetes_pod_label_app"));
}

TEST(Relabel, LabelDropAndLabelKeep_MatchNames) {
  auto dropped = Apply(kIn, {Make(RelabelAction::kLabelDrop, {}, "inst.*")});
  EXPECT_FALSE(dropped->Has("instance"));
  EXPECT_TRUE(dropped->Has("job"));
  auto kept = Apply(kIn, {Make(RelabelAction::kLabelKeep, {}, "__name__|job")});
  EXPECT_EQ(kept->size(), 2u);
}

TEST(Relabel, LowercaseAndUppercase_MapSourceValue) {
  EXPECT_EQ(Apply(kIn, {Make(RelabelAction::kLowercase, {"Env"}, "(.*)", "env")})->Get("env"), "prod");
  EXPECT_EQ(Apply(kIn, {Make(RelabelAction::kUppercase, {"job"}, "(.*)", "JOB")})->Get("JOB"), "API");
}

TEST(Relabel, Steps_SeeEarlierResults) {
  auto out = Apply(kIn, {Make(RelabelAction::kReplace, {"job"}, "(.*)", "tmp", "x$1"),
                         Make(RelabelAction::kKeep, {"tmp"}, "xapi")});
  ASSERT_TRUE(out);
  EXPECT_EQ(out->Get("tmp"), "xapi");
}

TEST(Relabel, ActionNames_AreCaseInsensitive) {
  EXPECT_EQ(ParseRelabelAction("LabelMap"), RelabelAction::kLabelMap);
  EXPECT_FALSE(ParseRelabelAction("nope"));
}

TEST(Relabel, Replacement_ExpandsAsGoRegexpExpand) {
  // A name runs over Unicode letters: "$1ü" names group "1ü" (unknown, ""),
  // so the label is deleted; "${1}ü" is group 1 and a literal "ü".
  auto out = Apply(kIn, {Make(RelabelAction::kReplace, {"job"}, "(.*)", "a", "$1ü"),
                         Make(RelabelAction::kReplace, {"job"}, "(.*)", "b", "${1}ü"),
                         Make(RelabelAction::kReplace, {"job"}, "(.*)", "c", "${1 x}")});
  ASSERT_TRUE(out);
  EXPECT_EQ(out->Get("a"), "");
  EXPECT_EQ(out->Get("b"), "apiü");
  EXPECT_EQ(out->Get("c"), "${1 x}");
}

TEST(Relabel, PodAnnotationRecipe_KeepsAnnotatedPodsAndRewritesAddress) {
  auto c = LoadConfigFile(std::string(VIGIL_SOURCE_DIR) + "/examples/configs/kubernetes-pods.yml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const auto& rules = c->scrape_configs[1].relabel_configs;
  const Labels annotated = {{"__address__", "10.1.2.3:8080"},
                            {"__meta_kubernetes_namespace", "shop"},
                            {"__meta_kubernetes_pod_name", "inventory-0"},
                            {"__meta_kubernetes_pod_label_app", "inventory"},
                            {"__meta_kubernetes_pod_annotation_prometheus_io_scrape", "true"},
                            {"__meta_kubernetes_pod_annotation_prometheus_io_port", "3000"},
                            {"__meta_kubernetes_pod_annotation_prometheus_io_path", "/custom"}};
  auto out = Relabel(annotated, rules);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->Get("__address__"), "10.1.2.3:3000");
  EXPECT_EQ(out->Get("__metrics_path__"), "/custom");
  EXPECT_EQ(out->Get("app"), "inventory");
  EXPECT_EQ(out->Get("kubernetes_namespace"), "shop");
  EXPECT_EQ(out->Get("kubernetes_pod_name"), "inventory-0");

  LabelsBuilder no_port(annotated);
  no_port.Del("__meta_kubernetes_pod_annotation_prometheus_io_port");
  no_port.Del("__meta_kubernetes_pod_annotation_prometheus_io_path");
  auto kept = Relabel(no_port.Build(), rules);
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->Get("__address__"), "10.1.2.3:8080");
  EXPECT_FALSE(kept->Has("__metrics_path__"));

  LabelsBuilder unannotated(annotated);
  unannotated.Set("__meta_kubernetes_pod_annotation_prometheus_io_scrape", "false");
  EXPECT_FALSE(Relabel(unannotated.Build(), rules));
}

}  // namespace
}  // namespace vigil::config
