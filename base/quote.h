// Go's string and rune literals (strconv.Quote and friends): how Prometheus
// quotes a value in an error message or a printed expression (`%q`).
#pragma once

#include <string>
#include <string_view>

namespace vigil {

// strconv.Quote: a double-quoted Go string literal. `"` and `\` are escaped,
// non-printable runes as \n, \t, \xNN, \uNNNN or \UNNNNNNNN, bytes that are
// not valid UTF-8 as \xNN; printable Unicode stays as it is.
std::string GoQuote(std::string_view s);

// strconv.QuoteToASCII (`%+q`): as GoQuote, and every non-ASCII rune escaped too.
std::string GoQuoteToAscii(std::string_view s);

// strconv.QuoteRune (`%q` of a rune): a single-quoted Go rune literal;
// `ascii_only` as QuoteRuneToASCII.
std::string GoQuoteRune(char32_t r, bool ascii_only);

// strconv.IsPrint without Go's Unicode tables: ASCII exactly; beyond ASCII,
// every valid rune except the C1 controls, the spaces other than U+0020, the
// format characters rule texts meet (soft hyphen, zero-width and bidi marks,
// BOM) and the noncharacters. Unassigned code points count as printable.
bool IsGoPrint(char32_t r);

// strconv.CanBackquote: whether `s` can be a Go raw string literal.
bool CanBackquote(std::string_view s);

}  // namespace vigil
