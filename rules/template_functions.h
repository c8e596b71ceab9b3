// The function table of alert templates: which names Prometheus 2.42 defines
// (Go's text/template builtins plus Prometheus's own), and the ones Vigil
// implements, with Go's results for every input, including NaN, ±Inf, huge
// and negative numbers.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "rules/go_format.h"
#include "base/status.h"

namespace vigil::rules {

// What a template function may read besides its arguments.
struct TemplateFunctionContext {
  std::string_view external_url;
};

// True if Prometheus's templates know `name` (Vigil may still not implement it).
bool IsTemplateFunctionDefined(std::string_view name);

// Calls function `name`; `args` are the operands, the piped value last.
// Errors are Go's texts ("error calling humanize: strconv.ParseFloat: ...").
Result<GoValue> CallTemplateFunction(std::string_view name, std::span<const GoValue> args,
                                     const TemplateFunctionContext& context);

// Go's template truth: false, 0, "" and nil are false.
bool IsTruthy(const GoValue& v);

// strconv.ParseFloat(s, 64), with Go's error texts.
Result<double> GoParseFloat(std::string_view s);

// Go's float64 -> int64 conversion as it behaves on amd64: NaN and values out
// of range give the minimum int64 (C++ leaves them undefined).
int64_t GoFloatToInt64(double v);

}  // namespace vigil::rules
