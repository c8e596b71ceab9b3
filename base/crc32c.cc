#include "base/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace vigil {
namespace {

constexpr uint32_t kPolynomial = 0x82f63b78;  // reflected Castagnoli polynomial

constexpr std::array<uint32_t, 256> MakeTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPolynomial : c >> 1;
    table[i] = c;
  }
  return table;
}

constexpr std::array<uint32_t, 256> kTable = MakeTable();

// One byte per step through the table: the portable path.
uint32_t ExtendPortable(uint32_t c, std::string_view data) {
  for (const char ch : data) c = kTable[(c ^ static_cast<uint8_t>(ch)) & 0xff] ^ (c >> 8);
  return c;
}

#if defined(__x86_64__)
// SSE 4.2's crc32 instruction computes CRC-32C itself, eight bytes a step.
__attribute__((target("sse4.2"))) uint32_t ExtendSse42(uint32_t c, std::string_view data) {
  const char* p = data.data();
  size_t n = data.size();
  uint64_t c64 = c;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t word;
    std::memcpy(&word, p, sizeof(word));
    c64 = _mm_crc32_u64(c64, word);
  }
  c = static_cast<uint32_t>(c64);
  for (; n > 0; ++p, --n) c = _mm_crc32_u8(c, static_cast<uint8_t>(*p));
  return c;
}

// __builtin_cpu_init first: this initializer may run before libgcc's own.
const bool kHaveSse42 = [] {
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2") != 0;
}();
#endif

}  // namespace

uint32_t Crc32c(std::string_view data) {
#if defined(__x86_64__)
  if (kHaveSse42) return ExtendSse42(0xffffffffu, data) ^ 0xffffffffu;
#endif
  return ExtendPortable(0xffffffffu, data) ^ 0xffffffffu;
}

namespace internal {
uint32_t Crc32cPortable(std::string_view data) {
  return ExtendPortable(0xffffffffu, data) ^ 0xffffffffu;
}
}  // namespace internal

}  // namespace vigil
