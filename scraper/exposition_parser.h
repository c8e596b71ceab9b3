// ExpositionParser: a pull parser for the Prometheus text format 0.0.4 and
// OpenMetrics 1.0 over a scraped body. It never copies the body: a sample
// exposes its raw series text (the scrape cache key) and builds Labels only
// when asked. Errors carry the line number; hostile input (huge lines,
// invalid UTF-8, garbage) yields an error, never a crash.
//
// A sample line is read in two steps: NextSeries() finds the series text (the
// metric name and the braces up to the first '}' outside a quoted value) and
// parses the value and timestamp; CheckLabels() parses the label syntax. Next()
// does both. A caller that already holds a series text that passed
// CheckLabels (the scrape cache) may skip it for a byte-identical text: the
// check reads nothing past the series text, so it would pass again. For the
// same reason a line that starts with such a text and a blank has that text
// as its series, which NextSeries(known) uses to skip even the scan.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/labels.h"
#include "base/status.h"

namespace vigil::scraper {

enum class ExpositionFormat { kPrometheusText, kOpenMetrics };

// Picks the parser for a response Content-Type, as Prometheus 2.42 does:
// OpenMetrics for application/openmetrics-text, the text format otherwise.
ExpositionFormat FormatFromContentType(std::string_view content_type);

// What the # TYPE / # HELP / # UNIT lines said about one metric family.
struct FamilyMetadata {
  std::string type = "unknown";
  std::string help;
  std::string unit;
};

class ExpositionParser {
 public:
  ExpositionParser(std::string_view body, ExpositionFormat format);

  // Advances to the next sample. Returns true when one is available, false at
  // the end of a valid body, or the first syntax error ("line 3: ...").
  Result<bool> Next();
  // Next() without CheckLabels(): a line whose labels are malformed may yield
  // a sample here, and fails at CheckLabels() with the error Next() gives.
  // `known`, when not empty, must be a series text that passed CheckLabels()
  // (e.g. the scrape cache's guess for the line): a line starting with it and
  // a blank has it as its series without a scan.
  Result<bool> NextSeries(std::string_view known = {});
  // The label syntax of the current sample (after NextSeries()): the error
  // Next() would have returned for its line, or OK. exposed_labels() and
  // labels() check it first.
  Status CheckLabels() const;

  // The current sample's series exactly as written ("name{a=\"b\"}"). Valid
  // until the next call, and while NextSeries()'s `known` lives: when the
  // line's series is `known`, this is `known` itself.
  std::string_view series() const { return series_; }
  double value() const { return value_; }
  // The sample's own timestamp in milliseconds, when it has one.
  std::optional<int64_t> timestamp_ms() const { return timestamp_ms_; }
  // The current sample's labels including __name__, sorted by name, as the
  // target exposed them: labels with empty values are kept, since an exposed
  // empty value still counts under honor_labels (it removes the target's
  // label). Fails on invalid label names, invalid UTF-8 values and repeated
  // label names.
  Result<std::vector<Label>> exposed_labels() const;
  // exposed_labels() as a label set (empty values dropped).
  Result<Labels> labels() const;
  // Line number (1-based) of the current sample.
  int line() const { return line_no_; }

  // The exposed labels of a series text as series() returned it, for callers
  // that kept only the text (the scrape cache) and need its labels again.
  static Result<std::vector<Label>> SeriesLabels(std::string_view series);

  // Metadata seen so far, keyed by metric family name.
  const std::map<std::string, FamilyMetadata>& metadata() const { return metadata_; }
  // metadata(), moved out (the parser has none left).
  std::map<std::string, FamilyMetadata> TakeMetadata() { return std::move(metadata_); }

 private:
  struct LabelSpan {
    std::string_view name;
    std::string_view value;  // raw, escapes not yet resolved
  };

  Status Error(std::string problem) const;
  Result<bool> Advance();  // Next() and NextSeries() as check_labels_ says
  Result<bool> ParseLine(std::string_view line);  // true when it held a sample
  Status ParseComment(std::string_view line);
  Status ParseSample(std::string_view line);
  // Cuts the metric name and label set from the front of `rest` (a sample
  // line), checking the labels, and sets series_ to what was cut.
  Status ParseSeries(std::string_view& rest);
  // ParseSeries without the label check: false when the line has no series
  // text (no name, or a '{' without its '}'), the error left to ParseSeries.
  bool ScanSeries(std::string_view& rest);
  // Cuts known_ from the front of `rest` when the line's series is known_;
  // false when it is not (or may not be).
  bool CutKnownSeries(std::string_view& rest);
  // Parses the label set at the front of `rest` ('{' first) into label_spans_.
  Status ParseLabels(std::string_view& rest) const;
  Status ParseValueAndTimestamp(std::string_view rest);
  Status SetMetadata(std::string_view kind, std::string_view name, std::string_view text);

  std::string_view body_;
  ExpositionFormat format_;
  size_t pos_ = 0;
  int line_no_ = 0;
  bool saw_eof_ = false;

  bool check_labels_ = true;  // Next() rather than NextSeries()
  std::string_view known_;    // NextSeries()'s known series text
  std::string_view line_;     // the current sample's line
  std::string_view series_;   // a prefix of line_, or known_
  // Filled by CheckLabels() on demand, hence mutable.
  mutable bool labels_checked_ = false;
  mutable std::vector<LabelSpan> label_spans_;
  double value_ = 0;
  std::optional<int64_t> timestamp_ms_;
  std::map<std::string, FamilyMetadata> metadata_;
};

}  // namespace vigil::scraper
