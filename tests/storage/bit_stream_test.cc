#include "storage/chunkenc/bit_stream.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace vigil::storage {
namespace {

// The definition of the stream: bit i of the output is the i-th bit written,
// most significant bit of each byte first, unused bits of the last byte zero.
void ReferenceWrite(std::string* buf, size_t* bits, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) {
    if (*bits % 8 == 0) buf->push_back(0);
    if ((v >> i) & 1) buf->back() = static_cast<char>(buf->back() | (0x80 >> (*bits % 8)));
    ++*bits;
  }
}

TEST(BitStream, WriteBits_SameBytesAsWritingOneBitAtATime) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 200; ++round) {
    std::string fast, slow;
    size_t slow_bits = 0;
    BitWriter w(&fast);
    for (int k = 0; k < 100; ++k) {
      const int n = static_cast<int>(rng() % 65);  // 0..64, upper bits of v set on purpose
      const uint64_t v = rng();
      w.WriteBits(v, n);
      ReferenceWrite(&slow, &slow_bits, v, n);
      ASSERT_EQ(fast, slow) << "round " << round << " write " << k << " n=" << n;
      ASSERT_EQ(w.used_bits(), slow_bits % 8);
    }
  }
}

TEST(BitStream, WriteBits_ContinuesAPartlyUsedLastByteAndReadsBack) {
  std::string buf(1, static_cast<char>(0xA0));  // 101 then 5 free bits
  BitWriter w(&buf, 3);
  w.WriteBits(0b11, 2);
  w.WriteBits(0x123456789abcdef0ULL, 64);
  w.WriteBits(1, 1);
  BitReader r(buf);
  uint64_t got = 0;
  ASSERT_TRUE(r.ReadBits(5, &got));
  EXPECT_EQ(got, 0b10111u);
  ASSERT_TRUE(r.ReadBits(64, &got));
  EXPECT_EQ(got, 0x123456789abcdef0ULL);
  ASSERT_TRUE(r.ReadBits(1, &got));
  EXPECT_EQ(got, 1u);
  EXPECT_EQ(r.position(), 70u);
  EXPECT_EQ(buf.size(), 9u);
  EXPECT_EQ(w.used_bits(), 70 % 8);
}

}  // namespace
}  // namespace vigil::storage
