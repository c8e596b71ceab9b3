// DecodeLabelMap: YAML label maps as Go's yaml decodes a map[string]string,
// shared by prometheus.yml (external_labels, target labels) and rule files.
#include "config/yaml_labels.h"

#include <gtest/gtest.h>

namespace vigil::config {
namespace {

struct Decoded {
  Status status;
  std::vector<Label> labels;
  YAML::Mark at;
};

Decoded Decode(const std::string& yaml) {
  Decoded d;
  d.status = DecodeLabelMap(YAML::Load(yaml)["m"], &d.labels, &d.at);
  return d;
}

TEST(DecodeLabelMap, Mapping_IsSortedByName) {
  const Decoded d = Decode("m: {b: '2', a: x}");
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  EXPECT_EQ(d.labels, (std::vector<Label>{{"a", "x"}, {"b", "2"}}));
}

TEST(DecodeLabelMap, NullMapAndNullValue_AreEmpty) {
  EXPECT_TRUE(Decode("m:").labels.empty());
  EXPECT_TRUE(Decode("other: 1").labels.empty());  // absent
  const Decoded d = Decode("m: {a: }");
  ASSERT_TRUE(d.status.ok());
  EXPECT_EQ(d.labels, (std::vector<Label>{{"a", ""}}));
}

TEST(DecodeLabelMap, NotAMapping_IsAnErrorAtTheNode) {
  const Decoded d = Decode("x: 1\nm: [a, b]\n");
  EXPECT_EQ(d.status.message(), "cannot unmarshal !!seq into map[string]string");
  EXPECT_EQ(d.at.line, 1);
}

TEST(DecodeLabelMap, ValueNotAString_IsAnErrorAtTheValue) {
  const Decoded d = Decode("m:\n  a: x\n  b: [1]\n");
  EXPECT_EQ(d.status.message(), "cannot unmarshal !!seq into string");
  EXPECT_EQ(d.at.line, 2);
  EXPECT_EQ(Decode("m: {[a]: x}").status.message(), "cannot unmarshal !!seq into string");
}

TEST(DecodeLabelMap, RepeatedName_IsAnErrorAtTheRepeat) {
  const Decoded d = Decode("m:\n  a: x\n  b: y\n  a: z\n");
  EXPECT_EQ(d.status.message(), "mapping key \"a\" already defined");
  EXPECT_EQ(d.at.line, 3);
}

}  // namespace
}  // namespace vigil::config
