#include "tests/promql/script_runner.h"

#include <re2/re2.h>

#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

#include "base/duration.h"
#include "tests/support/memory_storage.h"
#include "base/metrics_registry.h"

namespace vigil::promql::testing {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> SplitFields(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    const size_t start = i;
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

std::optional<double> ParseNumber(std::string_view text) {
  std::string s(text);
  if (s == "stale") return vigil::StaleNaN();
  if (s == "Inf" || s == "+Inf" || s == "inf") return INFINITY;
  if (s == "-Inf" || s == "-inf") return -INFINITY;
  if (s == "NaN" || s == "nan") return NAN;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size()) return std::nullopt;
  return v;
}

// `at 50m`, `at 1h5s` or plain seconds.
std::optional<int64_t> ParseTime(std::string_view text) {
  if (auto d = ParseDuration(text); d.ok()) return *d;
  if (auto n = ParseNumber(text); n && std::isfinite(*n)) return static_cast<int64_t>(*n * 1000);
  return std::nullopt;
}

// Splits `a+b` / `a-b` at the operator that is not an exponent sign.
bool SplitIncrement(std::string_view s, std::string_view* a, std::string_view* b, int* sign) {
  for (size_t i = 1; i < s.size(); ++i) {
    if ((s[i] == '+' || s[i] == '-') && s[i - 1] != 'e' && s[i - 1] != 'E') {
      *a = s.substr(0, i);
      *b = s.substr(i + 1);
      *sign = s[i] == '-' ? -1 : 1;
      return true;
    }
  }
  return false;
}

Status ExpandOne(std::string_view tok, std::vector<SeriesValue>* out) {
  const size_t x = tok.rfind('x');
  if (x == std::string_view::npos || tok.starts_with("0x")) {
    if (tok == "_") {
      out->push_back({true, 0});
      return Status::OK();
    }
    auto v = ParseNumber(tok);
    if (!v) return Status::InvalidArgument("bad series value \"" + std::string(tok) + "\"");
    out->push_back({false, *v});
    return Status::OK();
  }
  const std::string_view head = tok.substr(0, x);
  auto times = ParseNumber(tok.substr(x + 1));
  if (!times || *times < 0) return Status::InvalidArgument("bad repetition in \"" + std::string(tok) + "\"");
  const int n = static_cast<int>(*times);
  if (head == "_") {
    for (int i = 0; i < n; ++i) out->push_back({true, 0});
    return Status::OK();
  }
  std::string_view a = head, b = "0";
  int sign = 1;
  SplitIncrement(head, &a, &b, &sign);
  auto start = ParseNumber(a);
  auto step = ParseNumber(b);
  if (!start || !step) return Status::InvalidArgument("bad series value \"" + std::string(tok) + "\"");
  for (int i = 0; i <= n; ++i) out->push_back({false, *start + sign * i * *step});
  return Status::OK();
}

// One `eval` command with its expectations.
struct EvalCommand {
  int line = 0;
  bool fail = false;
  bool ordered = false;
  bool range = false;
  int64_t at = 0, start = 0, end = 0, step = 0;
  std::string expr;
  std::vector<std::pair<int, std::string>> expected;  // line number, text
  std::optional<std::string> fail_message;
  std::optional<std::string> fail_regexp;
};

std::string Describe(const Labels& l, double v) { return l.ToString() + " " + FormatFloat(v); }

class ScriptRun {
 public:
  ScriptRun(std::string name, const ScriptOptions& options)
      : name_(std::move(name)), options_(options) {
    Clear();
  }

  void Run(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    size_t i = 0;
    while (i < lines.size()) {
      const std::string_view line = Trim(lines[i]);
      const int lineno = static_cast<int>(i) + 1;
      ++i;
      if (line.empty() || line.front() == '#') {
        out_.push_back(lines[i - 1]);
        continue;
      }
      out_.push_back(lines[i - 1]);
      const size_t body_start = i;
      std::vector<std::string> body;
      std::vector<int> body_lines;
      while (i < lines.size() && !lines[i].empty() && std::isspace(static_cast<unsigned char>(lines[i][0])) &&
             !Trim(lines[i]).empty()) {
        if (Trim(lines[i]).front() != '#') {
          body.emplace_back(Trim(lines[i]));
          body_lines.push_back(static_cast<int>(i) + 1);
        }
        ++i;
      }
      generated_.reset();
      Dispatch(lineno, line, body, body_lines);
      if (generated_) {
        for (const auto& g : *generated_) out_.push_back("  " + g);
      } else {
        for (size_t k = body_start; k < i; ++k) out_.push_back(lines[k]);
      }
    }
  }

  std::string UpdatedText() const {
    std::string text;
    for (const auto& l : out_) text += l + "\n";
    return text;
  }

  std::vector<std::string> failures;

 private:
  void Fail(int line, const std::string& msg) {
    failures.push_back(name_ + ":" + std::to_string(line) + ": " + msg);
  }

  void Clear() {
    if (options_.observer != nullptr) options_.observer->OnClear();
    storage_ = std::make_unique<storage::MemoryStorage>();
    EngineOptions opts;
    engine_ = std::make_unique<Engine>(opts);
  }

  void Dispatch(int lineno, std::string_view line, const std::vector<std::string>& body,
                const std::vector<int>& body_lines) {
    const auto fields = SplitFields(line);
    const std::string_view cmd = fields[0];
    if (cmd == "clear") return Clear();
    if (cmd == "load") return Load(lineno, fields, body, body_lines);
    if (cmd == "eval" || cmd == "eval_fail" || cmd == "eval_ordered") {
      return Eval(lineno, line, cmd, body, body_lines);
    }
    Fail(lineno, "unknown command \"" + std::string(cmd) + "\"");
  }

  void Load(int lineno, const std::vector<std::string_view>& fields,
            const std::vector<std::string>& body, const std::vector<int>& body_lines) {
    auto interval = fields.size() == 2 ? ParseDuration(fields[1]) : Result<int64_t>(Status::InvalidArgument(""));
    if (!interval.ok()) return Fail(lineno, "load needs an interval");
    for (size_t k = 0; k < body.size(); ++k) {
      Labels labels;
      std::string values_text;
      Status s = ParseSeriesLine(body[k], &labels, &values_text);
      if (!s.ok()) return Fail(body_lines[k], s.message());
      auto values = ExpandSeriesValues(values_text);
      if (!values.ok()) return Fail(body_lines[k], values.status().message());
      for (size_t j = 0; j < values->size(); ++j) {
        if ((*values)[j].missing) continue;
        const int64_t t = static_cast<int64_t>(j) * *interval;
        Status st = storage_->AddSample(labels, t, (*values)[j].value);
        if (!st.ok()) return Fail(body_lines[k], st.message());
        if (options_.observer != nullptr) options_.observer->OnSample(labels, t, (*values)[j].value);
      }
    }
  }

  void Eval(int lineno, std::string_view line, std::string_view cmd,
            const std::vector<std::string>& body, const std::vector<int>& body_lines) {
    EvalCommand c;
    c.line = lineno;
    c.fail = cmd == "eval_fail";
    c.ordered = cmd == "eval_ordered";
    static const re2::RE2 kInstant(R"(\S+\s+instant\s+at\s+(\S+)\s+(.+))");
    static const re2::RE2 kRange(R"(\S+\s+range\s+from\s+(\S+)\s+to\s+(\S+)\s+step\s+(\S+)\s+(.+))");
    std::string at, start, end, step;
    if (re2::RE2::FullMatch(line, kInstant, &at, &c.expr)) {
      auto t = ParseTime(at);
      if (!t) return Fail(lineno, "bad time \"" + at + "\"");
      c.at = *t;
    } else if (re2::RE2::FullMatch(line, kRange, &start, &end, &step, &c.expr)) {
      auto s = ParseTime(start), e = ParseTime(end), st = ParseTime(step);
      if (!s || !e || !st) return Fail(lineno, "bad range times");
      c.range = true;
      c.start = *s;
      c.end = *e;
      c.step = *st;
    } else {
      return Fail(lineno, "cannot parse eval command");
    }
    for (size_t k = 0; k < body.size(); ++k) {
      const std::string& b = body[k];
      if (b.starts_with("expected_fail_message ")) {
        c.fail_message = std::string(Trim(b.substr(22)));
      } else if (b.starts_with("expected_fail_regexp ")) {
        c.fail_regexp = std::string(Trim(b.substr(21)));
      } else {
        c.expected.emplace_back(body_lines[k], b);
      }
    }
    Execute(c);
  }

  void Execute(const EvalCommand& c) {
    auto result = c.range ? engine_->RangeQuery(*storage_, c.expr, c.start, c.end, c.step)
                          : engine_->InstantQuery(*storage_, c.expr, c.at);
    const std::string where = "query " + c.expr + ": ";
    if (options_.observer != nullptr) {
      const ScriptQuery q{c.expr, c.range, c.at, c.start, c.end, c.step, c.ordered};
      const std::string msg = options_.observer->OnEval(q, result);
      if (!msg.empty()) Fail(c.line, where + msg);
    }
    if (options_.updated_text != nullptr && !c.fail && result.ok()) Generate(c, result->value);
    if (c.fail) {
      if (result.ok()) return Fail(c.line, where + "expected an error, got a result");
      const std::string& msg = result.status().message();
      if (c.fail_message && msg != *c.fail_message) {
        return Fail(c.line, where + "expected error \"" + *c.fail_message + "\", got \"" + msg + "\"");
      }
      if (c.fail_regexp && !re2::RE2::PartialMatch(msg, *c.fail_regexp)) {
        return Fail(c.line, where + "error \"" + msg + "\" does not match /" + *c.fail_regexp + "/");
      }
      return;
    }
    if (!result.ok()) return Fail(c.line, where + "unexpected error: " + result.status().message());
    const Value& v = result->value;
    switch (v.type) {
      case ValueType::kScalar: return CheckScalar(c, where, v.scalar.v);
      case ValueType::kVector: return CheckVector(c, where, v.vector);
      case ValueType::kMatrix: return CheckMatrix(c, where, v.matrix);
      case ValueType::kString:
        if (c.expected.size() != 1 || c.expected[0].second != "\"" + v.string + "\"") {
          Fail(c.line, where + "got string \"" + v.string + "\"");
        }
        return;
      case ValueType::kNone: return Fail(c.line, where + "no value");
    }
  }

  void CheckScalar(const EvalCommand& c, const std::string& where, double got) {
    if (c.expected.size() != 1) return Fail(c.line, where + "got scalar " + FormatFloat(got));
    auto want = ParseNumber(c.expected[0].second);
    if (!want || !AlmostEqual(*want, got)) {
      Fail(c.line, where + "expected scalar " + c.expected[0].second + ", got " + FormatFloat(got));
    }
  }

  struct Expected {
    int line;
    Labels labels;
    std::vector<SeriesValue> values;
  };

  bool ParseExpected(const EvalCommand& c, std::vector<Expected>* out) {
    for (const auto& [line, text] : c.expected) {
      Expected e{line, {}, {}};
      std::string values;
      Status s = ParseSeriesLine(text, &e.labels, &values);
      if (!s.ok()) {
        Fail(line, s.message());
        return false;
      }
      auto expanded = ExpandSeriesValues(values);
      if (!expanded.ok()) {
        Fail(line, expanded.status().message());
        return false;
      }
      e.values = std::move(*expanded);
      out->push_back(std::move(e));
    }
    return true;
  }

  void CheckVector(const EvalCommand& c, const std::string& where, const Vector& got) {
    std::vector<Expected> want;
    if (!ParseExpected(c, &want)) return;
    std::string got_text;
    for (const auto& s : got) got_text += "\n    " + Describe(s.metric, s.point.v);
    if (want.size() != got.size()) {
      return Fail(c.line, where + "expected " + std::to_string(want.size()) + " samples, got " +
                              std::to_string(got.size()) + ":" + got_text);
    }
    for (size_t i = 0; i < want.size(); ++i) {
      const Expected& e = want[i];
      if (e.values.size() != 1 || e.values[0].missing) return Fail(e.line, "expected one value");
      const Sample* match = nullptr;
      if (c.ordered) {
        if (got[i].metric == e.labels) match = &got[i];
      } else {
        for (const auto& s : got) {
          if (s.metric == e.labels) match = &s;
        }
      }
      if (match == nullptr) {
        return Fail(e.line, where + (c.ordered ? "at position " + std::to_string(i) + " " : "") +
                                "expected " + e.labels.ToString() + ", got:" + got_text);
      }
      if (!AlmostEqual(e.values[0].value, match->point.v)) {
        return Fail(e.line, where + "expected " + Describe(e.labels, e.values[0].value) + ", got " +
                                Describe(match->metric, match->point.v));
      }
    }
  }

  // Range queries compare one value (or `_`) per step; an instant query of a
  // range vector compares the raw values in the window.
  void CheckMatrix(const EvalCommand& c, const std::string& where, const Matrix& got) {
    std::vector<Expected> want;
    if (!ParseExpected(c, &want)) return;
    std::string got_text;
    for (const auto& s : got) {
      got_text += "\n    " + s.metric.ToString();
      for (const auto& p : s.points) got_text += " " + FormatFloat(p.v) + "@" + std::to_string(p.t / 1000);
    }
    if (want.size() != got.size()) {
      return Fail(c.line, where + "expected " + std::to_string(want.size()) + " series, got " +
                              std::to_string(got.size()) + ":" + got_text);
    }
    for (const auto& e : want) {
      const Series* match = nullptr;
      for (const auto& s : got) {
        if (s.metric == e.labels) match = &s;
      }
      if (match == nullptr) return Fail(e.line, where + "missing series " + e.labels.ToString() + ", got:" + got_text);
      if (!SameValues(c, e, *match)) {
        return Fail(e.line, where + "series " + e.labels.ToString() + " differs, got:" + got_text);
      }
    }
  }

  bool SameValues(const EvalCommand& c, const Expected& e, const Series& s) {
    if (!c.range) {
      if (e.values.size() != s.points.size()) return false;
      for (size_t i = 0; i < e.values.size(); ++i) {
        if (!AlmostEqual(e.values[i].value, s.points[i].v)) return false;
      }
      return true;
    }
    size_t p = 0;
    for (size_t i = 0; i < e.values.size(); ++i) {
      const int64_t t = c.start + static_cast<int64_t>(i) * c.step;
      const bool have = p < s.points.size() && s.points[p].t == t;
      if (e.values[i].missing != !have) return false;
      if (have && !AlmostEqual(e.values[i].value, s.points[p++].v)) return false;
    }
    return p == s.points.size();
  }

  // The expectation lines that describe `v` for command `c`.
  void Generate(const EvalCommand& c, const Value& v) {
    std::vector<std::string> lines;
    switch (v.type) {
      case ValueType::kScalar: lines.push_back(FormatFloat(v.scalar.v)); break;
      case ValueType::kString: lines.push_back("\"" + v.string + "\""); break;
      case ValueType::kVector:
        for (const auto& s : v.vector) lines.push_back(SeriesName(s.metric) + " " + FormatFloat(s.point.v));
        break;
      case ValueType::kMatrix:
        for (const auto& s : v.matrix) lines.push_back(SeriesName(s.metric) + MatrixValues(c, s));
        break;
      case ValueType::kNone: break;
    }
    generated_ = std::move(lines);
  }

  static std::string SeriesName(const Labels& l) {
    if (l.empty()) return "{}";
    std::string s = l.ToString();
    if (s.ends_with("{}")) s.resize(s.size() - 2);
    return s;
  }

  static std::string MatrixValues(const EvalCommand& c, const Series& s) {
    std::string out;
    if (!c.range) {
      for (const auto& p : s.points) out += " " + FormatFloat(p.v);
      return out;
    }
    size_t p = 0;
    for (int64_t t = c.start; t <= c.end; t += c.step) {
      if (p < s.points.size() && s.points[p].t == t) {
        out += " " + FormatFloat(s.points[p++].v);
      } else {
        out += " _";
      }
    }
    return out;
  }

  std::string name_;
  ScriptOptions options_;
  std::vector<std::string> out_;
  std::optional<std::vector<std::string>> generated_;
  std::unique_ptr<storage::MemoryStorage> storage_;
  std::unique_ptr<Engine> engine_;
};

}  // namespace

Result<std::vector<SeriesValue>> ExpandSeriesValues(std::string_view text) {
  std::vector<SeriesValue> out;
  for (auto tok : SplitFields(text)) VIGIL_RETURN_IF_ERROR(ExpandOne(tok, &out));
  return out;
}

Status ParseSeriesLine(std::string_view line, Labels* labels, std::string* values) {
  line = Trim(line);
  size_t split = 0;
  bool in_quote = false;
  bool braces = false;
  for (; split < line.size(); ++split) {
    const char ch = line[split];
    if (in_quote) {
      if (ch == '\\') ++split;
      else if (ch == '"') in_quote = false;
      continue;
    }
    if (ch == '"') in_quote = true;
    if (ch == '{') braces = true;
    if (ch == '}') {
      ++split;
      break;
    }
    if (!braces && std::isspace(static_cast<unsigned char>(ch))) break;
  }
  const std::string_view selector = line.substr(0, split);
  *values = std::string(line.substr(split));
  if (selector == "{}") {
    *labels = Labels();
    return Status::OK();
  }
  auto matchers = ParseSeriesSelector(selector);
  if (!matchers.ok()) return matchers.status();
  std::vector<Label> ls;
  for (const auto& m : *matchers) {
    if (m.type() != MatchType::kEqual) return Status::InvalidArgument("series labels must use =");
    ls.push_back({m.name(), m.value()});
  }
  *labels = Labels(std::move(ls));
  return Status::OK();
}

bool AlmostEqual(double a, double b) {
  constexpr double kEpsilon = 1e-6;
  constexpr double kMinNormal = 2.2250738585072014e-308;
  if (std::isnan(a) && std::isnan(b)) return true;
  if (a == b) return true;
  const double diff = std::fabs(a - b);
  if (a == 0 || b == 0 || diff < kMinNormal) return diff < kEpsilon * kMinNormal;
  return diff / (std::fabs(a) + std::fabs(b)) < kEpsilon;
}

std::vector<std::string> RunScript(const std::string& name, const std::string& text,
                                   const ScriptOptions& options) {
  ScriptRun run(name, options);
  run.Run(text);
  if (options.updated_text != nullptr) *options.updated_text = run.UpdatedText();
  return std::move(run.failures);
}

}  // namespace vigil::promql::testing
