#include "base/duration.h"

#include <array>
#include <limits>

namespace vigil {
namespace {

struct Unit {
  std::string_view name;
  int64_t ms;
};

// Largest first: the order units must appear in, and the order FormatDuration uses.
constexpr std::array<Unit, 7> kDurationUnits = {{
    {"y", 365LL * 24 * 3600 * 1000},
    {"w", 7LL * 24 * 3600 * 1000},
    {"d", 24LL * 3600 * 1000},
    {"h", 3600LL * 1000},
    {"m", 60LL * 1000},
    {"s", 1000},
    {"ms", 1},
}};

Status BadDuration(std::string_view text) {
  return Status::InvalidArgument("not a valid duration string: \"" + std::string(text) + "\"");
}

// Matches the unit at the start of `s`; "ms" wins over "m".
int MatchUnit(std::string_view s) {
  if (s.starts_with("ms")) return 6;
  for (int i = 0; i < 6; ++i) {
    if (s.starts_with(kDurationUnits[i].name)) return i;
  }
  return -1;
}

}  // namespace

Result<int64_t> ParseDuration(std::string_view text) {
  if (text == "0") return int64_t{0};
  if (text.empty()) return BadDuration(text);
  std::string_view s = text;
  int64_t total = 0;
  int last_unit = -1;
  while (!s.empty()) {
    size_t digits = 0;
    int64_t n = 0;
    while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') {
      if (n > std::numeric_limits<int64_t>::max() / 10) return BadDuration(text);
      n = n * 10 + (s[digits] - '0');
      ++digits;
    }
    if (digits == 0) return BadDuration(text);
    s.remove_prefix(digits);
    int unit = MatchUnit(s);
    if (unit < 0 || unit <= last_unit) return BadDuration(text);
    last_unit = unit;
    s.remove_prefix(kDurationUnits[unit].name.size());
    if (n > std::numeric_limits<int64_t>::max() / kDurationUnits[unit].ms) {
      return BadDuration(text);
    }
    const int64_t part = n * kDurationUnits[unit].ms;
    if (part > std::numeric_limits<int64_t>::max() - total) return BadDuration(text);
    total += part;
  }
  return total;
}

std::string FormatDuration(int64_t ms) {
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  for (const auto& u : kDurationUnits) {
    if (ms >= u.ms) {
      out += std::to_string(ms / u.ms) + std::string(u.name);
      ms %= u.ms;
    }
  }
  return out;
}

Result<int64_t> ParseByteSize(std::string_view text) {
  static constexpr std::array<std::string_view, 7> kUnits = {"B", "K", "M", "G", "T", "P", "E"};
  size_t digits = 0;
  int64_t n = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    if (n > std::numeric_limits<int64_t>::max() / 10) break;
    n = n * 10 + (text[digits] - '0');
    ++digits;
  }
  std::string_view unit = text.substr(digits);
  auto bad = Status::InvalidArgument("invalid byte size \"" + std::string(text) +
                                     "\": expected a number and a unit (B, KB, MB, GB, TB, PB, EB)");
  if (digits == 0 || unit.empty()) return bad;
  for (size_t i = 0; i < kUnits.size(); ++i) {
    bool match = i == 0 ? unit == "B"
                        : (unit == std::string(kUnits[i]) + "B" ||
                           unit == std::string(kUnits[i]) + "iB");
    if (!match) continue;
    int64_t mult = int64_t{1} << (10 * i);
    if (n > std::numeric_limits<int64_t>::max() / mult) return bad;
    return n * mult;
  }
  return bad;
}

std::string FormatByteSize(int64_t bytes) {
  static constexpr std::array<std::string_view, 7> kUnits = {"B",   "KiB", "MiB", "GiB",
                                                             "TiB", "PiB", "EiB"};
  size_t i = 0;
  while (i + 1 < kUnits.size() && bytes != 0 && bytes % 1024 == 0) {
    bytes /= 1024;
    ++i;
  }
  return std::to_string(bytes) + std::string(kUnits[i]);
}

std::string FormatRetentionDuration(int64_t ms) {
  constexpr int64_t kDay = 24LL * 3600 * 1000;
  if (ms > 0 && ms % kDay == 0) return std::to_string(ms / kDay) + "d";
  return FormatDuration(ms);
}

}  // namespace vigil
