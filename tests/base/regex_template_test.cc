// ExpandRegexTemplate: Go's regexp.Expand, as relabel replacements and
// label_replace() use it. The expected values are Prometheus 2.42's
// label_replace() output for the same templates.
#include "base/regex_template.h"

#include <gtest/gtest.h>

#include <vector>

namespace vigil {
namespace {

// Expands `tmpl` with the match of `pattern` (anchored) against `value`.
std::string Expand(std::string_view tmpl, const std::string& pattern, std::string_view value) {
  const re2::RE2 re("^(?:" + pattern + ")$");
  EXPECT_TRUE(re.ok()) << re.error();
  std::vector<re2::StringPiece> groups(re.NumberOfCapturingGroups() + 1);
  EXPECT_TRUE(re.Match(value, 0, value.size(), re2::RE2::UNANCHORED, groups.data(),
                       static_cast<int>(groups.size())));
  return ExpandRegexTemplate(tmpl, re, groups);
}

constexpr const char* kPattern = "(?P<first>a)(b)(x)?";

TEST(RegexTemplate, NumberedAndNamedGroups_Expand) {
  EXPECT_EQ(Expand("$1-$2", kPattern, "ab"), "a-b");
  EXPECT_EQ(Expand("${1}x", kPattern, "ab"), "ax");
  EXPECT_EQ(Expand("$first", kPattern, "ab"), "a");
  EXPECT_EQ(Expand("${first}z", kPattern, "ab"), "az");
  EXPECT_EQ(Expand("$0", kPattern, "ab"), "ab");
}

TEST(RegexTemplate, DoubleDollar_IsALiteralDollar) {
  EXPECT_EQ(Expand("$$1", kPattern, "ab"), "$1");
  EXPECT_EQ(Expand("$$$1", kPattern, "ab"), "$a");
}

TEST(RegexTemplate, NameRunsOverWordCharacters) {
  EXPECT_EQ(Expand("$1x", kPattern, "ab"), "");  // group "1x": unknown
  EXPECT_EQ(Expand("$firstz", kPattern, "ab"), "");
  EXPECT_EQ(Expand("$1ü", kPattern, "ab"), "");  // Unicode letters are word characters
  EXPECT_EQ(Expand("$1٣", kPattern, "ab"), "");  // and so are Unicode digits
  EXPECT_EQ(Expand("${1}ü", kPattern, "ab"), "aü");
  EXPECT_EQ(Expand("$1€", kPattern, "ab"), "a€");  // a symbol ends the name
  EXPECT_EQ(Expand("$1-", kPattern, "ab"), "a-");
}

TEST(RegexTemplate, LeadingZero_IsANameNotANumber) {
  EXPECT_EQ(Expand("$01", kPattern, "ab"), "");
  EXPECT_EQ(Expand("${01}", kPattern, "ab"), "");
}

TEST(RegexTemplate, UnknownOrUnmatchedGroup_ExpandsToEmpty) {
  EXPECT_EQ(Expand("<$9>", kPattern, "ab"), "<>");
  EXPECT_EQ(Expand("<$3>", kPattern, "ab"), "<>");  // (x)? did not take part
  EXPECT_EQ(Expand("<$nope>", kPattern, "ab"), "<>");
  EXPECT_EQ(Expand("<$1234567890>", kPattern, "ab"), "<>");
}

TEST(RegexTemplate, MalformedReference_KeepsTheDollar) {
  EXPECT_EQ(Expand("cost: $", kPattern, "ab"), "cost: $");
  EXPECT_EQ(Expand("$-1", kPattern, "ab"), "$-1");
  EXPECT_EQ(Expand("${", kPattern, "ab"), "${");
  EXPECT_EQ(Expand("${}", kPattern, "ab"), "${}");
  EXPECT_EQ(Expand("${1", kPattern, "ab"), "${1");
  EXPECT_EQ(Expand("${1 x}", kPattern, "ab"), "${1 x}");  // not a name up to the '}'
  EXPECT_EQ(Expand("${1 x}$1", kPattern, "ab"), "${1 x}a");
}

TEST(RegexTemplate, InvalidUtf8_EndsAName) {
  EXPECT_EQ(Expand("$1\xff", kPattern, "ab"), "a\xff");
}

}  // namespace
}  // namespace vigil
