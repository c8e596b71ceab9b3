// Go's fmt for the values an alert template hands to `printf` and prints:
// string, float64, int, bool and nil. Output is byte-for-byte what Go's
// fmt.Sprintf prints (checked against Prometheus 2.42, see
// tests/rules/go_format_test.cc), including its in-band error texts:
//   %!d(MISSING)             a verb without an argument
//   %!(EXTRA string=foo)     arguments left over
//   %!d(string=abc)          a verb that does not fit the argument's type
//   %!z(int=1)               an unknown verb (%n included: nothing writes back)
//   %!(NOVERB) %!(BADWIDTH) %!(BADPREC) %!s(BADINDEX)
// The format never decides what memory is read: arguments are typed values.
// Widths and precisions above 10^6 are refused as Go refuses them, and the
// output of one call is capped at kMaxGoFormatOutput bytes (Go has no cap).
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "base/quote.h"  // GoQuote: strconv.Quote, as the template engine quotes in errors
#include "base/status.h"

namespace vigil::rules {

struct GoNil {
  auto operator<=>(const GoNil&) const = default;
};

// A Go value as text/template passes it on: string, float64, int, bool, nil.
using GoValue = std::variant<std::string, double, int64_t, bool, GoNil>;

// Longest output of one GoSprintf call; longer output is an error.
inline constexpr size_t kMaxGoFormatOutput = 1 << 20;

// Go's type name of `v` ("string", "float64", "int", "bool"; "<nil>" for nil).
std::string_view GoTypeName(const GoValue& v);

// fmt.Sprintf(format, args...). Fails only when the output would exceed
// kMaxGoFormatOutput bytes.
Result<std::string> GoSprintf(std::string_view format, std::span<const GoValue> args);

// fmt.Sprint(v): how text/template prints a pipeline's value (%v).
std::string GoSprint(const GoValue& v);

// `s` with every byte that is not part of valid UTF-8 replaced by U+FFFD, as
// Go's JSON encoder writes such strings.
std::string ReplaceInvalidUtf8(std::string_view s);

// strconv.FormatFloat(v, verb, prec, 64) for verbs e E f g G x X b; prec -1
// asks for the fewest digits that read back as `v`.
std::string GoFormatFloat(double v, char verb, int prec);

}  // namespace vigil::rules
