#include "web/api_params.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>

#include "promql/engine.h"
#include "base/duration.h"

namespace vigil::web {
namespace {

std::optional<double> ParseFloatText(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  double value = 0;
  const auto res = std::from_chars(text.data(), text.data() + text.size(), value);
  if (res.ec != std::errc() || res.ptr != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

// Reads exactly `n` digits at `pos`.
bool ReadDigits(std::string_view s, size_t& pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  pos += n;
  return true;
}

bool Expect(std::string_view s, size_t& pos, char c) {
  if (pos >= s.size() || (s[pos] != c && !(c == 'T' && s[pos] == 't'))) return false;
  ++pos;
  return true;
}

// RFC 3339 "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)".
std::optional<int64_t> ParseRfc3339(std::string_view s) {
  size_t pos = 0;
  int year, month, day, hour, minute, second;
  if (!ReadDigits(s, pos, 4, year) || !Expect(s, pos, '-') || !ReadDigits(s, pos, 2, month) ||
      !Expect(s, pos, '-') || !ReadDigits(s, pos, 2, day) || !Expect(s, pos, 'T') ||
      !ReadDigits(s, pos, 2, hour) || !Expect(s, pos, ':') || !ReadDigits(s, pos, 2, minute) ||
      !Expect(s, pos, ':') || !ReadDigits(s, pos, 2, second)) {
    return std::nullopt;
  }
  int64_t millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 3) millis = millis * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (int d = digits; d < 3; ++d) millis *= 10;
  }
  int64_t offset_s = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    const int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    int oh, om;
    if (!ReadDigits(s, pos, 2, oh) || !Expect(s, pos, ':') || !ReadDigits(s, pos, 2, om)) {
      return std::nullopt;
    }
    offset_s = sign * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  if (pos != s.size() || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 ||
      minute > 59 || second > 60) {
    return std::nullopt;
  }
  const std::chrono::year_month_day ymd{std::chrono::year(year),
                                        std::chrono::month(static_cast<unsigned>(month)),
                                        std::chrono::day(static_cast<unsigned>(day))};
  if (!ymd.ok()) return std::nullopt;
  const int64_t days = std::chrono::sys_days(ymd).time_since_epoch().count();
  const int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_s;
  return secs * 1000 + millis;
}

}  // namespace

Result<int64_t> ParseApiTime(std::string_view text) {
  if (const auto f = ParseFloatText(text); f && std::isfinite(*f)) {
    double whole = 0;
    const double frac = std::modf(*f, &whole);
    if (std::fabs(whole) < 9.2e15) {
      return static_cast<int64_t>(whole) * 1000 + std::llround(frac * 1000);
    }
  }
  if (const auto ms = ParseRfc3339(text)) return *ms;
  return Status::InvalidArgument("cannot parse \"" + std::string(text) + "\" to a valid timestamp");
}

Result<int64_t> ParseApiDuration(std::string_view text) {
  if (const auto f = ParseFloatText(text)) {
    const double ns = *f * 1e9;
    if (ns >= 9.223372036854775807e18 || ns <= -9.223372036854775807e18 || std::isnan(ns)) {
      return Status::InvalidArgument("cannot parse \"" + std::string(text) +
                                     "\" to a valid duration. It overflows int64");
    }
    const auto ns_int = static_cast<int64_t>(ns);
    int64_t ms = ns_int / 1'000'000;
    if (ms == 0 && ns_int > 0) ms = 1;
    return ms;
  }
  auto d = ParseDuration(text);
  if (d.ok() && !text.empty()) return d;
  return Status::InvalidArgument("cannot parse \"" + std::string(text) + "\" to a valid duration");
}

Result<int64_t> TimeParamOr(const HttpCall& call, const std::string& name, int64_t default_ms) {
  const std::string text = call.Param(name);
  if (text.empty()) return default_ms;
  auto t = ParseApiTime(text);
  if (t.ok()) return t;
  return Status::InvalidArgument("invalid parameter \"" + name + "\": Invalid time value for '" +
                                 name + "': " + t.status().message());
}

Result<std::vector<LabelMatchers>> MatchParams(const HttpCall& call, MatchErrorPrefix style) {
  const std::string prefix =
      style == MatchErrorPrefix::kNamed ? "invalid parameter \"match[]\": " : "";
  std::vector<LabelMatchers> sets;
  for (const auto& text : call.Params("match[]")) {
    auto matchers = promql::ParseSeriesSelector(text);
    if (!matchers.ok()) return Status::InvalidArgument(prefix + matchers.status().message());
    bool has_non_empty = false;
    for (const auto& m : *matchers) has_non_empty = has_non_empty || !m.MatchesEmpty();
    if (!has_non_empty) {
      return Status::InvalidArgument(prefix +
                                     "match[] must contain at least one non-empty matcher");
    }
    sets.push_back(std::move(matchers).value());
  }
  return sets;
}

std::string FormatRfc3339(int64_t ms) {
  const int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  const int64_t millis = ms - secs * 1000;
  const std::chrono::sys_days days{
      std::chrono::days(secs >= 0 ? secs / 86400 : (secs - 86399) / 86400)};
  const std::chrono::year_month_day ymd(days);
  const int64_t rem = secs - days.time_since_epoch().count() * 86400;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(rem / 3600), static_cast<int>(rem % 3600 / 60),
                static_cast<int>(rem % 60));
  std::string out = buf;
  if (millis != 0) {
    int64_t frac = millis;
    int digits = 3;
    while (frac % 10 == 0) {
      frac /= 10;
      --digits;
    }
    std::snprintf(buf, sizeof(buf), ".%0*lld", digits, static_cast<long long>(frac));
    out += buf;
  }
  out += 'Z';
  return out;
}

}  // namespace vigil::web
