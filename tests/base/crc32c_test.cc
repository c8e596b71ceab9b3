// CRC-32C: known answers (RFC 3720's test vectors), and the hardware path
// agreeing with the table path on every length and alignment.
#include "base/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace vigil {
namespace {

TEST(Crc32c, KnownAnswers) {
  EXPECT_EQ(Crc32c(""), 0u);
  EXPECT_EQ(Crc32c("123456789"), 0xe3069283u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8a9136aau);    // RFC 3720 B.4: 32 zero bytes
  EXPECT_EQ(Crc32c(std::string(32, '\xff')), 0x62a8ab43u);  // 32 bytes of 0xff
  std::string ascending;
  for (int i = 0; i < 32; ++i) ascending.push_back(static_cast<char>(i));
  EXPECT_EQ(Crc32c(ascending), 0x46dd794eu);
}

TEST(Crc32c, HardwareAndTablePathsAgreeOnEveryLengthAndOffset) {
  std::mt19937 rng(7);
  std::string buf(300, '\0');
  for (char& c : buf) c = static_cast<char>(rng());
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t len = 0; offset + len <= buf.size(); ++len) {
      const std::string_view data(buf.data() + offset, len);
      ASSERT_EQ(Crc32c(data), internal::Crc32cPortable(data)) << offset << " " << len;
    }
  }
}

}  // namespace
}  // namespace vigil
