// Go's fmt for template values: every expected text below is what Prometheus
// 2.42 printed for the same printf call in an alert annotation (promtool test
// rules, which expands annotations, used as the oracle).
#include "rules/go_format.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace vigil::rules {
namespace {

using S = std::string;

struct Case {
  const char* format;
  std::vector<GoValue> args;
  const char* want;
};

std::string Sprintf(const char* format, const std::vector<GoValue>& args) {
  auto out = GoSprintf(format, args);
  return out.ok() ? *out : "ERROR: " + out.status().message();
}

void ExpectAll(const std::vector<Case>& cases) {
  for (const Case& c : cases) EXPECT_EQ(Sprintf(c.format, c.args), c.want) << c.format;
}

TEST(GoFormat, TheAnnotationThatCrashedTheServerPrintsGoErrorTexts) {
  // {{ printf "%s: %s" $labels.foo $labels.alertname }} {{ printf "%s" $value }}
  EXPECT_EQ(Sprintf("%s: %s", {S("bar"), S("")}), "bar: ");
  EXPECT_EQ(Sprintf("%s", {1.5}), "%!s(float64=1.5)");
}

TEST(GoFormat, MissingExtraAndMismatchedArgumentsAreReportedInline) {
  ExpectAll({
      {"%d %d", {int64_t{1}}, "1 %!d(MISSING)"},
      {"%s", {}, "%!s(MISSING)"},
      {"%s", {S("a"), S("b")}, "a%!(EXTRA string=b)"},
      {"%s",
       {int64_t{1}, int64_t{2}, 3.5, S("x")},
       "%!s(int=1)%!(EXTRA int=2, float64=3.5, string=x)"},
      {"%d", {1.2345675e6}, "%!d(float64=1.2345675e+06)"},
      {"%d|%s|%v", {true, true, true}, "%!d(bool=true)|%!s(bool=true)|true"},
      {"%t|%t", {true, int64_t{5}}, "true|%!t(int=5)"},
      {"%z", {S("a")}, "%!z(string=a)"},
      {"%5z", {S("a")}, "%!z(string=    a)"},
      {"%n", {int64_t{1}}, "%!n(int=1)"},
      {"%s", {GoNil{}}, "%!s(<nil>)"},
      {"%!|%", {int64_t{1}}, "%!!(int=1)|%!(NOVERB)"},
      {"%.|%.5", {int64_t{1}, int64_t{2}}, "%!|(int=1)%!(NOVERB)%!(EXTRA int=2)"},
      {"%[2]s %[1]s|%[3]s", {S("a"), S("b")}, "b a|%!s(BADINDEX)"},
      {"%*d|%-*d|%.*f|%*d",
       {int64_t{5}, int64_t{1}, int64_t{5}, int64_t{1}, int64_t{2}, 3.14159, S("x"), int64_t{3}},
       "    1|1    |3.14|%!(BADWIDTH)3"},
  });
}

TEST(GoFormat, HugeWidthIsRefusedAsGoRefusesIt) {
  // Go's fmt takes no width above 10^6: the rest of the format is dropped.
  EXPECT_EQ(Sprintf("%999999999d", {int64_t{5}}), "%!(NOVERB)%!(EXTRA int=5)");
  EXPECT_EQ(Sprintf("%.999999999f", {1.0}), "%!(NOVERB)%!(EXTRA float64=1)");
  EXPECT_EQ(Sprintf("%*d", {int64_t{2'000'000}, int64_t{1}}), "%!(BADWIDTH)1");
  EXPECT_EQ(Sprintf("%1000000d", {int64_t{1}}).size(), 1'000'000u);
}

TEST(GoFormat, OutputIsCapped) {
  const std::vector<GoValue> args(4, GoValue(int64_t{1}));
  auto out = GoSprintf("%1000000d%1000000d%1000000d%1000000d", args);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("printf output exceeds"), std::string::npos);
}

TEST(GoFormat, FlagsWidthAndPrecisionAsGo) {
  ExpectAll({
      {"%-05d|", {int64_t{5}}, "5    |"},
      {"%05s|", {S("ab")}, "000ab|"},
      {"%#v|%+v|%#v|%#v", {int64_t{5}, int64_t{5}, 1.0, S("a")}, "5|5|1|\"a\""},
      {"%.3s|%.0d|%5.0d|", {S("abcdef"), int64_t{0}, int64_t{0}}, "abc||     |"},
      {"%08.3f|%+08.3f|% 8.3f|%-8.3f|%+.1e",
       {-3.14159, 3.14159, 3.14159, 3.14159, 12345.0},
       "-003.142|+003.142|   3.142|3.142   |+1.2e+04"},
      {"%5v|%-5v|%05v", {S("x"), 1.5, int64_t{-2}}, "    x|1.5  |-0002"},
      {"%10.4v|%.2v", {3.14159, S("abc")}, "     3.142|ab"},
      {"%6.2f%%", {99.5}, " 99.50%"},
      {"%+d|% d", {int64_t{5}, int64_t{5}}, "+5| 5"},
  });
}

TEST(GoFormat, IntegerVerbs) {
  ExpectAll({
      {"%c|%U|%#U|%o|%#o|%b|%O",
       {int64_t{65}, int64_t{65}, int64_t{233}, int64_t{8}, int64_t{8}, int64_t{5}, int64_t{8}},
       "A|U+0041|U+00E9 '\xC3\xA9'|10|010|101|0o10"},
      {"%x %X", {S("hi"), int64_t{255}}, "6869 FF"},
      {"%q", {int64_t{65}}, "'A'"},
      {"%v %v", {int64_t{31}, int64_t{-7}}, "31 -7"},
  });
}

TEST(GoFormat, FloatVerbs) {
  ExpectAll({
      {"%e|%E|%.2e|%g|%G|%.3g|%f|%F|%.0f|%#.0f|%#g",
       {1234.5678, 1234.5678, 1234.5678, 1234.5678, 1e-7, 1234.5678, 1234.5678, 1.5, 2.5, 2.5, 1.0},
       "1.234568e+03|1.234568E+03|1.23e+03|1234.5678|1E-07|1.23e+03|1234.567800|1.500000|2|2.|1."
       "00000"},
      {"%x|%X|%b|%.3x",
       {3.14, 3.14, 1.0, 3.14},
       "0x1.91eb851eb851fp+01|0X1.91EB851EB851FP+01|4503599627370496p-52|0x1.91fp+01"},
      {"%v|%v|%v|%v|%v",
       {1e20, 1e21, 123456.0, 0.0001, 0.00001},
       "1e+20|1e+21|123456|0.0001|1e-05"},
      {"%v %v", {1e6, 1.2345675e6}, "1e+06 1.2345675e+06"},
  });
  const double inf = INFINITY;
  EXPECT_EQ(Sprintf("%v|%v|%f|%05.1f|%+v", {NAN, -inf, inf, NAN, NAN}), "NaN|-Inf|+Inf|  NaN|NaN");
}

TEST(GoFormat, StringVerbsQuoteAndHexAsGo) {
  ExpectAll({
      {"%x|% x|%# x|%#x|%X",
       {S("h\xC3\xA9llo"), S("ab"), S("ab"), S("ab"), S("ab")},
       "68c3a96c6c6f|61 62|0x61 0x62|0x6162|6162"},
      {"%q|%+q|%#q",
       {S("h\xC3\xA9llo\x01"), S("h\xC3\xA9llo"), S("a`b")},
       "\"h\xC3\xA9llo\\x01\"|\"h\\u00e9llo\"|\"a`b\""},
      {"%q|%5s|%-6.3s|",
       {S("h\xC3\xA9llo"), S("h\xC3\xA9llo"), S("h\xC3\xA9llo")},
       "\"h\xC3\xA9llo\"|h\xC3\xA9llo|h\xC3\xA9l   |"},
      {"%#q", {S("ab")}, "`ab`"},
  });
}

// Found by comparing 1500 random printf calls with Prometheus 2.42.
TEST(GoFormat, RandomizedDifferencesWithPrometheusStayFixed) {
  ExpectAll({
      {"%# .0T|%.2T|%0.T", {int64_t{-3}, 1.5, S("a")}, "|fl|"},
      {"x%+ 5.*bx%# .s", {int64_t{-3}}, "x%!(BADPREC)%!b(MISSING)x%!s(MISSING)"},
      {"%*.*z",
       {S("a"), int64_t{-1}, S("h\xC3\xA9llo")},
       "%!(BADWIDTH)%!(BADPREC)%!z(string=h\xC3\xA9llo)"},
      {"%.0x|%#.0x|%012.0X", {1.5, 1e21, 3.14159}, "0x1p+01|0x1.p+70|000000X1P+02"},
      {"|%# .x", {1.5}, "| 0x1.p+01"},
      {"%q|%0q", {int64_t{255}, int64_t{0}}, "'\xC3\xBF'|'\\x00'"},
      {"%+ 5g|%-012g",
       {int64_t{9731}, S("h\xC3\xA9llo")},
       "%!g(int=+9731)|%!g(string=h\xC3\xA9llo       )"},
      {"%-0.2c% 12.2b", {S("h\xC3\xA9llo"), int64_t{31}}, "%!c(string=h\xC3\xA9)       11111"},
      {"%+ 1f|%+ 5.10x", {3.14159, int64_t{255}}, "+3.141590|+00000000ff"},
  });
}

TEST(GoFormat, InvalidUtf8IsEscapedByQuoteAndCopiedBySAsGo) {
  EXPECT_EQ(GoQuote("a\xff\xc3"), "\"a\\xff\\xc3\"");
  EXPECT_EQ(Sprintf("%s|%q", {S("\xff"), S("\xff")}), "\xff|\"\\xff\"");
}

TEST(GoFormat, FormatFloatShortestAndFixedPrecision) {
  EXPECT_EQ(GoFormatFloat(0.1, 'g', -1), "0.1");
  EXPECT_EQ(GoFormatFloat(-0.0, 'g', -1), "-0");
  EXPECT_EQ(GoFormatFloat(1e300, 'g', 4), "1e+300");
  EXPECT_EQ(GoFormatFloat(5e-324, 'g', -1), "5e-324");
  EXPECT_EQ(GoFormatFloat(123456789, 'g', -1), "1.23456789e+08");
}

}  // namespace
}  // namespace vigil::rules
