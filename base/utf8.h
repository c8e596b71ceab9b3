// UTF-8 as Go's unicode/utf8 package: validation (what Prometheus accepts in
// label values, help texts and rule files), decoding and encoding of runes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace vigil {

// utf8.RuneError (U+FFFD) and utf8.MaxRune.
inline constexpr char32_t kRuneError = 0xFFFD;
inline constexpr char32_t kMaxRune = 0x10FFFF;

// Whether `s` is valid UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view s);

struct DecodedRune {
  char32_t rune;
  size_t size;  // bytes taken from the input
};

// utf8.DecodeRuneInString for a non-empty `s`: the first rune and its size;
// an invalid or truncated sequence decodes as (kRuneError, 1).
DecodedRune DecodeRune(std::string_view s);

// utf8.ValidRune: a Unicode scalar value (not a surrogate, at most kMaxRune).
bool IsValidRune(char32_t r);

// utf8.AppendRune: the UTF-8 encoding of `r` (kRuneError's if `r` is not valid).
void AppendRune(std::string& out, char32_t r);

}  // namespace vigil
