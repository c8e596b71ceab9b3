// UTF-8 validation, as Go's utf8.Valid: what Prometheus accepts in label
// values, help texts and rule files.
#pragma once

#include <string_view>

namespace vigil {

// Whether `s` is valid UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view s);

}  // namespace vigil
