#include "base/utf8.h"

namespace vigil {

DecodedRune DecodeRune(std::string_view s) {
  const auto b0 = static_cast<unsigned char>(s[0]);
  if (b0 < 0x80) return {b0, 1};
  size_t n = 0;
  char32_t r = 0, min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2, r = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3, r = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4, r = b0 & 0x07, min = 0x10000;
  } else {
    return {kRuneError, 1};
  }
  if (s.size() < n) return {kRuneError, 1};
  for (size_t i = 1; i < n; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if ((b & 0xC0) != 0x80) return {kRuneError, 1};
    r = r << 6 | (b & 0x3F);
  }
  if (r < min || !IsValidRune(r)) return {kRuneError, 1};
  return {r, n};
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {  // the common case, without a call
      ++i;
      continue;
    }
    const DecodedRune d = DecodeRune(s.substr(i));
    // A literal U+FFFD decodes from 3 bytes; only a 1-byte decode is an error.
    if (d.rune == kRuneError && d.size == 1) return false;
    i += d.size;
  }
  return true;
}

bool IsValidRune(char32_t r) { return r <= kMaxRune && !(r >= 0xD800 && r <= 0xDFFF); }

void AppendRune(std::string& out, char32_t r) {
  if (!IsValidRune(r)) r = kRuneError;
  if (r < 0x80) {
    out += static_cast<char>(r);
  } else if (r < 0x800) {
    out += static_cast<char>(0xC0 | r >> 6);
    out += static_cast<char>(0x80 | (r & 0x3F));
  } else if (r < 0x10000) {
    out += static_cast<char>(0xE0 | r >> 12);
    out += static_cast<char>(0x80 | (r >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (r & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | r >> 18);
    out += static_cast<char>(0x80 | (r >> 12 & 0x3F));
    out += static_cast<char>(0x80 | (r >> 6 & 0x3F));
    out += static_cast<char>(0x80 | (r & 0x3F));
  }
}

}  // namespace vigil
