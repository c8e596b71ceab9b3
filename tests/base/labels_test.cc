#include "base/labels.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

TEST(Labels, SortsByNameAndDropsEmptyValues) {
  Labels ls({{"b", "2"}, {"a", "1"}, {"c", ""}});
  ASSERT_EQ(ls.size(), 2u);
  EXPECT_EQ(ls[0].name, "a");
  EXPECT_EQ(ls[1].name, "b");
  EXPECT_FALSE(ls.Has("c"));
}

TEST(Labels, ToStringUsesPrometheusNotation) {
  Labels ls({{"__name__", "up"}, {"job", "a\"b"}, {"instance", "x:1"}});
  EXPECT_EQ(ls.ToString(), R"(up{instance="x:1", job="a\"b"})");
}

TEST(Labels, OrdersLabelByLabel) {
  Labels a({{"a", "1"}});
  Labels b({{"a", "1"}, {"b", "1"}});
  Labels c({{"a", "2"}});
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
}

TEST(LabelsBuilder, SetEmptyDeletes) {
  Labels base({{"a", "1"}, {"b", "2"}});
  Labels out = LabelsBuilder(base).Set("a", "").Set("c", "3").Build();
  EXPECT_EQ(out, Labels({{"b", "2"}, {"c", "3"}}));
}

TEST(LabelNames, ValidatesAsPrometheus) {
  EXPECT_TRUE(IsValidLabelName("_a1"));
  EXPECT_FALSE(IsValidLabelName("1a"));
  EXPECT_FALSE(IsValidLabelName("a:b"));
  EXPECT_TRUE(IsValidMetricName("a:b_c"));
  EXPECT_FALSE(IsValidMetricName(""));
}

}  // namespace
}  // namespace vigil

#include "base/metrics_registry.h"

namespace vigil {
namespace {

TEST(FormatFloat, MatchesGoShortestG) {
  EXPECT_EQ(FormatFloat(0.03), "0.03");
  EXPECT_EQ(FormatFloat(20000), "20000");
  EXPECT_EQ(FormatFloat(123456), "123456");
  EXPECT_EQ(FormatFloat(8104208), "8.104208e+06");
  EXPECT_EQ(FormatFloat(1.79562949134e+09), "1.79562949134e+09");
  EXPECT_EQ(FormatFloat(1.8446744073709552e+19), "1.8446744073709552e+19");
  EXPECT_EQ(FormatFloat(0.0001), "0.0001");
  EXPECT_EQ(FormatFloat(0.00001), "1e-05");
  EXPECT_EQ(FormatFloat(-2.5e-120), "-2.5e-120");
  EXPECT_EQ(FormatFloat(0), "0");
  EXPECT_EQ(FormatFloat(-0.0), "-0");
  EXPECT_EQ(FormatFloat(1.0 / 0.0), "+Inf");
  EXPECT_EQ(FormatFloat(-1.0 / 0.0), "-Inf");
}

}  // namespace
}  // namespace vigil
