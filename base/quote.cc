#include "base/quote.h"

#include <cstdint>
#include <utility>

#include "base/utf8.h"

namespace vigil {
namespace {

void AppendHex(std::string& out, uint32_t v, int digits) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) out += kDigits[v >> shift & 0xF];
}

// strconv's appendEscapedRune: `r` as it stands inside a `quote`-quoted literal.
void AppendEscapedRune(std::string& out, char32_t r, char quote, bool ascii_only) {
  if (r == static_cast<char32_t>(quote) || r == '\\') {
    out += '\\';
    out += static_cast<char>(r);
    return;
  }
  if (ascii_only ? (r < 0x80 && IsGoPrint(r)) : IsGoPrint(r)) {
    AppendRune(out, r);
    return;
  }
  static constexpr std::pair<char32_t, const char*> kEscapes[] = {
      {'\a', "\\a"}, {'\b', "\\b"}, {'\f', "\\f"}, {'\n', "\\n"},
      {'\r', "\\r"}, {'\t', "\\t"}, {'\v', "\\v"}};
  for (const auto& [c, text] : kEscapes) {
    if (r == c) {
      out += text;
      return;
    }
  }
  if (r < ' ' || r == 0x7F) {
    out += "\\x";
    AppendHex(out, r, 2);
  } else if (r < 0x10000 || !IsValidRune(r)) {
    out += "\\u";
    AppendHex(out, IsValidRune(r) ? r : kRuneError, 4);
  } else {
    out += "\\U";
    AppendHex(out, r, 8);
  }
}

std::string Quote(std::string_view s, bool ascii_only) {
  std::string out(1, '"');
  while (!s.empty()) {
    const DecodedRune d = DecodeRune(s);
    if (d.size == 1 && d.rune == kRuneError) {
      out += "\\x";
      AppendHex(out, static_cast<unsigned char>(s[0]), 2);
    } else {
      AppendEscapedRune(out, d.rune, '"', ascii_only);
    }
    s.remove_prefix(d.size);
  }
  return out + '"';
}

}  // namespace

std::string GoQuote(std::string_view s) { return Quote(s, false); }

std::string GoQuoteToAscii(std::string_view s) { return Quote(s, true); }

std::string GoQuoteRune(char32_t r, bool ascii_only) {
  std::string out(1, '\'');
  AppendEscapedRune(out, IsValidRune(r) ? r : kRuneError, '\'', ascii_only);
  return out + '\'';
}

bool IsGoPrint(char32_t r) {
  if (r < 0x80) return r >= 0x20 && r < 0x7F;
  if (!IsValidRune(r) || r <= 0xA0 || r == 0xAD || r == 0x1680) return false;
  if ((r >= 0x2000 && r <= 0x200F) || (r >= 0x2028 && r <= 0x202F)) return false;
  if ((r >= 0x205F && r <= 0x206F) || r == 0x3000 || r == 0xFEFF) return false;
  if ((r >= 0xFFF9 && r <= 0xFFFB) || (r & 0xFFFE) == 0xFFFE) return false;
  return !(r >= 0xFDD0 && r <= 0xFDEF);
}

bool CanBackquote(std::string_view s) {
  while (!s.empty()) {
    const DecodedRune d = DecodeRune(s);
    if (d.size == 1 && d.rune == kRuneError) return false;
    if (d.rune == '`' || d.rune == 0xFEFF || d.rune == 0x7F) return false;
    if (d.rune < ' ' && d.rune != '\t') return false;
    s.remove_prefix(d.size);
  }
  return true;
}

}  // namespace vigil
