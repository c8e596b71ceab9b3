// Durations and byte sizes as Prometheus writes them in flags, configs and PromQL.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace vigil {

// Parses "1h30m", "5m", "10s", "100ms", "2d", "1w", "1y" (units in decreasing
// order, each at most once) into milliseconds, as Prometheus's model.ParseDuration.
// "0" is allowed. Errors say `not a valid duration string: "..."`.
Result<int64_t> ParseDuration(std::string_view text);

// Formats milliseconds the way Prometheus prints durations: "1h30m", "5m", "0s".
std::string FormatDuration(int64_t ms);

// Formats a retention period as operators write it: whole days as "45d"
// (not Prometheus's "6w3d"), anything else as FormatDuration.
std::string FormatRetentionDuration(int64_t ms);

// Parses a byte size with base-2 units: "512MB", "10GB", "1KiB", "100B".
Result<int64_t> ParseByteSize(std::string_view text);

// Formats a byte size as Prometheus prints it ("512MiB", "10GiB", "0B").
std::string FormatByteSize(int64_t bytes);

}  // namespace vigil
