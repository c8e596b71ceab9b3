// Parsing of the API's common parameters with Prometheus 2.42's rules and
// error wording: timestamps (RFC 3339 or Unix seconds with fractions),
// durations (Prometheus duration or float seconds) and match[] selectors.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/matcher.h"
#include "base/status.h"
#include "web/http_router.h"

namespace vigil::web {

// "1700000000.123" or "2023-11-14T22:13:20.123Z" -> milliseconds. Error:
// `cannot parse "x" to a valid timestamp`.
Result<int64_t> ParseApiTime(std::string_view text);
// "5m", "1h30m" or "15.5" (seconds) -> milliseconds (a positive sub-millisecond
// float rounds up to 1 ms). Error: `cannot parse "x" to a valid duration`.
Result<int64_t> ParseApiDuration(std::string_view text);

// A time parameter that may be absent (then `default_ms`), with the wrapped
// message `invalid parameter "start": Invalid time value for 'start': ...`.
Result<int64_t> TimeParamOr(const HttpCall& call, const std::string& name, int64_t default_ms);

// How a bad match[] is reported: Prometheus 2.42 prefixes `invalid parameter
// "match[]": ` for series, federation and admin calls but not for the label
// names/values endpoints.
enum class MatchErrorPrefix { kNamed, kBare };

// Every match[] selector, each parsed and required to contain a matcher that
// rejects the empty string.
Result<std::vector<LabelMatchers>> MatchParams(const HttpCall& call,
                                               MatchErrorPrefix style = MatchErrorPrefix::kNamed);

// Formats milliseconds as RFC 3339 with nanosecond digits trimmed, as Go's
// time.Time marshals ("2026-11-25T16:32:42.156Z").
std::string FormatRfc3339(int64_t ms);

}  // namespace vigil::web
