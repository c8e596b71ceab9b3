#include "rules/template_functions.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iterator>
#include <limits>
#include <optional>

namespace vigil::rules {
namespace {

// Go's text/template builtins and Prometheus 2.42's template functions.
constexpr std::array<std::string_view, 45> kDefinedFunctions = {
    "and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf", "println",
    "urlquery", "eq", "ge", "gt", "le", "lt", "ne",
    // Prometheus (template/template.go)
    "query", "first", "label", "value", "strvalue", "args", "reReplaceAll", "safeHtml", "match",
    "title", "toUpper", "toLower", "graphLink", "tableLink", "sortByLabel", "humanize",
    "humanize1024", "humanizeDuration", "humanizePercentage", "humanizeTimestamp", "toTime",
    "pathPrefix", "externalURL", "parseDuration", "stripPort", "stripDomain"};

Status InvalidSyntax(std::string_view s) {
  return Status::InvalidArgument("strconv.ParseFloat: parsing " + GoQuote(s) + ": invalid syntax");
}

char Lower(char c) { return static_cast<char>(c | 0x20); }

bool IsDigitOf(char c, bool hex) {
  return std::isdigit(static_cast<unsigned char>(c)) || (hex && Lower(c) >= 'a' && Lower(c) <= 'f');
}

// strconv's underscoreOK: an underscore only between digits (or after a base prefix).
bool UnderscoresOk(std::string_view s) {
  char saw = '^';
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  bool hex = false;
  size_t i = 0;
  if (s.size() >= 2 && s[0] == '0' &&
      (Lower(s[1]) == 'b' || Lower(s[1]) == 'o' || Lower(s[1]) == 'x')) {
    i = 2, saw = '0', hex = Lower(s[1]) == 'x';
  }
  for (; i < s.size(); ++i) {
    if (IsDigitOf(s[i], hex)) {
      saw = '0';
    } else if (s[i] == '_') {
      if (saw != '0') return false;
      saw = '_';
    } else {
      if (saw == '_') return false;
      saw = '!';
    }
  }
  return saw != '_';
}

// "inf", "+Infinity", "NaN" (case-insensitive; NaN without a sign).
std::optional<double> SpecialFloat(std::string_view s) {
  auto equal_fold = [](std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return Lower(x) == y; });
  };
  if (equal_fold(s, "nan")) return std::numeric_limits<double>::quiet_NaN();
  double sign = 1;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    sign = s[0] == '-' ? -1 : 1;
    s.remove_prefix(1);
  }
  if (equal_fold(s, "inf") || equal_fold(s, "infinity")) {
    return sign * std::numeric_limits<double>::infinity();
  }
  return std::nullopt;
}

// The length of the longest prefix of `s` made of digits (and underscores).
size_t DigitRun(std::string_view s, bool hex, bool& underscores) {
  size_t i = 0;
  for (; i < s.size() && (IsDigitOf(s[i], hex) || s[i] == '_'); ++i) underscores |= s[i] == '_';
  return i;
}

// True if `s` is a float literal strconv.ParseFloat accepts (specials aside).
bool IsFloatSyntax(std::string_view s, bool& underscores) {
  size_t i = !s.empty() && (s[0] == '+' || s[0] == '-') ? 1 : 0;
  const bool hex = s.size() >= i + 2 && s[i] == '0' && Lower(s[i + 1]) == 'x';
  if (hex) i += 2;
  size_t mantissa_digits = 0;
  for (bool point = false;; point = true) {
    const size_t n = DigitRun(s.substr(i), hex, underscores);
    mantissa_digits += static_cast<size_t>(std::count_if(s.begin() + static_cast<ptrdiff_t>(i),
                                                         s.begin() + static_cast<ptrdiff_t>(i + n),
                                                         [](char c) { return c != '_'; }));
    i += n;
    if (point || i >= s.size() || s[i] != '.') break;
    ++i;
  }
  if (mantissa_digits == 0) return false;
  if (i == s.size()) return !hex;  // a hex mantissa needs its 'p' exponent
  if (Lower(s[i]) != (hex ? 'p' : 'e')) return false;
  ++i;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  i += DigitRun(s.substr(i), false, underscores);
  return i == s.size();
}

Result<double> ToFloat(const GoValue& v) {
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  if (const auto* s = std::get_if<std::string>(&v)) return GoParseFloat(*s);
  return Status::InvalidArgument("can't convert " + std::string(GoTypeName(v)) + " to float");
}

// Go's fmt.Sprintf("%.4g", v).
std::string Format4g(double v) {
  const GoValue arg = v;
  return GoSprintf("%.4g", std::span<const GoValue>(&arg, 1)).value();
}

std::string Humanize(double v) {
  if (v == 0 || std::isnan(v) || std::isinf(v)) return Format4g(v);
  static constexpr const char* kBig[] = {"k", "M", "G", "T", "P", "E", "Z", "Y"};
  static constexpr const char* kSmall[] = {"m", "u", "n", "p", "f", "a", "z", "y"};
  std::string prefix;
  if (std::fabs(v) >= 1) {
    for (const char* p : kBig) {
      if (std::fabs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
  } else {
    for (const char* p : kSmall) {
      if (std::fabs(v) >= 1) break;
      prefix = p;
      v *= 1000;
    }
  }
  return Format4g(v) + prefix;
}

std::string Humanize1024(double v) {
  if (std::fabs(v) <= 1 || std::isnan(v) || std::isinf(v)) return Format4g(v);
  static constexpr const char* kPrefixes[] = {"ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"};
  std::string prefix;
  for (const char* p : kPrefixes) {
    if (std::fabs(v) < 1024) break;
    prefix = p;
    v /= 1024;
  }
  return Format4g(v) + prefix;
}

std::string HumanizeDuration(double v) {
  if (std::isnan(v) || std::isinf(v)) return Format4g(v);
  if (v == 0) return Format4g(v) + "s";
  if (std::fabs(v) >= 1) {
    const std::string sign = v < 0 ? "-" : "";
    v = std::fabs(v);
    // Go truncates to int64; beyond its range amd64 gives the minimum int64,
    // and Prometheus prints the negative parts that follow from it.
    const int64_t d = GoFloatToInt64(v);
    const int64_t s = d % 60, m = d / 60 % 60, h = d / 60 / 60 % 24, days = d / 60 / 60 / 24;
    auto n = [](int64_t x) { return std::to_string(x); };
    if (days != 0) return sign + n(days) + "d " + n(h) + "h " + n(m) + "m " + n(s) + "s";
    if (h != 0) return sign + n(h) + "h " + n(m) + "m " + n(s) + "s";
    if (m != 0) return sign + n(m) + "m " + n(s) + "s";
    return sign + Format4g(v) + "s";
  }
  static constexpr const char* kSmall[] = {"m", "u", "n", "p", "f", "a", "z", "y"};
  std::string prefix;
  for (const char* p : kSmall) {
    if (std::fabs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return Format4g(v) + prefix + "s";
}

// Go's time.Time.String() in UTC for Unix milliseconds `ms`.
std::string FormatUtcMillis(int64_t ms) {
  int64_t secs = ms / 1000, millis = ms % 1000;
  if (millis < 0) millis += 1000, --secs;
  int64_t days = secs / 86400, rem = secs % 86400;
  if (rem < 0) rem += 86400, --days;
  // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld %02lld:%02lld:%02lld",
                static_cast<long long>(year), static_cast<long long>(month),
                static_cast<long long>(day), static_cast<long long>(rem / 3600),
                static_cast<long long>(rem / 60 % 60), static_cast<long long>(rem % 60));
  std::string out = buf;
  if (millis != 0) {
    std::snprintf(buf, sizeof buf, ".%03lld", static_cast<long long>(millis));
    std::string frac = buf;
    while (frac.back() == '0') frac.pop_back();
    out += frac;
  }
  return out + " +0000 UTC";
}

Result<std::string> HumanizeTimestamp(double v) {
  if (std::isnan(v) || std::isinf(v)) return Format4g(v);
  const double ns = v * 1e9;
  if (ns > 9.223372036854775807e18 || ns < -9.223372036854775808e18) {
    const GoValue arg = v;
    return Status::InvalidArgument(GoSprintf("%v", std::span<const GoValue>(&arg, 1)).value() +
                                   " cannot be represented as a nanoseconds timestamp since it "
                                   "overflows int64");
  }
  return FormatUtcMillis(GoFloatToInt64(ns) / 1'000'000);
}

// net.SplitHostPort's host, or nothing if `s` is not host:port.
std::optional<std::string_view> SplitHost(std::string_view s) {
  const size_t colon = s.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view host;
  if (!s.empty() && s[0] == '[') {
    const size_t close = s.find(']');
    if (close == std::string_view::npos || close + 1 != colon) return std::nullopt;
    host = s.substr(1, close - 1);
    if (s.find('[', 1) != std::string_view::npos) return std::nullopt;
  } else {
    host = s.substr(0, colon);
    if (host.find(':') != std::string_view::npos) return std::nullopt;
    if (host.find_first_of("[]") != std::string_view::npos) return std::nullopt;
  }
  if (s.find(']', colon) != std::string_view::npos) return std::nullopt;
  return host;
}

std::string MapAscii(std::string s, int (*f)(int)) {
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x80) c = static_cast<char>(f(c));
  }
  return s;
}

// strings.Title for ASCII: upper-cases letters that follow a separator.
std::string Title(std::string s) {
  bool after_separator = true;
  for (char& c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (after_separator && u < 0x80) c = static_cast<char>(std::toupper(u));
    after_separator = u < 0x80 && !std::isalnum(u) && c != '_' && c != '\'';
  }
  return s;
}

// fmt.Sprint: a space between operands when neither is a string.
std::string Sprint(std::span<const GoValue> args, bool line) {
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    const bool is_string = std::holds_alternative<std::string>(args[i]);
    if (i > 0 && (line || (!is_string && !std::holds_alternative<std::string>(args[i - 1])))) {
      out += ' ';
    }
    out += GoSprint(args[i]);
    if (out.size() > kMaxGoFormatOutput) break;
  }
  return line ? out + "\n" : out;
}

Status WantArgs(std::string_view name, std::span<const GoValue> args, size_t want) {
  if (args.size() == want) return Status::OK();
  return Status::InvalidArgument("wrong number of args for " + std::string(name) + ": want " +
                                 std::to_string(want) + " got " + std::to_string(args.size()));
}

Result<std::string> StringArg(const GoValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return Status::InvalidArgument("wrong type for value; expected string; got " +
                                 std::string(GoTypeName(v)));
}

using NumberFunction = std::function<Result<std::string>(double)>;

// humanize and its siblings: one float argument, a string result.
const std::pair<std::string_view, NumberFunction> kNumberFunctions[] = {
    {"humanize", [](double v) -> Result<std::string> { return Humanize(v); }},
    {"humanize1024", [](double v) -> Result<std::string> { return Humanize1024(v); }},
    {"humanizeDuration", [](double v) -> Result<std::string> { return HumanizeDuration(v); }},
    {"humanizePercentage", [](double v) -> Result<std::string> { return Format4g(v * 100) + "%"; }},
    {"humanizeTimestamp", HumanizeTimestamp},
};

using StringFunction = std::string (*)(std::string);

const std::pair<std::string_view, StringFunction> kStringFunctions[] = {
    {"toUpper", [](std::string s) { return MapAscii(std::move(s), std::toupper); }},
    {"toLower", [](std::string s) { return MapAscii(std::move(s), std::tolower); }},
    {"title", Title},
    {"stripPort",
     [](std::string s) {
       const auto host = SplitHost(s);
       return host ? std::string(*host) : s;
     }},
};

Result<GoValue> CallNumberFunction(std::string_view name, const NumberFunction& f,
                                   std::span<const GoValue> args) {
  if (Status st = WantArgs(name, args, 1); !st.ok()) return st;
  auto v = ToFloat(args[0]);
  Result<std::string> out = v.ok() ? f(*v) : Result<std::string>(v.status());
  if (!out.ok()) {
    return Status::InvalidArgument("error calling " + std::string(name) + ": " +
                                   out.status().message());
  }
  return GoValue(std::move(out).value());
}

// Go's eq/ne/lt/le/gt/ge on basic values: both operands of one kind.
Result<int> Compare(const GoValue& a, const GoValue& b, bool ordered) {
  if (a.index() != b.index() || std::holds_alternative<GoNil>(a)) {
    return Status::InvalidArgument("incompatible types for comparison");
  }
  if (ordered && std::holds_alternative<bool>(a)) {
    return Status::InvalidArgument("invalid type for comparison");
  }
  return a < b ? -1 : b < a ? 1 : 0;
}

Result<GoValue> CallComparison(std::string_view name, std::span<const GoValue> args) {
  if (name == "eq") {
    if (args.size() < 2)
      return Status::InvalidArgument("error calling eq: missing argument for comparison");
    for (size_t i = 1; i < args.size(); ++i) {
      auto c = Compare(args[0], args[i], false);
      if (!c.ok()) return Status::InvalidArgument("error calling eq: " + c.status().message());
      if (*c == 0) return GoValue(true);
    }
    return GoValue(false);
  }
  if (Status st = WantArgs(name, args, 2); !st.ok()) return st;
  auto c = Compare(args[0], args[1], name != "ne");
  if (!c.ok())
    return Status::InvalidArgument("error calling " + std::string(name) + ": " +
                                   c.status().message());
  const bool r = name == "ne"   ? *c != 0
                 : name == "lt" ? *c < 0
                 : name == "le" ? *c <= 0
                 : name == "gt" ? *c > 0
                                : *c >= 0;
  return GoValue(r);
}

}  // namespace

bool IsTruthy(const GoValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return !s->empty();
  if (const auto* d = std::get_if<double>(&v)) return *d != 0;
  if (const auto* i = std::get_if<int64_t>(&v)) return *i != 0;
  if (const auto* b = std::get_if<bool>(&v)) return *b;
  return false;
}

bool IsTemplateFunctionDefined(std::string_view name) {
  return std::find(kDefinedFunctions.begin(), kDefinedFunctions.end(), name) !=
         kDefinedFunctions.end();
}

Result<double> GoParseFloat(std::string_view s) {
  if (auto special = SpecialFloat(s)) return *special;
  bool underscores = false;
  if (!IsFloatSyntax(s, underscores) || (underscores && !UnderscoresOk(s))) {
    return InvalidSyntax(s);
  }
  std::string clean;
  std::copy_if(s.begin(), s.end(), std::back_inserter(clean), [](char c) { return c != '_'; });
  errno = 0;
  const double v = std::strtod(clean.c_str(), nullptr);
  if (errno == ERANGE && std::isinf(v)) {
    return Status::InvalidArgument("strconv.ParseFloat: parsing " + GoQuote(s) +
                                   ": value out of range");
  }
  return v;
}

int64_t GoFloatToInt64(double v) {
  constexpr double kTwo63 = 9223372036854775808.0;
  if (std::isnan(v) || v >= kTwo63 || v < -kTwo63) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(v);
}

Result<GoValue> CallTemplateFunction(std::string_view name, std::span<const GoValue> args,
                                     const TemplateFunctionContext& context) {
  if (name == "printf") {
    if (args.empty())
      return Status::InvalidArgument("wrong number of args for printf: want at least 1 got 0");
    auto format = StringArg(args[0]);
    if (!format.ok()) return format.status();
    auto out = GoSprintf(*format, args.subspan(1));
    if (!out.ok()) return out.status();
    return GoValue(std::move(out).value());
  }
  if (name == "print" || name == "println") return GoValue(Sprint(args, name == "println"));
  if (name == "eq" || name == "ne" || name == "lt" || name == "le" || name == "gt" ||
      name == "ge") {
    return CallComparison(name, args);
  }
  if (name == "not") {
    if (Status st = WantArgs(name, args, 1); !st.ok()) return st;
    return GoValue(!IsTruthy(args[0]));
  }
  if (name == "and" || name == "or") {  // the first false (and) or true (or) operand, or the last
    if (args.empty())
      return Status::InvalidArgument("wrong number of args for " + std::string(name) +
                                     ": want at least 1 got 0");
    for (const GoValue& a : args) {
      if (IsTruthy(a) == (name == "or")) return a;
    }
    return args.back();
  }
  if (name == "externalURL") {
    if (Status st = WantArgs(name, args, 0); !st.ok()) return st;
    return GoValue(std::string(context.external_url));
  }
  if (name == "len") {
    if (Status st = WantArgs(name, args, 1); !st.ok()) return st;
    auto s = StringArg(args[0]);
    if (!s.ok())
      return Status::InvalidArgument("error calling len: len of type " +
                                     std::string(GoTypeName(args[0])));
    return GoValue(static_cast<int64_t>(s->size()));
  }
  for (const auto& [fn_name, f] : kNumberFunctions) {
    if (name == fn_name) return CallNumberFunction(name, f, args);
  }
  for (const auto& [fn_name, f] : kStringFunctions) {
    if (name != fn_name) continue;
    if (Status st = WantArgs(name, args, 1); !st.ok()) return st;
    auto s = StringArg(args[0]);
    if (!s.ok()) return s.status();
    return GoValue(f(std::move(s).value()));
  }
  if (IsTemplateFunctionDefined(name)) {
    return Status::InvalidArgument("function \"" + std::string(name) +
                                   "\" is not supported by Vigil's alert templates");
  }
  return Status::InvalidArgument("function \"" + std::string(name) + "\" not defined");
}

}  // namespace vigil::rules
