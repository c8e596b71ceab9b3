#include "rules/go_format.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "base/quote.h"
#include "base/utf8.h"

namespace vigil::rules {
namespace {

constexpr int kMaxWidthOrPrecision = 1'000'000;  // Go's fmt refuses larger ones
constexpr char kLowerDigits[] = "0123456789abcdefx";
constexpr char kUpperDigits[] = "0123456789ABCDEFX";

size_t RuneCount(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); i += DecodeRune(s.substr(i)).size) ++n;
  return n;
}

// Shortest digits that read back as |v| (v finite, non-zero), and the decimal
// exponent: v = 0.d1d2d3... * 10^point.
struct ShortestDecimal {
  std::string digits;
  int point = 0;
};

ShortestDecimal Shortest(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, std::fabs(v), std::chars_format::scientific);
  const std::string_view text(buf, static_cast<size_t>(r.ptr - buf));
  const size_t e = text.find('e');
  ShortestDecimal d;
  for (char c : text.substr(0, e)) {
    if (c != '.') d.digits += c;
  }
  d.point = std::stoi(std::string(text.substr(e + 1))) + 1;
  return d;
}

std::string FixedFromDecimal(const ShortestDecimal& d) {
  const int nd = static_cast<int>(d.digits.size());
  if (d.point <= 0) return "0." + std::string(static_cast<size_t>(-d.point), '0') + d.digits;
  if (d.point >= nd) return d.digits + std::string(static_cast<size_t>(d.point - nd), '0');
  return d.digits.substr(0, static_cast<size_t>(d.point)) + "." +
         d.digits.substr(static_cast<size_t>(d.point));
}

std::string ExponentFromDecimal(const ShortestDecimal& d, char e) {
  std::string out = d.digits.substr(0, 1);
  if (d.digits.size() > 1) out += "." + d.digits.substr(1);
  const int exp = d.digits == "0" ? 0 : d.point - 1;
  out += e;
  out += exp < 0 ? '-' : '+';
  const int a = std::abs(exp);
  if (a < 10) out += '0';
  return out + std::to_string(a);
}

// 'g' with the fewest digits: %e form when the exponent is < -4 or >= 6.
std::string ShortestG(double v, char verb) {
  const ShortestDecimal d = Shortest(v);
  const int exp = d.point - 1;
  if (exp < -4 || exp >= 6) return ExponentFromDecimal(d, verb == 'G' ? 'E' : 'e');
  return FixedFromDecimal(d);
}

std::string CFormat(const char* spec, int prec, double v) {
  const int n = std::snprintf(nullptr, 0, spec, prec, v);
  std::string out(static_cast<size_t>(n) + 1, '\0');
  std::snprintf(out.data(), out.size(), spec, prec, v);
  out.resize(static_cast<size_t>(n));
  return out;
}

// Go's %x for floats: C's %a, normalized to a leading 1 when rounding carried
// into a 2, with an exponent of at least two digits.
std::string HexFloat(double v, char verb, int prec) {
  char buf[64];
  if (prec < 0) {
    std::snprintf(buf, sizeof buf, "%a", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.*a", std::min(prec, 20), v);  // 13 digits are exact
  }
  std::string mantissa = buf;
  const size_t p = mantissa.find('p');
  int exp = std::atoi(mantissa.c_str() + p + 1);
  mantissa.resize(p);
  const size_t lead = mantissa.find('x') + 1;
  if (mantissa[lead] == '2') mantissa[lead] = '1', ++exp;
  if (prec > 20) mantissa.append(static_cast<size_t>(prec - 20), '0');
  std::string out = mantissa + (exp < 0 ? "p-" : "p+") + (std::abs(exp) < 10 ? "0" : "") +
                    std::to_string(std::abs(exp));
  if (verb == 'X') {
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

// Go's %b for floats: decimal mantissa, 'p', binary exponent.
std::string BinaryFloat(double v) {
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  uint64_t mant = bits & ((uint64_t{1} << 52) - 1);
  int exp = static_cast<int>(bits >> 52 & 0x7FF);
  if (exp == 0) {
    ++exp;
  } else {
    mant |= uint64_t{1} << 52;
  }
  exp += -1023 - 52;
  return std::string(std::signbit(v) ? "-" : "") + std::to_string(mant) + "p" +
         (exp >= 0 ? "+" : "") + std::to_string(exp);
}

}  // namespace

std::string ReplaceInvalidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    const DecodedRune d = DecodeRune(s);
    if (d.size == 1 && d.rune == kRuneError) {
      out += "\xEF\xBF\xBD";
    } else {
      out.append(s.substr(0, d.size));
    }
    s.remove_prefix(d.size);
  }
  return out;
}

std::string GoFormatFloat(double v, char verb, int prec) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  switch (verb) {
    case 'b':
      return BinaryFloat(v);
    case 'x':
    case 'X':
      return HexFloat(v, verb, prec);
    case 'e':
    case 'E':
    case 'f':
      if (prec < 0) {
        const ShortestDecimal d = Shortest(v);
        const std::string sign = std::signbit(v) ? "-" : "";
        if (v == 0) return sign + (verb == 'f' ? "0" : std::string("0") + verb + "+00");
        return sign + (verb == 'f' ? FixedFromDecimal(d) : ExponentFromDecimal(d, verb));
      }
      return CFormat(verb == 'e' ? "%.*e" : verb == 'E' ? "%.*E" : "%.*f", prec, v);
    default:  // 'g', 'G'
      if (prec >= 0) return CFormat(verb == 'G' ? "%.*G" : "%.*g", prec, v);
      if (v == 0) return std::signbit(v) ? "-0" : "0";
      return (std::signbit(v) ? "-" : "") + ShortestG(v, verb);
  }
}

namespace {

// The state of one Sprintf call: Go's pp and fmt structs in one.
class Printer {
 public:
  explicit Printer(std::span<const GoValue> args) : args_(args) {}

  Result<std::string> Run(std::string_view format);

 private:
  struct Flags {
    bool sharp = false, zero = false, plus = false, minus = false, space = false;
    bool sharp_v = false, plus_v = false;
    bool wid_present = false, prec_present = false;
    int wid = 0, prec = 0;
  };

  struct Number {
    int value = 0;
    bool present = false;
  };

  // Literal digits (Go's parsenum): a number above 10^6 consumes the rest of
  // the format and counts as absent.
  Number ParseNumber(std::string_view format, size_t& i, size_t end) const;
  // `*`: the next argument, if it is an int of at most 10^6 in magnitude.
  Number IntFromArg();
  // `[n]`: an explicit argument index.
  bool ArgNumber(std::string_view format, size_t& i);
  size_t ParseFlags(std::string_view format, size_t i);
  size_t ParseWidthAndPrecision(std::string_view format, size_t i, bool& after_index);
  void PrintVerb(char32_t verb);

  void PrintArg(const GoValue& arg, char32_t verb);
  void PrintString(const std::string& s, char32_t verb);
  void PrintFloat(double v, char32_t verb);
  void PrintInteger(int64_t v, char32_t verb);
  void PrintBool(bool v, char32_t verb);
  void BadVerb(char32_t verb);

  void FormatInteger(uint64_t u, int base, bool negative, char32_t verb, const char* digits);
  void FormatFloat(double v, char verb, int prec);
  void FormatUnicode(uint64_t u);
  void FormatHexString(std::string_view s, const char* digits);
  void FormatQuoted(std::string_view s);
  std::string_view Truncate(std::string_view s) const;
  void Pad(std::string_view s);
  void WritePadding(int n);

  std::span<const GoValue> args_;
  size_t arg_num_ = 0;
  bool reordered_ = false;
  bool good_arg_num_ = true;
  const GoValue* arg_ = nullptr;  // the argument being printed, for BadVerb
  Flags f_;
  std::string out_;
};

Printer::Number Printer::ParseNumber(std::string_view format, size_t& i, size_t end) const {
  Number n;
  for (; i < end && format[i] >= '0' && format[i] <= '9'; ++i) {
    if (n.value > kMaxWidthOrPrecision) {
      i = end;
      return {};
    }
    n.value = n.value * 10 + (format[i] - '0');
    n.present = true;
  }
  return n;
}

Printer::Number Printer::IntFromArg() {
  if (arg_num_ >= args_.size()) return {};
  const GoValue& a = args_[arg_num_++];
  const auto* i = std::get_if<int64_t>(&a);
  if (i == nullptr || *i > kMaxWidthOrPrecision || *i < -kMaxWidthOrPrecision) return {};
  return {static_cast<int>(*i), true};
}

bool Printer::ArgNumber(std::string_view format, size_t& i) {
  if (i >= format.size() || format[i] != '[') return false;
  reordered_ = true;
  const std::string_view rest = format.substr(i);
  const size_t close = rest.size() >= 3 ? rest.find(']', 1) : std::string_view::npos;
  if (close == std::string_view::npos) {
    ++i;
    good_arg_num_ = false;
    return false;
  }
  size_t j = 1;
  const Number n = ParseNumber(rest, j, close);
  i += close + 1;
  if (!n.present || j != close) {
    good_arg_num_ = false;
    return false;
  }
  if (n.value - 1 < 0 || static_cast<size_t>(n.value - 1) >= args_.size()) {
    good_arg_num_ = false;
    return true;
  }
  arg_num_ = static_cast<size_t>(n.value - 1);
  return true;
}

size_t Printer::ParseFlags(std::string_view format, size_t i) {
  for (; i < format.size(); ++i) {
    switch (format[i]) {
      case '#':
        f_.sharp = true;
        break;
      case '0':
        f_.zero = !f_.minus;
        break;  // zero padding only on the left
      case '+':
        f_.plus = true;
        break;
      case '-':
        f_.minus = true, f_.zero = false;
        break;
      case ' ':
        f_.space = true;
        break;
      default:
        return i;
    }
  }
  return i;
}

size_t Printer::ParseWidthAndPrecision(std::string_view format, size_t i, bool& after_index) {
  const size_t end = format.size();
  if (i < end && format[i] == '*') {
    ++i;
    const Number n = IntFromArg();
    f_.wid = n.value, f_.wid_present = n.present;
    if (!n.present) out_ += "%!(BADWIDTH)";
    if (f_.wid < 0) f_.wid = -f_.wid, f_.minus = true, f_.zero = false;
    after_index = false;
  } else {
    const Number n = ParseNumber(format, i, end);
    f_.wid = n.value, f_.wid_present = n.present;
    if (after_index && n.present) good_arg_num_ = false;  // "%[3]2d"
  }
  if (i + 1 < end && format[i] == '.') {
    ++i;
    if (after_index) good_arg_num_ = false;  // "%[3].2d"
    after_index = ArgNumber(format, i);
    if (i < end && format[i] == '*') {
      ++i;
      const Number n = IntFromArg();
      f_.prec = n.value, f_.prec_present = n.present;
      if (f_.prec < 0) f_.prec = 0, f_.prec_present = false;
      if (!f_.prec_present) out_ += "%!(BADPREC)";
      after_index = false;
    } else {
      const Number n = ParseNumber(format, i, end);
      f_.prec = n.value, f_.prec_present = true;
    }
  }
  if (!after_index) after_index = ArgNumber(format, i);
  return i;
}

Result<std::string> Printer::Run(std::string_view format) {
  const size_t end = format.size();
  size_t i = 0;
  while (i < end) {
    if (out_.size() > kMaxGoFormatOutput) break;
    const size_t percent = format.find('%', i);
    out_.append(format.substr(i, percent == std::string_view::npos ? end - i : percent - i));
    if (percent == std::string_view::npos) break;
    f_ = Flags{};
    good_arg_num_ = true;
    i = ParseFlags(format, percent + 1);
    bool after_index = ArgNumber(format, i);
    i = ParseWidthAndPrecision(format, i, after_index);
    if (i >= end) {
      out_ += "%!(NOVERB)";
      break;
    }
    const DecodedRune verb = DecodeRune(format.substr(i));
    i += verb.size;
    PrintVerb(verb.rune);
  }
  if (!reordered_ && arg_num_ < args_.size()) {
    f_ = Flags{};
    out_ += "%!(EXTRA ";
    for (size_t k = arg_num_; k < args_.size(); ++k) {
      if (k > arg_num_) out_ += ", ";
      if (std::holds_alternative<GoNil>(args_[k])) {
        out_ += "<nil>";
        continue;
      }
      out_ += GoTypeName(args_[k]);
      out_ += '=';
      PrintArg(args_[k], 'v');
    }
    out_ += ')';
  }
  if (out_.size() > kMaxGoFormatOutput) {
    return Status::InvalidArgument("printf output exceeds " + std::to_string(kMaxGoFormatOutput) +
                                   " bytes");
  }
  return std::move(out_);
}

void Printer::PrintVerb(char32_t verb) {
  if (verb == '%') {  // takes no argument and ignores width and precision
    out_ += '%';
    return;
  }
  if (!good_arg_num_ || arg_num_ >= args_.size()) {
    out_ += "%!";
    AppendRune(out_, verb);
    out_ += good_arg_num_ ? "(MISSING)" : "(BADINDEX)";
    return;
  }
  if (verb == 'v') {
    f_.sharp_v = f_.sharp, f_.sharp = false;
    f_.plus_v = f_.plus, f_.plus = false;
  }
  PrintArg(args_[arg_num_++], verb);
}

void Printer::PrintArg(const GoValue& arg, char32_t verb) {
  arg_ = &arg;
  if (verb == 'T') {
    Pad(Truncate(GoTypeName(arg)));
    return;
  }
  if (const auto* s = std::get_if<std::string>(&arg)) return PrintString(*s, verb);
  if (const auto* d = std::get_if<double>(&arg)) return PrintFloat(*d, verb);
  if (const auto* i = std::get_if<int64_t>(&arg)) return PrintInteger(*i, verb);
  if (const auto* b = std::get_if<bool>(&arg)) return PrintBool(*b, verb);
  if (verb == 'v') return Pad("<nil>");
  BadVerb(verb);
}

void Printer::BadVerb(char32_t verb) {
  out_ += "%!";
  AppendRune(out_, verb);
  out_ += '(';
  if (std::holds_alternative<GoNil>(*arg_)) {
    out_ += "<nil>";
  } else {
    out_ += GoTypeName(*arg_);
    out_ += '=';
    PrintArg(*arg_, 'v');  // with the verb's flags, width and precision, as Go does
  }
  out_ += ')';
}

void Printer::PrintString(const std::string& s, char32_t verb) {
  switch (verb) {
    case 'v':
      if (f_.sharp_v) return FormatQuoted(s);
      return Pad(Truncate(s));
    case 's':
      return Pad(Truncate(s));
    case 'x':
      return FormatHexString(s, kLowerDigits);
    case 'X':
      return FormatHexString(s, kUpperDigits);
    case 'q':
      return FormatQuoted(s);
    default:
      return BadVerb(verb);
  }
}

void Printer::PrintBool(bool v, char32_t verb) {
  if (verb != 't' && verb != 'v') return BadVerb(verb);
  Pad(v ? "true" : "false");
}

void Printer::PrintFloat(double v, char32_t verb) {
  switch (verb) {
    case 'v':
      return FormatFloat(v, 'g', -1);
    case 'b':
    case 'g':
    case 'G':
    case 'x':
    case 'X':
      return FormatFloat(v, static_cast<char>(verb), -1);
    case 'f':
    case 'e':
    case 'E':
      return FormatFloat(v, static_cast<char>(verb), 6);
    case 'F':
      return FormatFloat(v, 'f', 6);
    default:
      return BadVerb(verb);
  }
}

void Printer::PrintInteger(int64_t v, char32_t verb) {
  const bool negative = v < 0;
  const uint64_t u = negative ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  switch (verb) {
    case 'v':
    case 'd':
      return FormatInteger(u, 10, negative, verb, kLowerDigits);
    case 'b':
      return FormatInteger(u, 2, negative, verb, kLowerDigits);
    case 'o':
    case 'O':
      return FormatInteger(u, 8, negative, verb, kLowerDigits);
    case 'x':
      return FormatInteger(u, 16, negative, verb, kLowerDigits);
    case 'X':
      return FormatInteger(u, 16, negative, verb, kUpperDigits);
    case 'c': {
      std::string rune;
      AppendRune(rune, negative || u > kMaxRune ? kRuneError : static_cast<char32_t>(u));
      return Pad(rune);
    }
    case 'q': {
      const char32_t r = negative || u > kMaxRune ? kRuneError : static_cast<char32_t>(u);
      return Pad(GoQuoteRune(r, f_.plus));
    }
    case 'U':
      return FormatUnicode(static_cast<uint64_t>(v));
    default:
      return BadVerb(verb);
  }
}

void Printer::FormatInteger(uint64_t u, int base, bool negative, char32_t verb,
                            const char* digits) {
  int prec = 0;
  if (f_.prec_present) {
    prec = f_.prec;
    if (prec == 0 && u == 0) {  // %.0d of 0 prints nothing but the padding
      const bool zero = f_.zero;
      f_.zero = false;
      WritePadding(f_.wid);
      f_.zero = zero;
      return;
    }
  } else if (f_.zero && f_.wid_present) {
    prec = f_.wid;
    if (negative || f_.plus || f_.space) --prec;  // room for the sign
  }
  std::string number;
  do {
    number += digits[u % static_cast<uint64_t>(base)];
    u /= static_cast<uint64_t>(base);
  } while (u != 0);
  std::reverse(number.begin(), number.end());
  if (static_cast<int>(number.size()) < prec) {
    number.insert(0, static_cast<size_t>(prec) - number.size(), '0');
  }
  std::string prefix;
  if (negative) {
    prefix = "-";
  } else if (f_.plus) {
    prefix = "+";
  } else if (f_.space) {
    prefix = " ";
  }
  if (verb == 'O') prefix += "0o";
  if (f_.sharp) {
    if (base == 2) prefix += "0b";
    if (base == 8 && number[0] != '0') prefix += '0';
    if (base == 16) prefix += std::string{'0', digits[16]};
  }
  const bool zero = f_.zero;  // zero padding was done above, as precision
  f_.zero = false;
  Pad(prefix + number);
  f_.zero = zero;
}

void Printer::FormatUnicode(uint64_t u) {
  char hex[24];
  std::snprintf(hex, sizeof hex, "%llX", static_cast<unsigned long long>(u));
  const size_t prec = f_.prec_present && f_.prec > 4 ? static_cast<size_t>(f_.prec) : 4;
  std::string text = "U+";
  if (std::strlen(hex) < prec) text.append(prec - std::strlen(hex), '0');
  text += hex;
  if (f_.sharp && u <= kMaxRune && IsGoPrint(static_cast<char32_t>(u))) {
    text += " '";
    AppendRune(text, static_cast<char32_t>(u));
    text += '\'';
  }
  const bool zero = f_.zero;
  f_.zero = false;
  Pad(text);
  f_.zero = zero;
}

void Printer::FormatFloat(double v, char verb, int prec) {
  if (f_.prec_present) prec = f_.prec;
  std::string num = GoFormatFloat(v, verb, prec);
  if (num[0] != '-' && num[0] != '+') num.insert(0, "+");
  if (f_.space && num[0] == '+' && !f_.plus) num[0] = ' ';
  if (num[1] == 'I' || num[1] == 'N') {  // Inf and NaN are never zero padded
    const bool zero = f_.zero;
    f_.zero = false;
    if (num[1] == 'N' && !f_.space && !f_.plus) num.erase(0, 1);
    Pad(num);
    f_.zero = zero;
    return;
  }
  if (f_.sharp && verb != 'b') {  // keep the decimal point and trailing zeros
    int digits = 0;
    if (verb == 'g' || verb == 'G' || verb == 'x') digits = prec == -1 ? 6 : prec;
    std::string tail;
    bool has_point = false, saw_nonzero = false;
    for (size_t i = 1; i < num.size(); ++i) {
      const char c = num[i];
      if (c == '.') {
        has_point = true;
      } else if (c == 'p' || c == 'P' || ((c == 'e' || c == 'E') && verb != 'x' && verb != 'X')) {
        tail = num.substr(i);
        num.resize(i);
        break;
      } else {
        if (c != '0') saw_nonzero = true;
        if (saw_nonzero) --digits;
      }
    }
    if (!has_point) {
      if (num.size() == 2 && num[1] == '0') --digits;
      num += '.';
    }
    if (digits > 0) num.append(static_cast<size_t>(digits), '0');
    num += tail;
  }
  if (f_.plus || num[0] != '+') {
    if (f_.zero && f_.wid_present && f_.wid > static_cast<int>(num.size())) {
      out_ += num[0];  // the sign goes before the zeros
      WritePadding(f_.wid - static_cast<int>(num.size()));
      out_.append(num, 1);
      return;
    }
    Pad(num);
    return;
  }
  Pad(std::string_view(num).substr(1));
}

void Printer::FormatHexString(std::string_view s, const char* digits) {
  size_t length = s.size();
  if (f_.prec_present && static_cast<size_t>(f_.prec) < length)
    length = static_cast<size_t>(f_.prec);
  size_t width = 2 * length;
  if (width == 0) {
    if (f_.wid_present) WritePadding(f_.wid);
    return;
  }
  if (f_.space) {
    if (f_.sharp) width *= 2;
    width += length - 1;
  } else if (f_.sharp) {
    width += 2;
  }
  const int pad = f_.wid_present ? f_.wid - static_cast<int>(width) : 0;
  if (!f_.minus) WritePadding(pad);
  if (f_.sharp) out_ += std::string{'0', digits[16]};
  for (size_t i = 0; i < length; ++i) {
    if (f_.space && i > 0) {
      out_ += ' ';
      if (f_.sharp) out_ += std::string{'0', digits[16]};
    }
    const auto c = static_cast<unsigned char>(s[i]);
    out_ += digits[c >> 4];
    out_ += digits[c & 0xF];
  }
  if (f_.minus) WritePadding(pad);
}

void Printer::FormatQuoted(std::string_view s) {
  s = Truncate(s);
  if (f_.sharp && CanBackquote(s)) return Pad("`" + std::string(s) + "`");
  Pad(f_.plus ? GoQuoteToAscii(s) : GoQuote(s));
}

std::string_view Printer::Truncate(std::string_view s) const {
  if (!f_.prec_present) return s;
  size_t i = 0;
  for (int n = 0; n < f_.prec && i < s.size(); ++n) i += DecodeRune(s.substr(i)).size;
  return s.substr(0, i);
}

void Printer::Pad(std::string_view s) {
  if (!f_.wid_present || f_.wid == 0) {
    out_ += s;
    return;
  }
  const int width = f_.wid - static_cast<int>(std::min<size_t>(RuneCount(s), kMaxWidthOrPrecision));
  if (f_.minus) {
    out_ += s;
    WritePadding(width);
  } else {
    WritePadding(width);
    out_ += s;
  }
}

void Printer::WritePadding(int n) {
  if (n > 0) out_.append(static_cast<size_t>(n), f_.zero ? '0' : ' ');
}

}  // namespace

std::string_view GoTypeName(const GoValue& v) {
  static constexpr std::string_view kNames[] = {"string", "float64", "int", "bool", "<nil>"};
  return kNames[v.index()];
}

Result<std::string> GoSprintf(std::string_view format, std::span<const GoValue> args) {
  return Printer(args).Run(format);
}

std::string GoSprint(const GoValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  auto out = GoSprintf("%v", std::span<const GoValue>(&v, 1));
  return out.ok() ? *out : std::string();
}

}  // namespace vigil::rules
