// IsValidUtf8: Go's utf8.Valid, what Prometheus accepts in label values,
// help texts and rule files.
#include "base/utf8.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

TEST(Utf8, WellFormedText_IsValid) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("héllo ✓ 𝄞"));
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF, the last code point
}

TEST(Utf8, SurrogatesAndBeyondU10FFFF_AreInvalid) {
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // U+D800, a surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // U+110000
}

TEST(Utf8, TruncatedOrOverlongSequences_AreInvalid) {
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));      // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));      // overlong '/'
  EXPECT_FALSE(IsValidUtf8("ok\xff"));        // a byte that never starts a sequence
  EXPECT_FALSE(IsValidUtf8("\x80"));          // a lone continuation byte
}

}  // namespace
}  // namespace vigil
