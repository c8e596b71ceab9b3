// GoQuote and friends: Go's strconv.Quote family, as Prometheus's %q prints
// values in errors and expressions.
#include "base/quote.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

TEST(GoQuote, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(GoQuote(""), "\"\"");
  EXPECT_EQ(GoQuote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(GoQuote("\a\b\f\n\r\t\v"), "\"\\a\\b\\f\\n\\r\\t\\v\"");
  EXPECT_EQ(GoQuote(std::string_view("\x00\x01\x7f", 3)), "\"\\x00\\x01\\x7f\"");
}

TEST(GoQuote, KeepsPrintableUnicodeAndEscapesTheRest) {
  EXPECT_EQ(GoQuote("héllo ✓ 𝄞"), "\"héllo ✓ 𝄞\"");
  EXPECT_EQ(GoQuote("\u200b"), "\"\\u200b\"");        // zero-width space
  EXPECT_EQ(GoQuote("\xc2\x85"), "\"\\u0085\"");      // C1 control
  EXPECT_EQ(GoQuote("\xef\xbf\xbf"), "\"\\uffff\"");  // noncharacter
}

TEST(GoQuote, InvalidUtf8BytesAreHexEscaped) {
  EXPECT_EQ(GoQuote("a\xff\xc3"), "\"a\\xff\\xc3\"");
  EXPECT_EQ(GoQuote("\xed\xa0\x80"), "\"\\xed\\xa0\\x80\"");  // surrogate
}

TEST(GoQuote, ToAsciiEscapesEveryNonAsciiRune) {
  EXPECT_EQ(GoQuoteToAscii("é✓𝄞"), "\"\\u00e9\\u2713\\U0001d11e\"");
  EXPECT_EQ(GoQuoteToAscii("a\xff"), "\"a\\xff\"");
}

TEST(GoQuote, RuneLiterals) {
  EXPECT_EQ(GoQuoteRune('a', false), "'a'");
  EXPECT_EQ(GoQuoteRune('\'', false), "'\\''");
  EXPECT_EQ(GoQuoteRune('"', false), "'\"'");
  EXPECT_EQ(GoQuoteRune(U'é', true), "'\\u00e9'");
  EXPECT_EQ(GoQuoteRune(0xD800, false), "'�'");  // not a rune: U+FFFD
}

TEST(GoQuote, CanBackquote) {
  EXPECT_TRUE(CanBackquote("a\tb \"c\""));
  EXPECT_FALSE(CanBackquote("a`b"));
  EXPECT_FALSE(CanBackquote("a\nb"));
  EXPECT_FALSE(CanBackquote("a\xff"));
}

}  // namespace
}  // namespace vigil
