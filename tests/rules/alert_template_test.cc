// Alert templates: expected texts are what Prometheus 2.42 printed for the
// same templates (checked side by side with a firing rule).
#include "rules/alert_template.h"

#include <gtest/gtest.h>

#include <cmath>

namespace vigil::rules {
namespace {

std::string Expand(std::string_view text, double value = 1) {
  static const Labels labels{{"__name__", "up"}, {"instance", "127.0.0.1:29400"}, {"job", "node"}};
  static const Labels external{{"cluster", "eu"}};
  return ExpandAlertTemplate(text, {&labels, &external, "http://vigil:9090", value, "A"});
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

// The labels and value of the oracle runs: promtool test rules with the series
// up{job="j",foo="bar",utf="héllo"} = 1.5 and one annotation per case.
std::string ExpandAsOracle(std::string_view text, double value = 1.5) {
  static const Labels labels{
      {"__name__", "up"}, {"foo", "bar"}, {"job", "j"}, {"utf", "h\xC3\xA9llo"}};
  static const Labels external;
  return ExpandAlertTemplate(text, {&labels, &external, "", value, "A"});
}

TEST(AlertTemplate, PrintfWithMismatchedArgumentsPrintsGoErrorTextsInsteadOfCrashing) {
  // This annotation took the server down (the format went to snprintf).
  EXPECT_EQ(ExpandAsOracle("{{ printf \"%s: %s\" $labels.foo $labels.alertname }} "
                           "{{ printf \"%s\" $value }}"),
            "bar:  %!s(float64=1.5)");
  EXPECT_EQ(ExpandAsOracle("{{ printf \"%d %n %s\" $value }}"),
            "%!d(float64=1.5) %!n(MISSING) %!s(MISSING)");
  EXPECT_EQ(ExpandAsOracle("{{ printf \"%999999999d\" 5 }}"), "%!(NOVERB)%!(EXTRA int=5)");
}

TEST(AlertTemplate, PipelinesLiteralsAndVariablesAsPrometheus) {
  struct Case {
    const char* text;
    const char* want;
  };
  for (const Case& c : {
           Case{"{{ printf \"%s\" (printf \"%d\" 5) }}", "5"},
           Case{"{{ ((((1)))) }}", "1"},
           Case{"{{ \"a\" | printf \"%s-%s\" \"b\" | printf \"[%s]\" }}", "[b-a]"},
           Case{"{{ 1 | printf \"%d %s\" 2 }}", "2 %!s(int=1)"},
           Case{"{{ $labels }}", "map[__name__:up foo:bar job:j utf:h\xC3\xA9llo]"},
           Case{"{{ .Labels }}", "map[__name__:up foo:bar job:j utf:h\xC3\xA9llo]"},
           Case{"{{ . }}", "{map[__name__:up foo:bar job:j utf:h\xC3\xA9llo] map[]  1.5}"},
           Case{"{{ $value | printf \"%.2f\" }}", "1.50"},
           Case{"a {{- \" x \" -}} b", "a x b"},
           Case{"{{/* comment */}}c", "c"},
           Case{"{{ `raw\\n` }}", "raw\\n"},
           Case{"{{ \"\\u00e9\\x41\\101\\t\" }}",
                "\xC3\xA9"
                "AA\t"},
           Case{"{{ 'a' }}", "97"},
           Case{"{{ 1e3 }}|{{ 0x10 }}|{{ -0 }}|{{ 1_000 }}|{{ 0b101 }}|{{ 0o17 }}|{{ 017 }}|{{ .5 "
                "}}|"
                "{{ 1. }}|{{ +3 }}",
                "1000|16|0|1000|5|15|15|0.5|1|3"},
           Case{"{{ true }}|{{ false }}", "true|false"},
           Case{"{{ $x := 1 }}{{ $x }}", "1"},
           Case{"{{ print 1 2 \"a\" 3 \"b\" \"c\" 4.5 true }}", "1 2a3bc4.5 true"},
           Case{"{{ println 1 \"a\" }}", "1 a\n"},
           Case{"{{ len \"h\xC3\xA9llo\" }}|{{ \"a\" | toUpper }}|{{ title \"hello wORLD-foo\" }}",
                "6|A|Hello WORLD-Foo"},
           Case{"{{ stripPort \"1.2.3.4:80\" }}|{{ stripPort \"[::1]:80\" }}|{{ stripPort \"host\" "
                "}}",
                "1.2.3.4|::1|host"},
       }) {
    EXPECT_EQ(ExpandAsOracle(c.text), c.want) << c.text;
  }
}

TEST(AlertTemplate, HumanizeFunctionsOnHostileNumbersAsPrometheus) {
  struct Case {
    const char* text;
    const char* want;
  };
  for (const Case& c : {
           Case{"{{ humanizeDuration 1e300 }}", "-106751991167300d -15h -30m -8s"},
           Case{"{{ humanizeDuration -1e300 }}", "--106751991167300d -15h -30m -8s"},
           Case{"{{ humanizeDuration 9.3e18 }}", "-106751991167300d -15h -30m -8s"},
           Case{"{{ humanizeDuration 1e-12 }}", "1ps"},
           Case{"{{ humanizeDuration 1e-310 }}", "1e-286ys"},
           Case{"{{ humanizeDuration -90061.5 }}", "-1d 1h 1m 1s"},
           Case{"{{ humanizeDuration 59.99 }}", "59.99s"},
           Case{"{{ humanizeDuration \"-Inf\" }}", "-Inf"},
           Case{"{{ humanize1024 0.5 }}", "0.5"},
           Case{"{{ humanize1024 -1e30 }}", "-8.272e+05Yi"},
           Case{"{{ humanize 1e300 }}", "1e+276Y"},
           Case{"{{ humanize -1e-300 }}", "-1e-276y"},
           Case{"{{ humanize 1e-310 }}", "1e-286y"},
           Case{"{{ humanize 5e-324 }}", "4.941e-300y"},
           Case{"{{ humanize \"NaN\" }}|{{ humanize \"inf\" }}|{{ humanize \"+Infinity\" }}",
                "NaN|+Inf|+Inf"},
           Case{"{{ humanize \"0x1p4\" }}|{{ humanize \".5\" }}|{{ humanize \"1_000.5\" }}",
                "16|500m|1k"},
           Case{"{{ humanize \"1e3\" }}", "1k"},
           Case{"{{ humanizePercentage -0.5 }}|{{ humanizePercentage 1e308 }}", "-50%|+Inf%"},
           Case{"{{ humanizeTimestamp 1.6e9 }}", "2020-09-13 12:26:40 +0000 UTC"},
           Case{"{{ humanizeTimestamp 1600000000.123 }}", "2020-09-13 12:26:40.122 +0000 UTC"},
           Case{"{{ humanizeTimestamp -1 }}|{{ humanizeTimestamp \"NaN\" }}",
                "1969-12-31 23:59:59 +0000 UTC|NaN"},
       }) {
    EXPECT_EQ(ExpandAsOracle(c.text), c.want) << c.text;
  }
  EXPECT_EQ(ExpandAsOracle(
                "{{ printf \"%v|%05.1f|% f\" $value $value $value }}|{{ humanize $value }}", NAN),
            "NaN|  NaN| NaN|NaN");
}

TEST(AlertTemplate, FunctionErrorsExpandToTheErrorText) {
  for (const char* text :
       {"{{ humanize true }}", "{{ humanize \"0x10\" }}", "{{ humanize \"1e400\" }}",
        "{{ humanizeTimestamp 1e300 }}", "{{ $value | toUpper }}", "{{ humanize \"_1\" }}",
        "{{ 99999999999999999999 }}"}) {
    EXPECT_TRUE(ExpandAsOracle(text).starts_with("<error expanding template: ")) << text;
  }
  EXPECT_NE(
      ExpandAsOracle("{{ humanizeTimestamp 1e300 }}")
          .find("1e+300 cannot be represented as a nanoseconds timestamp since it overflows int64"),
      std::string::npos);
  EXPECT_NE(
      ExpandAsOracle("{{ humanize \"abc\" }}")
          .find("error calling humanize: strconv.ParseFloat: parsing \"abc\": invalid syntax"),
      std::string::npos);
}

TEST(AlertTemplate, CheckRefusesWhatPrometheusRefusesOnLoad) {
  struct Case {
    const char* text;
    const char* error;
  };
  for (const Case& c : {
           Case{"{{ nosuch 1 }}", "template: __alert_A:1: function \"nosuch\" not defined"},
           Case{"x {{ printf \"%s\" ", "template: __alert_A:1: unclosed action"},
           Case{"{{ (1 }}", "template: __alert_A:1: unclosed left paren"},
           Case{"{{ $foo }}", "template: __alert_A:1: undefined variable \"$foo\""},
           Case{"{{ foo\" }}", "template: __alert_A:1: bad character U+0022 '\"'"},
           Case{"{{ \"a\"\"b\" }}", "template: __alert_A:1: unexpected \"\\\"b\\\"\" in operand"},
           Case{"{{ 1 | 2 }}", "template: __alert_A:1: non executable command in pipeline stage 2"},
           Case{"{{ }}", "template: __alert_A:1: missing value for command"},
           Case{"{{ pathEscape \"a\" }}",
                "template: __alert_A:1: function \"pathEscape\" not defined"},
           Case{"{{ 99999999999999999999 }}",
                "template: __alert_A:1: integer overflow: \"99999999999999999999\""},
           Case{"a\nb\n{{ nosuch }}", "template: __alert_A:3: function \"nosuch\" not defined"},
       }) {
    const Status st = CheckAlertTemplate(c.text, "A");
    EXPECT_EQ(st.message(), c.error) << c.text;
  }
  for (const char* ok :
       {"{{ if gt $value 1.0 }}high{{ else }}low{{ end }}",
        "{{ range $i, $l := $labels }}{{ $l }}{{ end }}", "{{ query \"up\" | first | value }}",
        "{{ stripDomain \"a.b\" }}", "{{ template \"x\" . }}", "plain"}) {
    EXPECT_TRUE(CheckAlertTemplate(ok, "A").ok())
        << ok << ": " << CheckAlertTemplate(ok, "A").message();
  }
}

TEST(AlertTemplate, NestingOutputAndEncodingAreBounded) {
  const std::string deep = "{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}";
  EXPECT_NE(ExpandAsOracle(deep).find("exceeded maximum nesting depth"), std::string::npos);
  EXPECT_FALSE(CheckAlertTemplate(deep, "A").ok());
  const std::string ok_depth = "{{ " + std::string(50, '(') + "1" + std::string(50, ')') + " }}";
  EXPECT_EQ(ExpandAsOracle(ok_depth), "1");

  std::string wide;
  for (int i = 0; i < 3; ++i) wide += "{{ printf \"%1000000d\" 1 }}";
  EXPECT_NE(ExpandAsOracle(wide).find("template output exceeds 1048576 bytes"), std::string::npos);

  static const Labels bad{{"x",
                           "a\xff"
                           "b"}};
  EXPECT_EQ(ExpandAlertTemplate("{{ $labels.x }}|{{ printf \"%q\" $labels.x }}",
                                {&bad, nullptr, "", 0, "A"}),
            "a\xEF\xBF\xBD"
            "b|\"a\\xffb\"");
  EXPECT_EQ(ExpandAsOracle("{{ {{ }} }}").substr(0, 27), "<error expanding template: ");
}

TEST(AlertTemplate, ControlActionsAndComparisonsAsPrometheus) {
  EXPECT_EQ(
      ExpandAsOracle(
          "{{ if gt $value 1.0 }}high{{ else }}low{{ end }}|{{ if eq $labels.job \"x\" }}A{{ else "
          "if eq $labels.job \"j\" }}B{{ else }}C{{ end }}|{{ range $k, $v := $labels }}{{ $k "
          "}}={{ "
          "$v }},{{ end }}|{{ range $labels }}{{ . }};{{ end }}|{{ with $labels }}{{ .job }}{{ end "
          "}}|{{ with \"\" }}x{{ else }}empty{{ end }}|{{ range $externalLabels }}x{{ else "
          "}}none{{ "
          "end }}|{{ and 1 0 2 }}|{{ or 0 \"\" \"z\" }}|{{ not \"\" }}|{{ eq 1 2 1 }}|{{ ne \"a\" "
          "\"b\" }}|{{ le 2 2 }}|{{ lt \"a\" \"b\" }}|{{ ge 1.5 $value }}|{{ with $value }}{{ . "
          "}}{{ "
          "end }}|{{ if $labels }}L{{ end }}"),
      "high|B|__name__=up,foo=bar,job=j,utf=h\xC3\xA9llo,|up;bar;j;h\xC3\xA9llo;|j|empty|none|0|z|"
      "true|true|true|true|true|true|1.5|L");
  EXPECT_EQ(ExpandAsOracle("{{ with $x := $labels.job }}{{ $x }}{{ end }}"), "j");
  for (const char* text :
       {"{{ gt $value 1 }}", "{{ lt true false }}", "{{ eq 1 }}", "{{ range 5 }}x{{ end }}"}) {
    EXPECT_TRUE(ExpandAsOracle(text).starts_with("<error expanding template: ")) << text;
  }
  EXPECT_NE(ExpandAsOracle("{{ gt $value 1 }}")
                .find("error calling gt: incompatible types for comparison"),
            std::string::npos);
  EXPECT_EQ(CheckAlertTemplate("{{ if 1 }}{{ end }}{{ end }}", "A").message(),
            "template: __alert_A:1: unexpected {{end}}");
  EXPECT_EQ(CheckAlertTemplate("{{ if 1 }}", "A").message(),
            "template: __alert_A:1: unexpected EOF");
  // Found by rule_template_fuzz: a control action without its condition crashed expansion.
  EXPECT_EQ(CheckAlertTemplate("{{ if }}x{{ end }}", "A").message(),
            "template: __alert_A:1: missing value for if");
  EXPECT_EQ(CheckAlertTemplate("{{ range $i, $l := #labels }}{{ end }}", "A").message(),
            "template: __alert_A:1: unexpected \"#\" in range");
  EXPECT_EQ(CheckAlertTemplate("{{ with $x := }}{{ end }}", "A").message(),
            "template: __alert_A:1: missing value for with");
  EXPECT_TRUE(ExpandAsOracle("{{ if }}x{{ end }}").starts_with("<error expanding template: "));
  std::string deep;
  for (int i = 0; i < 200; ++i) deep += "{{ if 1 }}";
  EXPECT_NE(CheckAlertTemplate(deep, "A").message().find("exceeded maximum nesting depth"),
            std::string::npos);
  std::string chain = "{{ if 0 }}";
  for (int i = 0; i < 100000; ++i) chain += "{{ else if 0 }}";
  EXPECT_EQ(ExpandAsOracle(chain + "{{ else }}last{{ end }}"), "last");
}

TEST(AlertTemplate, UnsupportedConstructsSayTheyFailed) {
  EXPECT_TRUE(Expand("{{ define \"x\" }}y{{ end }}").starts_with("<error expanding template: "));
  EXPECT_TRUE(Expand("{{ template \"x\" . }}").starts_with("<error expanding template: "));
  EXPECT_TRUE(
      Expand("{{ range $labels }}{{ break }}{{ end }}").starts_with("<error expanding template: "));
  EXPECT_TRUE(Expand("{{ $value | nosuchfunc }}").starts_with("<error expanding template: "));
  EXPECT_EQ(Expand("no actions"), "no actions");
}

}  // namespace
}  // namespace vigil::rules
