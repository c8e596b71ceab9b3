// Exposition parsers: text format 0.0.4 and OpenMetrics 1.0, valid and hostile input.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <set>

#include "scraper/exposition_parser.h"
#include "storage/storage.h"

namespace vigil::scraper {
namespace {

struct Parsed {
  std::vector<Labels> labels;
  std::vector<double> values;
  std::vector<std::optional<int64_t>> timestamps;
  std::map<std::string, FamilyMetadata> metadata;
};

Result<Parsed> ParseAll(std::string_view body, ExpositionFormat format) {
  ExpositionParser p(body, format);
  Parsed out;
  while (true) {
    auto more = p.Next();
    if (!more.ok()) return more.status();
    if (!*more) break;
    auto l = p.labels();
    if (!l.ok()) return l.status();
    out.labels.push_back(*l);
    out.values.push_back(p.value());
    out.timestamps.push_back(p.timestamp_ms());
  }
  out.metadata = p.metadata();
  return out;
}

constexpr auto kText = ExpositionFormat::kPrometheusText;
constexpr auto kOm = ExpositionFormat::kOpenMetrics;

TEST(TextParser, ParsesSamplesLabelsTimestampsAndMetadata) {
  auto r = ParseAll(
      "# HELP http_requests_total The total.\\nSecond line \\\\ done\n"
      "# TYPE http_requests_total counter\n"
      "http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n"
      "http_requests_total{method=\"post\",code=\"400\",} 3\n"
      "\n"
      "# a plain comment\n"
      "  msdos_file_access_time_seconds{path=\"C:\\\\DIR\\\\FILE.TXT\",error=\"Cannot find \\\"x\\\"\\n\"} 1.458255915e9\n"
      "metric_without_labels 12.47\n"
      "metric_with_space {a=\"b\"}\t-Inf\n",
      kText);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->labels.size(), 5u);
  EXPECT_EQ(r->labels[0].ToString(), "http_requests_total{code=\"200\", method=\"post\"}");
  EXPECT_EQ(r->timestamps[0], 1395066363000);
  EXPECT_FALSE(r->timestamps[1].has_value());
  EXPECT_EQ(r->labels[2].Get("path"), "C:\\DIR\\FILE.TXT");
  EXPECT_EQ(r->labels[2].Get("error"), "Cannot find \"x\"\n");
  EXPECT_DOUBLE_EQ(r->values[2], 1.458255915e9);
  EXPECT_EQ(r->labels[4].Get("a"), "b");
  EXPECT_TRUE(std::isinf(r->values[4]) && r->values[4] < 0);
  EXPECT_EQ(r->metadata["http_requests_total"].type, "counter");
  EXPECT_EQ(r->metadata["http_requests_total"].help, "The total.\nSecond line \\ done");
}

TEST(TextParser, AcceptsNaNAndInfSpellings) {
  auto r = ParseAll("a NaN\nb +Inf\nc -inf\nd 1e-3\ne -0\n", kText);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(std::isnan(r->values[0]));
  EXPECT_FALSE(vigil::IsStaleNaN(r->values[0]));
  EXPECT_TRUE(std::isinf(r->values[1]));
  EXPECT_DOUBLE_EQ(r->values[3], 0.001);
}

TEST(TextParser, HistogramsAndSummariesAreplainSeries) {
  auto r = ParseAll(
      "# TYPE lat histogram\nlat_bucket{le=\"0.1\"} 1\nlat_bucket{le=\"+Inf\"} 3\nlat_sum 0.4\n"
      "lat_count 3\n# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 2\ns_count 3\n",
      kText);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->labels.size(), 7u);
  EXPECT_EQ(r->labels[1].Get("le"), "+Inf");
  EXPECT_EQ(r->metadata["lat"].type, "histogram");
  EXPECT_EQ(r->metadata["s"].type, "summary");
}

TEST(TextParser, SeriesKeyIsRawText) {
  ExpositionParser p("m{a=\"1\"} 2\n", kText);
  ASSERT_TRUE(*p.Next());
  EXPECT_EQ(p.series(), "m{a=\"1\"}");
}

struct BadCase {
  const char* name;
  const char* body;
  int line;
  const char* problem;
};

class MalformedText : public ::testing::TestWithParam<BadCase> {};

TEST_P(MalformedText, FailsWithLineNumber) {
  auto r = ParseAll(GetParam().body, kText);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("line " + std::to_string(GetParam().line) + ":"),
            std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find(GetParam().problem), std::string::npos)
      << r.status().message();
}

const BadCase kBadText[] = {
    {"MissingValue", "ok 1\nmetric\n", 2, "expected value"},
    {"BadValue", "m abc\n", 1, "invalid value"},
    {"BadTimestamp", "m 1 12.5\n", 1, "invalid timestamp"},
    {"TrailingGarbage", "m 1 2 3\n", 1, "expected timestamp or end of line"},
    {"UnterminatedLabels", "m{a=\"b\" 1\n", 1, "expected comma"},
    {"UnterminatedValue", "m{a=\"b} 1\n", 1, "unterminated label value"},
    {"BadLabelName", "m{1a=\"b\"} 1\n", 1, "expected label name"},
    {"NoEquals", "m{a \"b\"} 1\n", 1, "expected equal"},
    {"UnquotedValue", "m{a=b} 1\n", 1, "expected label value"},
    {"BadType", "# TYPE m gauges\n", 1, "invalid metric type"},
    {"BadMetricName", "1m 1\n", 1, "expected metric name"},
    {"DuplicateLabel", "m{a=\"1\",a=\"2\"} 1\n", 1, "is not unique"},
    {"InvalidUtf8Value", "m{a=\"\xff\xfe\"} 1\n", 1, "invalid UTF-8"},
    {"OverlongUtf8", "m{a=\"\xc0\xaf\"} 1\n", 1, "invalid UTF-8"},
    {"InvalidUtf8Help", "# HELP m bad \xff\n", 1, "not a valid UTF8"},
};

INSTANTIATE_TEST_SUITE_P(Table, MalformedText, ::testing::ValuesIn(kBadText),
                         [](const auto& info) { return std::string(info.param.name); });

// Reads `body` as the scrape loop does: NextSeries() given the previous
// line's series as the guess, and CheckLabels() only for a series text not
// seen (and checked) before in `known`.
Status ParseSkippingKnownLabels(std::string_view body, ExpositionFormat format,
                                std::set<std::string, std::less<>>& known) {
  ExpositionParser p(body, format);
  std::string guess;
  while (true) {
    auto more = p.NextSeries(guess);
    if (!more.ok()) return more.status();
    if (!*more) return Status::OK();
    if (!known.count(p.series())) {
      VIGIL_RETURN_IF_ERROR(p.CheckLabels());
      known.emplace(p.series());
    }
    guess = p.series();
  }
}

TEST_P(MalformedText, FailsWithTheSameErrorWhenLabelsAreCheckedLazily) {
  const auto full = ParseAll(GetParam().body, kText);
  std::set<std::string, std::less<>> known;
  Status lazy = ParseSkippingKnownLabels(GetParam().body, kText, known);
  if (lazy.ok()) {  // a label-set error of exposed_labels(), not of the syntax
    ExpositionParser p(GetParam().body, kText);
    while (lazy.ok() && *p.NextSeries()) lazy = p.exposed_labels().status();
  }
  EXPECT_EQ(lazy.ToString(), full.status().ToString());
}

struct SeriesCase {
  const char* name;
  ExpositionFormat format;
  const char* line;  // one sample line, without "\n"
  const char* series;
  double value;
  std::optional<int64_t> timestamp_ms;
};

class SeriesText : public ::testing::TestWithParam<SeriesCase> {};

// The cheap scan of NextSeries() cuts the same series text, value and
// timestamp as the full parse, and the labels checked later are the same.
TEST_P(SeriesText, NextSeriesCutsWhatNextCuts) {
  const SeriesCase& c = GetParam();
  const std::string body =
      std::string(c.line) + "\n" + (c.format == kOm ? "# EOF\n" : "");
  ExpositionParser full(body, c.format), lazy(body, c.format);
  ASSERT_TRUE(*full.Next());
  auto more = lazy.NextSeries();
  ASSERT_TRUE(more.ok()) << more.status().ToString();
  ASSERT_TRUE(*more);
  EXPECT_EQ(lazy.series(), c.series);
  EXPECT_EQ(full.series(), c.series);
  EXPECT_EQ(lazy.value(), c.value);
  EXPECT_EQ(lazy.timestamp_ms(), c.timestamp_ms);
  EXPECT_EQ(full.timestamp_ms(), c.timestamp_ms);
  ASSERT_TRUE(lazy.CheckLabels().ok());
  EXPECT_EQ(lazy.labels()->ToString(), full.labels()->ToString());
  EXPECT_EQ(ExpositionParser::SeriesLabels(lazy.series())->size(), full.exposed_labels()->size());
}

const SeriesCase kSeriesCases[] = {
    {"BraceAndCommaInValues", kText, "m{a=\"x}y\",b=\"1,2\"} 3", "m{a=\"x}y\",b=\"1,2\"}", 3, {}},
    {"EscapedQuotes", kText, "m{a=\"say \\\"}\\\" ok\"} 4 1000", "m{a=\"say \\\"}\\\" ok\"}", 4,
     1000},
    {"EscapedBackslashBeforeQuote", kText, "m{a=\"b\\\\\"} 7", "m{a=\"b\\\\\"}", 7, {}},
    {"SpacesBeforeBrace", kText, "m \t{a=\"b\"} 5", "m \t{a=\"b\"}", 5, {}},
    {"SpacesInsideBraces", kText, "m{ a = \"b\" , } 5", "m{ a = \"b\" , }", 5, {}},
    {"HashInValue", kText, "m{a=\"#\"} 6", "m{a=\"#\"}", 6, {}},
    {"NoLabels", kText, "m_total 1.5e3 -7", "m_total", 1500, -7},
    {"EmptyBraces", kText, "m{} -Inf", "m{}", -std::numeric_limits<double>::infinity(), {}},
    {"TabBeforeValue", kText, "m{a=\"b\"}\t8", "m{a=\"b\"}", 8, {}},
    {"OmExemplar", kOm, "m_bucket{le=\"0.1\"} 9 # {trace_id=\"x}\"} 1 1.5",
     "m_bucket{le=\"0.1\"}", 9, {}},
    {"OmTimestampAndExemplar", kOm, "m_count{a=\"}\"} 2 1.5 # {t=\"1\"} 1",
     "m_count{a=\"}\"}", 2, 1500},
};

INSTANTIATE_TEST_SUITE_P(Table, SeriesText, ::testing::ValuesIn(kSeriesCases),
                         [](const auto& info) { return std::string(info.param.name); });

// A line that starts with a cached (checked) series text but is malformed
// after it fails the scrape on first sight, with Next()'s error.
TEST(TextParser, MalformedLineWithACachedPrefix_FailsOnFirstSight) {
  const char* const kBodies[] = {
      "m{a=\"b\"} 1\nm{a=\"b\"}x 2\n",         "m{a=\"b\"} 1\nm{a=\"b\"} 2 3 4\n",
      "m{a=\"b\"} 1\nm{a=\"b\"} abc\n",         "m{a=\"b\"} 1\nm{a=\"b\",c} 2\n",
      "m{a=\"b\"} 1\nm{a=\"b\"}\n",             "m 1\nm{a=\"b} 2\n",
      "m{a=\"b\"} 1\nm{a=\"b\"}{c=\"d\"} 2\n", "m 1\nm{a=b} x\n",
      "m 1\nm {a=b} 2\n",                     "m 1\nm\t{a=\"b\",,} 2\n",
      "m{a=\"b\"} 1\nm{a=\"b\"}\t\n",
  };
  for (const char* body : kBodies) {
    const auto full = ParseAll(body, kText);
    ASSERT_FALSE(full.ok()) << body;
    EXPECT_NE(full.status().message().find("line 2:"), std::string::npos) << body;
    std::set<std::string, std::less<>> known;
    EXPECT_EQ(ParseSkippingKnownLabels(body, kText, known).ToString(), full.status().ToString())
        << body;
  }
}

TEST(TextParser, KnownSeries_IsTheSeriesOnlyWhereTheFullParseAgrees) {
  struct Case {
    const char* known;
    const char* line;
    const char* series;
  };
  const Case kCases[] = {
      {"m{a=\"b\"}", "m{a=\"b\"} 1", "m{a=\"b\"}"},
      {"m{a=\"b\"}", "m{a=\"b\",c=\"d\"} 1", "m{a=\"b\",c=\"d\"}"},
      {"m", "m 1", "m"},
      {"m", "m {a=\"b\"} 1", "m {a=\"b\"}"},  // not the name alone
      {"m", "m_total 1", "m_total"},
      {"m{a=\"b\"}", "m{a=\"b\"}\t1", "m{a=\"b\"}"},
  };
  for (const Case& c : kCases) {
    const std::string body = std::string(c.line) + "\n";
    ExpositionParser p(body, kText);
    auto more = p.NextSeries(c.known);
    ASSERT_TRUE(more.ok() && *more) << c.line;
    EXPECT_EQ(p.series(), c.series) << c.line;
    EXPECT_EQ(p.value(), 1) << c.line;
    ASSERT_TRUE(p.exposed_labels().ok()) << c.line;
    ExpositionParser full(body, kText);
    ASSERT_TRUE(*full.Next());
    EXPECT_EQ(p.labels()->ToString(), full.labels()->ToString()) << c.line;
  }
}

TEST(TextParser, NextSeries_LeavesMalformedLabelsToCheckLabels) {
  ExpositionParser p("m{a=b} 1\n", kText);
  auto more = p.NextSeries();
  ASSERT_TRUE(more.ok() && *more);
  EXPECT_EQ(p.series(), "m{a=b}");
  EXPECT_EQ(p.CheckLabels().ToString(), ParseAll("m{a=b} 1\n", kText).status().ToString());
  EXPECT_FALSE(p.exposed_labels().ok());
}

// Plain decimals take a quicker path than other spellings; every value must
// still be the double strtod gives, bit for bit.
TEST(TextParser, DecimalValues_AreExactlyWhatStrtodGives) {
  std::vector<std::string> values = {"0", "-0", "1027", "0.1", "0.3", "1.458255915", "+7.25",
                                     "9007199254740992", "9007199254740993", "123456789.123456789",
                                     "0.0000000000000000000001", "0.00000000000000000000001",
                                     "1e3", "00012.500", "4503599627370497.5", ".5"};
  uint64_t x = 88172645463325252u;  // xorshift: a fixed spread of mantissas and scales
  for (int i = 0; i < 2000; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    std::string digits = std::to_string(x >> (x % 50));
    const size_t point = x % (digits.size() + 1);
    if (point > 0 && point < digits.size()) digits.insert(digits.size() - point, ".");
    values.push_back((i % 3 == 0 ? "-" : "") + digits);
  }
  for (const std::string& v : values) {
    const std::string body = "m " + v + "\n";
    ExpositionParser p(body, kText);
    auto more = p.NextSeries();
    ASSERT_TRUE(more.ok() && *more) << v << " " << more.status().ToString();
    const double want = std::strtod(v.c_str(), nullptr);
    const double got = p.value();
    EXPECT_EQ(std::memcmp(&want, &got, sizeof want), 0) << v << " " << got;
  }
}

TEST(TextParser, HugeLine_ParsesWithoutCrashing) {
  const std::string value(4 << 20, 'x');
  auto r = ParseAll("m{a=\"" + value + "\"} 1\n", kText);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->labels[0].Get("a").size(), value.size());
  auto bad = ParseAll(std::string(4 << 20, '{'), kText);
  EXPECT_FALSE(bad.ok());
}

TEST(TextParser, HugeLabelCount_IsAnError) {
  std::string many = "m{";
  for (int i = 0; i < 10000; ++i) many += "l" + std::to_string(i) + "=\"\",";
  auto ok = ParseAll(many + "} 1\n", kText);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  auto r = ParseAll(many + "x=\"\"} 1\n", kText);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("line 1: too many labels in one series (more than 10000)"),
            std::string::npos) << r.status().message();
}

TEST(TextParser, DuplicateSeries_AreBothReported) {
  // Deduplication is the scrape loop's job; the parser reports what it read.
  auto r = ParseAll("m 1\nm 2\n", kText);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->labels.size(), 2u);
}

TEST(OpenMetricsParser, ParsesUnitsExemplarsAndSecondTimestamps) {
  auto r = ParseAll(
      "# TYPE req counter\n# UNIT req seconds\n# HELP req Requests.\n"
      "req_total{path=\"/\"} 10 1520879607.789 # {trace_id=\"abc\"} 1 1520879607.7\n"
      "req_created 1520879607.0\n"
      "# TYPE h histogram\nh_bucket{le=\"1\"} 2 # {id=\"x\"} 0.5\nh_bucket{le=\"+Inf\"} 3\n"
      "# EOF\n",
      kOm);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->labels.size(), 4u);
  EXPECT_EQ(r->timestamps[0], 1520879607789);
  EXPECT_EQ(r->values[2], 2);
  EXPECT_EQ(r->metadata["req"].unit, "seconds");
  EXPECT_EQ(r->metadata["req"].help, "Requests.");
}

TEST(OpenMetricsParser, TimestampBeyondInt64Milliseconds_IsTheMinimumInt64AsInPrometheus) {
  auto r = ParseAll("a 1 1e300\nb 1 -1e300\nc 1 9223372036854775.807\n# EOF\n", kOm);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->timestamps.size(), 3u);
  EXPECT_EQ(r->timestamps[0], std::numeric_limits<int64_t>::min());
  EXPECT_EQ(r->timestamps[1], std::numeric_limits<int64_t>::min());
  EXPECT_EQ(r->timestamps[2], std::numeric_limits<int64_t>::min());  // rounds to 2^63 ms
}

TEST(OpenMetricsParser, RequiresEof) {
  auto r = ParseAll("m 1\n", kOm);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("# EOF"), std::string::npos);
}

TEST(OpenMetricsParser, RejectsDataAfterEof) {
  auto r = ParseAll("m 1\n# EOF\nn 2\n", kOm);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("line 3: unexpected data after # EOF"), std::string::npos);
}

TEST(OpenMetricsParser, RejectsBlankLinesAndUnknownComments) {
  EXPECT_FALSE(ParseAll("m 1\n\n# EOF\n", kOm).ok());
  EXPECT_FALSE(ParseAll("# random comment\n# EOF\n", kOm).ok());
  EXPECT_FALSE(ParseAll("# TYPE m untyped\n# EOF\n", kOm).ok());
}

// Regression ("Hostile input" issue, kept in the fuzz seeds): 1e300 seconds was cast to int64
// milliseconds, which is undefined behaviour (UBSan: "outside the range of
// representable values"). Such a timestamp is now a line error.
TEST(OpenMetricsParser, NonFiniteTimestamp_IsAnErrorAndEdgeOfInt64IsKept) {
  for (const char* ts : {"NaN", "+Inf", "-Inf"}) {
    auto r = ParseAll(std::string("m 1 ") + ts + "\n# EOF\n", kOm);
    ASSERT_FALSE(r.ok()) << ts;
    EXPECT_NE(r.status().message().find("line 1: invalid timestamp"), std::string::npos)
        << r.status().message();
  }
  auto edge = ParseAll("m 1 9223372036854000\nn 1 -9223372036854000.5\n# EOF\n", kOm);
  ASSERT_TRUE(edge.ok()) << edge.status().ToString();
  EXPECT_GT(*edge->timestamps[0], int64_t{9223372036853000000});
  EXPECT_LT(*edge->timestamps[1], int64_t{-9223372036853000000});
}

TEST(ExpositionFormat, ChosenFromContentType) {
  EXPECT_EQ(FormatFromContentType("application/openmetrics-text; version=1.0.0; charset=utf-8"),
            kOm);
  EXPECT_EQ(FormatFromContentType("text/plain; version=0.0.4"), kText);
  EXPECT_EQ(FormatFromContentType(""), kText);
}

}  // namespace
}  // namespace vigil::scraper
