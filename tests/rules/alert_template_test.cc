// Alert templates: expected texts are what Prometheus 2.42 printed for the
// same templates (checked side by side with a firing rule).
#include "rules/alert_template.h"

#include <gtest/gtest.h>

namespace vigil::rules {
namespace {

std::string Expand(std::string_view text, double value = 1) {
  static const Labels labels{{"__name__", "up"}, {"instance", "127.0.0.1:29400"}, {"job", "node"}};
  static const Labels external{{"cluster", "eu"}};
  return ExpandAlertTemplate(text, {&labels, &external, "http://vigil:9090", value});
}

TEST(AlertTemplate, LabelsValueAndPipelinesAsPrometheus) {
  EXPECT_EQ(Expand("{{ $labels.instance }} value {{ $value }} h={{ $value | humanize }} "
                   "p={{ 0.1234 | humanizePercentage }} d={{ 3725 | humanizeDuration }}"),
            "127.0.0.1:29400 value 1 h=1 p=12.34% d=1h 2m 5s");
  EXPECT_EQ(Expand("{{ $labels.job }}-x"), "node-x");
  EXPECT_EQ(Expand("{{.Labels.job}} {{ .Value }}", 0.5), "node 0.5");
  EXPECT_EQ(Expand("{{ $externalLabels.cluster }} {{ $externalURL }}"), "eu http://vigil:9090");
  EXPECT_EQ(Expand("{{ $labels.missing }}|"), "|");
}

TEST(AlertTemplate, HumanizeUsesSiPrefixesAndFourDigits) {
  EXPECT_EQ(Expand("{{ $value | humanize }}", 1234567), "1.235M");
  EXPECT_EQ(Expand("{{ $value | humanize }}", 0.00123), "1.23m");
  EXPECT_EQ(Expand("{{ $value | humanize1024 }}", 2048), "2ki");
  EXPECT_EQ(Expand("{{ humanizeDuration 0.25 }}"), "250ms");
  EXPECT_EQ(Expand("{{ humanizeDuration 90061 }}"), "1d 1h 1m 1s");
  EXPECT_EQ(Expand("{{ printf \"%.2f\" $value }}", 3.14159), "3.14");
  EXPECT_EQ(Expand("{{ $value }}", 1e6), "1e+06");
}

TEST(AlertTemplate, UnsupportedConstructsSayTheyFailed) {
  EXPECT_TRUE(Expand("{{ range $labels }}x{{ end }}").starts_with("<error expanding template: "));
  EXPECT_TRUE(Expand("{{ $value | nosuchfunc }}").starts_with("<error expanding template: "));
  EXPECT_EQ(Expand("no actions"), "no actions");
}

}  // namespace
}  // namespace vigil::rules
