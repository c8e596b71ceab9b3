#include "scraper/exposition_parser.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>

#include "base/utf8.h"

namespace vigil::scraper {
namespace {

constexpr size_t kMaxQuoted = 50;  // bytes of offending input quoted in an error
// Labels in one series. Real exporters stay far below; the cap stops one
// hostile line (`m{a="",a="",...}`) from costing ~20 bytes of label
// structures per byte of body.
constexpr size_t kMaxLabels = 10000;

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

bool IsNameStart(char c, bool metric) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (metric && c == ':');
}

bool IsNameChar(char c, bool metric) { return IsNameStart(c, metric) || (c >= '0' && c <= '9'); }

void SkipBlanks(std::string_view& s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
}

// Cuts a metric (or label) name from the front of `s`; empty when there is none.
std::string_view CutName(std::string_view& s, bool metric) {
  if (s.empty() || !IsNameStart(s[0], metric)) return {};
  size_t i = 1;
  while (i < s.size() && IsNameChar(s[i], metric)) ++i;
  const std::string_view name = s.substr(0, i);
  s.remove_prefix(i);
  return name;
}

std::string_view CutToken(std::string_view& s) {
  size_t i = 0;
  while (i < s.size() && !IsBlank(s[i])) ++i;
  const std::string_view tok = s.substr(0, i);
  s.remove_prefix(i);
  return tok;
}

std::string Quoted(std::string_view s) {
  if (s.size() > kMaxQuoted) return "\"" + std::string(s.substr(0, kMaxQuoted)) + "...\"";
  return "\"" + std::string(s) + "\"";
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != b[i]) return false;
  }
  return true;
}

// The value of `s` when it is plain decimal digits, with or without a
// fraction ("1027", "0.25"), small enough to be exact the quick way: a
// mantissa up to 2^53 and up to 22 fraction digits, so that mantissa and
// 10^digits are exact doubles and their quotient, one correctly rounded
// division, is the double from_chars returns. Nullopt for every other form.
std::optional<double> ParsePlainDecimal(std::string_view s) {
  static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                      1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  constexpr uint64_t kMaxExact = uint64_t{1} << 53;
  uint64_t mantissa = 0;
  size_t dot = std::string_view::npos;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '.' && dot == std::string_view::npos) {
      dot = i;
      continue;
    }
    if (c < '0' || c > '9') return std::nullopt;
    mantissa = mantissa * 10 + static_cast<uint64_t>(c - '0');
    if (mantissa > kMaxExact) return std::nullopt;
  }
  if (dot == std::string_view::npos) {
    return s.empty() ? std::nullopt : std::optional<double>(static_cast<double>(mantissa));
  }
  const size_t fraction = s.size() - dot - 1;
  if (dot == 0 || fraction == 0 || fraction > 22) return std::nullopt;
  return static_cast<double>(mantissa) / kPow10[fraction];
}

// Go's strconv.ParseFloat for the forms exporters write.
std::optional<double> ParseFloat(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (const auto plain = ParsePlainDecimal(s)) return negative ? -*plain : *plain;
  double v = 0;
  if (EqualsIgnoreCase(s, "inf") || EqualsIgnoreCase(s, "infinity")) {
    v = std::numeric_limits<double>::infinity();
  } else if (EqualsIgnoreCase(s, "nan")) {
    v = std::numeric_limits<double>::quiet_NaN();
  } else {
    if (s.empty() || !(std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '.')) {
      return std::nullopt;
    }
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (p != s.data() + s.size()) return std::nullopt;
    if (ec == std::errc::result_out_of_range) {
      v = std::numeric_limits<double>::infinity();  // Go returns ±Inf with an error; accept
    } else if (ec != std::errc()) {
      return std::nullopt;
    }
  }
  return negative ? -v : v;
}

// An OpenMetrics timestamp (float seconds) as int64 milliseconds; nullopt for
// NaN and ±Inf ("invalid timestamp", as Prometheus). Outside int64 the C++
// cast is undefined; Go's int64() (Prometheus on amd64) yields the minimum
// int64 there, so such a sample is refused as out of bounds instead of
// failing the scrape.
std::optional<int64_t> SecondsToMillis(std::optional<double> seconds) {
  if (!seconds || !std::isfinite(*seconds)) return std::nullopt;
  const double ms = *seconds * 1000;
  constexpr double kLimit = 9223372036854775808.0;  // 2^63, exact as a double
  if (!(ms >= -kLimit && ms < kLimit)) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(ms);
}

std::optional<int64_t> ParseInt(std::string_view s) {
  int64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// The offset of the '}' closing the label set whose '{' is before `i`: the
// first '}' outside a quoted value, a backslash escaping the byte after it
// inside one. npos when there is none.
size_t FindLabelsEnd(std::string_view s, size_t i) {
  while (i < s.size()) {
    const char c = s[i];
    if (c == '}') return i;
    if (c == '"') {
      ++i;
      while (i < s.size() && s[i] != '"') i += s[i] == '\\' ? 2 : 1;
      if (i >= s.size()) return std::string_view::npos;
    }
    ++i;
  }
  return std::string_view::npos;
}

// Resolves \\, \" and \n; other escapes keep the escaped character, as Prometheus.
std::string Unescape(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\\' || i + 1 == raw.size()) {
      out += raw[i];
      continue;
    }
    const char next = raw[++i];
    if (next == 'n') {
      out += '\n';
    } else if (next == '\\' || next == '"') {
      out += next;
    } else {
      out += '\\';
      out += next;
    }
  }
  return out;
}

}  // namespace

ExpositionFormat FormatFromContentType(std::string_view content_type) {
  const size_t semi = content_type.find(';');
  std::string_view media = content_type.substr(0, semi);
  while (!media.empty() && IsBlank(media.back())) media.remove_suffix(1);
  return media == "application/openmetrics-text" ? ExpositionFormat::kOpenMetrics
                                                 : ExpositionFormat::kPrometheusText;
}

ExpositionParser::ExpositionParser(std::string_view body, ExpositionFormat format)
    : body_(body), format_(format) {}

Status ExpositionParser::Error(std::string problem) const {
  return Status::InvalidArgument("line " + std::to_string(line_no_) + ": " + problem);
}

Result<bool> ExpositionParser::Next() {
  check_labels_ = true;
  known_ = {};
  return Advance();
}

Result<bool> ExpositionParser::NextSeries(std::string_view known) {
  check_labels_ = false;
  known_ = known;
  return Advance();
}

Result<bool> ExpositionParser::Advance() {
  while (pos_ < body_.size()) {
    const size_t nl = body_.find('\n', pos_);
    const size_t end = nl == std::string_view::npos ? body_.size() : nl;
    std::string_view line = body_.substr(pos_, end - pos_);
    pos_ = nl == std::string_view::npos ? body_.size() : nl + 1;
    ++line_no_;
    if (saw_eof_) return Error("unexpected data after # EOF");
    auto held = ParseLine(line);
    if (!held.ok() || *held) return held;
  }
  if (format_ == ExpositionFormat::kOpenMetrics && !saw_eof_) {
    return Error("data does not end with # EOF");
  }
  return false;
}

Result<bool> ExpositionParser::ParseLine(std::string_view line) {
  const bool om = format_ == ExpositionFormat::kOpenMetrics;
  if (!om && !line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (!om) SkipBlanks(line);
  if (line.empty()) {
    if (om) return Error("unexpected empty line");
    return false;
  }
  if (line[0] == '#') {
    VIGIL_RETURN_IF_ERROR(ParseComment(line));
    return false;
  }
  VIGIL_RETURN_IF_ERROR(ParseSample(line));
  return true;
}

Status ExpositionParser::ParseComment(std::string_view line) {
  const bool om = format_ == ExpositionFormat::kOpenMetrics;
  std::string_view rest = line.substr(1);
  if (om && rest == " EOF") {
    saw_eof_ = true;
    return Status::OK();
  }
  SkipBlanks(rest);
  const std::string_view kind = CutToken(rest);
  if (kind != "HELP" && kind != "TYPE" && (kind != "UNIT" || !om)) {
    if (om) return Error("invalid comment line " + Quoted(line));
    return Status::OK();  // a plain comment
  }
  SkipBlanks(rest);
  const std::string_view name = CutName(rest, true);
  if (name.empty()) return Error("expected metric name after " + std::string(kind));
  if (!rest.empty() && !IsBlank(rest[0])) return Error("invalid metric name in " + std::string(kind));
  if (!rest.empty()) rest.remove_prefix(1);
  if (kind != "HELP") {
    SkipBlanks(rest);
    while (!rest.empty() && IsBlank(rest.back())) rest.remove_suffix(1);
  }
  return SetMetadata(kind, name, rest);
}

Status ExpositionParser::SetMetadata(std::string_view kind, std::string_view name,
                                     std::string_view text) {
  FamilyMetadata& md = metadata_[std::string(name)];
  if (kind == "HELP") {
    if (!IsValidUtf8(text)) return Error("help text is not a valid UTF8 string");
    md.help = Unescape(text);
    return Status::OK();
  }
  if (kind == "UNIT") {
    md.unit = std::string(text);
    return Status::OK();
  }
  static const std::set<std::string_view> kTextTypes = {"counter", "gauge", "histogram",
                                                        "summary", "untyped"};
  static const std::set<std::string_view> kOmTypes = {"counter", "gauge", "histogram",
                                                      "gaugehistogram", "summary", "info",
                                                      "stateset", "unknown"};
  const auto& types = format_ == ExpositionFormat::kOpenMetrics ? kOmTypes : kTextTypes;
  if (!types.count(text)) return Error("invalid metric type " + Quoted(text));
  md.type = text == "untyped" ? "unknown" : std::string(text);
  return Status::OK();
}

Status ExpositionParser::ParseSample(std::string_view line) {
  line_ = line;
  std::string_view rest = line;
  if (!check_labels_) {
    labels_checked_ = false;
    if ((CutKnownSeries(rest) || ScanSeries(rest)) && !rest.empty() && IsBlank(rest[0]) &&
        ParseValueAndTimestamp(rest).ok()) {
      return Status::OK();
    }
    rest = line;
  }
  // Next(), or a malformed line parsed again in full, so that the error names
  // its first problem in the order Next() checks them (labels first).
  VIGIL_RETURN_IF_ERROR(ParseSeries(rest));
  if (rest.empty() || !IsBlank(rest[0])) {
    return Error("expected value after metric, got " + Quoted(rest));
  }
  return ParseValueAndTimestamp(rest);
}

Status ExpositionParser::ParseSeries(std::string_view& rest) {
  const std::string_view line = rest;
  const std::string_view name = CutName(rest, true);
  if (name.empty()) return Error("expected metric name, got " + Quoted(line));
  label_spans_.clear();
  labels_checked_ = false;
  size_t series_len = name.size();
  std::string_view after_name = rest;
  SkipBlanks(after_name);
  if (!after_name.empty() && after_name[0] == '{') {
    rest = after_name;
    VIGIL_RETURN_IF_ERROR(ParseLabels(rest));
    series_len = static_cast<size_t>(rest.data() - line.data());
  }
  labels_checked_ = true;
  series_ = line.substr(0, series_len);
  return Status::OK();
}

bool ExpositionParser::CutKnownSeries(std::string_view& rest) {
  const std::string_view line = rest;
  const std::string_view k = known_;
  if (k.empty() || line.size() <= k.size() || !IsBlank(line[k.size()]) ||
      line.compare(0, k.size(), k) != 0) {
    return false;
  }
  if (k.back() != '}') {
    // A name alone: followed by blanks and a '{', the line's series is longer.
    size_t i = k.size();
    while (i < line.size() && IsBlank(line[i])) ++i;
    if (i < line.size() && line[i] == '{') return false;
  }
  series_ = k;  // the same bytes; ScrapeCache::Find then needs no compare
  rest = line.substr(k.size());
  return true;
}

bool ExpositionParser::ScanSeries(std::string_view& rest) {
  const std::string_view line = rest;
  const std::string_view name = CutName(rest, true);
  if (name.empty()) return false;
  size_t end = name.size();
  while (end < line.size() && IsBlank(line[end])) ++end;
  if (end < line.size() && line[end] == '{') {
    end = FindLabelsEnd(line, end + 1);
    if (end == std::string_view::npos) return false;
    ++end;  // the '}'
  } else {
    end = name.size();
  }
  series_ = line.substr(0, end);
  rest = line.substr(end);
  return true;
}

Status ExpositionParser::CheckLabels() const {
  if (labels_checked_) return Status::OK();
  label_spans_.clear();
  // The label set starts at the series' first '{' (none in a metric name).
  // Parsed on the whole line as ParseSeries does, so with the same error.
  const size_t at = series_.find('{');
  if (at != std::string_view::npos) {
    std::string_view rest = line_.substr(at);
    VIGIL_RETURN_IF_ERROR(ParseLabels(rest));
    if (static_cast<size_t>(rest.data() - line_.data()) != series_.size()) {
      return Status::Internal("line " + std::to_string(line_no_) +
                              ": the label set does not end where the series text does");
    }
  }
  labels_checked_ = true;
  return Status::OK();
}

Result<std::vector<Label>> ExpositionParser::SeriesLabels(std::string_view series) {
  ExpositionParser parser(series, ExpositionFormat::kPrometheusText);
  parser.line_no_ = 1;
  std::string_view rest = series;
  VIGIL_RETURN_IF_ERROR(parser.ParseSeries(rest));
  if (!rest.empty()) return parser.Error("unexpected text after the series: " + Quoted(rest));
  return parser.exposed_labels();
}

Status ExpositionParser::ParseLabels(std::string_view& rest) const {
  rest.remove_prefix(1);  // '{'
  while (true) {
    SkipBlanks(rest);
    if (!rest.empty() && rest[0] == '}') break;
    const std::string_view name = CutName(rest, false);
    if (name.empty()) return Error("expected label name, got " + Quoted(rest));
    SkipBlanks(rest);
    if (rest.empty() || rest[0] != '=') return Error("expected equal, got " + Quoted(rest));
    rest.remove_prefix(1);
    SkipBlanks(rest);
    if (rest.empty() || rest[0] != '"') return Error("expected label value, got " + Quoted(rest));
    size_t i = 1;
    while (i < rest.size() && rest[i] != '"') i += rest[i] == '\\' ? 2 : 1;
    if (i >= rest.size()) return Error("unterminated label value");
    if (label_spans_.size() == kMaxLabels) {
      return Error("too many labels in one series (more than " + std::to_string(kMaxLabels) + ")");
    }
    label_spans_.push_back({name, rest.substr(1, i - 1)});
    rest.remove_prefix(i + 1);
    SkipBlanks(rest);
    if (!rest.empty() && rest[0] == ',') {
      rest.remove_prefix(1);
      continue;
    }
    if (rest.empty() || rest[0] != '}') return Error("expected comma or '}', got " + Quoted(rest));
    break;
  }
  rest.remove_prefix(1);  // '}'
  return Status::OK();
}

Status ExpositionParser::ParseValueAndTimestamp(std::string_view rest) {
  const bool om = format_ == ExpositionFormat::kOpenMetrics;
  SkipBlanks(rest);
  const std::string_view value_tok = CutToken(rest);
  const auto value = ParseFloat(value_tok);
  if (!value) return Error("invalid value " + Quoted(value_tok));
  value_ = *value;
  timestamp_ms_.reset();
  SkipBlanks(rest);
  if (rest.empty()) return Status::OK();
  if (om && rest[0] == '#') return Status::OK();  // an exemplar: skipped
  const std::string_view ts_tok = CutToken(rest);
  if (om) {
    const auto ms = SecondsToMillis(ParseFloat(ts_tok));
    if (!ms) return Error("invalid timestamp " + Quoted(ts_tok));
    timestamp_ms_ = *ms;
  } else {
    const auto ts = ParseInt(ts_tok);
    if (!ts) return Error("invalid timestamp " + Quoted(ts_tok));
    timestamp_ms_ = *ts;
  }
  SkipBlanks(rest);
  if (rest.empty() || (om && rest[0] == '#')) return Status::OK();
  return Error("expected timestamp or end of line, got " + Quoted(rest));
}

Result<std::vector<Label>> ExpositionParser::exposed_labels() const {
  VIGIL_RETURN_IF_ERROR(CheckLabels());
  std::vector<Label> out;
  out.reserve(label_spans_.size() + 1);
  std::string_view series = series_;
  out.push_back({std::string(kMetricNameLabel), std::string(CutName(series, true))});
  for (const LabelSpan& span : label_spans_) {
    if (!IsValidUtf8(span.value)) {
      return Error("invalid UTF-8 label value for " + Quoted(span.name));
    }
    out.push_back({std::string(span.name), Unescape(span.value)});
  }
  std::sort(out.begin(), out.end(), [](const Label& a, const Label& b) { return a.name < b.name; });
  for (size_t i = 1; i < out.size(); ++i) {
    if (out[i].name == out[i - 1].name) {
      return Error("label name " + Quoted(out[i].name) + " is not unique: invalid sample");
    }
  }
  return out;
}

Result<Labels> ExpositionParser::labels() const {
  auto exposed = exposed_labels();
  if (!exposed.ok()) return exposed.status();
  return Labels(std::move(*exposed));
}

}  // namespace vigil::scraper
