#include "storage/chunkenc/packed_chunk.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <memory>
#include <random>

#include "chunk_test_util.h"
#include "storage/chunkenc/stored_chunk.h"

namespace vigil::storage {
namespace {

using testing::Bits;
using testing::ExpectSameSamples;
using testing::kStart;
using testing::kStep;
using testing::Regular;
using testing::XorOf;

// Bytes a packed chunk of epoch-millisecond samples spends outside its fields.
constexpr size_t kHeaderBudget = 24;

// Packs `samples` (which must suit packing) and checks the exact round trip.
std::string ExpectPackedRoundTrip(const std::vector<Sample>& samples) {
  auto packed = EncodePackedChunk(samples);
  EXPECT_TRUE(packed.has_value());
  if (!packed) return {};
  EXPECT_TRUE(IsPackedChunk(*packed));
  ExpectSameSamples(samples, *packed);
  return *packed;
}

TEST(PackedChunk, RoundTrip_SpecialValuesBecomeExceptionsWithTheirExactBits) {
  const double specials[] = {StaleNaN(),
                             std::bit_cast<double>(0x7ff8000000000abcULL),  // NaN payload
                             std::numeric_limits<double>::quiet_NaN(),
                             std::numeric_limits<double>::infinity(),
                             -std::numeric_limits<double>::infinity(),
                             -0.0,
                             std::numeric_limits<double>::denorm_min(),
                             std::numeric_limits<double>::max(),
                             0.1 + 0.2};  // not an exact decimal
  auto samples = Regular(100, [](int i) { return 1000.0 + i; });
  for (size_t j = 0; j < std::size(specials); ++j) samples[j * 11].v = specials[j];
  ExpectPackedRoundTrip(samples);
}

TEST(PackedChunk, RoundTrip_ExceptionsAtBothEndsAndAdjacent) {
  auto samples = Regular(40, [](int i) { return i * 2.5; });
  for (const int i : {0, 1, 2, 20, 38, 39}) samples[i].v = StaleNaN();
  ExpectPackedRoundTrip(samples);
}

TEST(PackedChunk, RoundTrip_IntegersNearAndBeyondTwoToThe53) {
  for (const double base : {0x1p53 - 64, 0x1p53, 0x1p60, 0x1p62 - 0x1p12, -0x1p61}) {
    SCOPED_TRACE(base);
    ExpectSameSamples(Regular(60, [&](int i) { return base + i * 2; }),
                      CompactChunk(XorOf(Regular(60, [&](int i) { return base + i * 2; }))));
  }
  // 2^62 and above cannot be decimals (their deltas could overflow): exceptions or XOR.
  const auto huge = Regular(30, [](int i) { return i == 7 ? 0x1p63 : i; });
  ExpectPackedRoundTrip(huge);
}

TEST(PackedChunk, RoundTrip_RandomChunksOfEveryKind) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 2000; ++round) {
    const int n = 1 + static_cast<int>(rng() % kMaxChunkSamples);
    const int kind = round % 6;
    const int decimals = static_cast<int>(rng() % 7);
    int64_t t = static_cast<int64_t>(rng() % 4'000'000'000'000ULL) - 2'000'000'000'000LL;
    int64_t m = static_cast<int64_t>(rng() % 1'000'000'000) - 500'000'000;
    std::vector<Sample> samples;
    for (int i = 0; i < n; ++i) {
      t += round % 3 == 0 ? kStep : static_cast<int64_t>(rng() % (round % 2 ? 60'000 : 4));
      m += static_cast<int64_t>(rng() % 5000);
      double v = 0;
      switch (kind) {
        case 0: v = std::bit_cast<double>(rng()); break;  // any bit pattern
        case 1: v = static_cast<double>(m); break;
        case 2: v = static_cast<double>(m) / std::pow(10.0, decimals); break;
        case 3: v = rng() % 8 == 0 ? std::bit_cast<double>(rng()) : static_cast<double>(m % 1000); break;
        case 4: v = static_cast<double>(rng() % 3) * 0x1p52 + static_cast<double>(rng() % 1024); break;
        default: v = static_cast<double>(rng()) / static_cast<double>(rng() | 1); break;
      }
      samples.push_back({t, v});
    }
    SCOPED_TRACE("round " + std::to_string(round));
    const std::string xor_chunk = XorOf(samples);
    const std::string stored = CompactChunk(xor_chunk);
    EXPECT_LE(stored.size(), xor_chunk.size());
    ExpectSameSamples(samples, stored);
    if (auto packed = EncodePackedChunk(samples)) ExpectSameSamples(samples, *packed);
  }
}

TEST(PackedChunk, Size_ConstantSeriesAtAConstantStepIsOnlyAHeader) {
  const auto packed = ExpectPackedRoundTrip(Regular(kMaxChunkSamples, [](int) { return 1.0e9; }));
  EXPECT_LE(packed.size(), kHeaderBudget);
}

TEST(PackedChunk, Size_IntegerCounterCostsItsIncrementSpreadInBits) {
  std::mt19937_64 rng(1);
  double v = 123456789;
  // Increments 3000..3063: 6 bits each as deltas.
  const auto samples = Regular(kMaxChunkSamples, [&](int) { return v += 3000 + static_cast<double>(rng() % 64); });
  const auto packed = ExpectPackedRoundTrip(samples);
  EXPECT_LE(packed.size(), kHeaderBudget + (kMaxChunkSamples - 1) * 6 / 8 + 1);
  EXPECT_LT(packed.size() * 3, XorOf(samples).size());
}

TEST(PackedChunk, Size_TwoDecimalValuesAreStoredAsHundredths) {
  std::mt19937_64 rng(2);
  double cents = 1'234'567;
  // CPU seconds with two decimals, 1.00 .. 1.99 s per scrape: 7 bits each.
  const auto samples = Regular(kMaxChunkSamples, [&](int) { return (cents += 100 + static_cast<double>(rng() % 100)) / 100; });
  const auto packed = ExpectPackedRoundTrip(samples);
  EXPECT_LE(packed.size(), kHeaderBudget + (kMaxChunkSamples - 1) * 7 / 8 + 1);
}

TEST(PackedChunk, Size_GaugeUsesValueFieldsNotDeltas) {
  std::mt19937_64 rng(3);
  // Independent values in [5000, 5255]: 8 bits as values, 9 as deltas.
  const auto samples = Regular(kMaxChunkSamples, [&](int) { return 5000.0 + static_cast<double>(rng() % 256); });
  const auto packed = ExpectPackedRoundTrip(samples);
  EXPECT_LE(packed.size(), kHeaderBudget + kMaxChunkSamples * 8 / 8);
}

TEST(PackedChunk, Size_GaugeInPagesStoresPageCounts) {
  std::mt19937_64 rng(8);
  // Free memory in 4 KiB pages, 0..1023 pages above 8 GB: 10 bits, not 22.
  const auto samples = Regular(kMaxChunkSamples, [&](int) { return 8.0e9 + static_cast<double>((rng() % 1024) * 4096); });
  const auto packed = ExpectPackedRoundTrip(samples);
  EXPECT_LE(packed.size(), kHeaderBudget + kMaxChunkSamples * 10 / 8);
}

TEST(PackedChunk, Encode_FullPrecisionFloatsAreLeftToXor) {
  std::mt19937_64 rng(4);
  const auto samples = Regular(50, [&](int) { return static_cast<double>(rng()) / 3.0; });
  EXPECT_FALSE(EncodePackedChunk(samples).has_value());
  const std::string xor_chunk = XorOf(samples);
  EXPECT_EQ(CompactChunk(xor_chunk), xor_chunk);
}

TEST(PackedChunk, Decode_EveryTruncationIsCorruption) {
  std::mt19937_64 rng(5);
  auto samples = Regular(80, [&](int i) { return i * 3.25 + static_cast<double>(rng() % 9); });
  samples[10].v = StaleNaN();
  samples[33].t += 7;  // jitter: timestamp fields of several bits
  const auto packed = ExpectPackedRoundTrip(samples);
  for (size_t len = 0; len < packed.size(); ++len) {
    auto out = DecodeChunk(std::string_view(packed).substr(0, len));
    ASSERT_FALSE(out.ok()) << "prefix of " << len << " bytes";
    EXPECT_EQ(out.status().code(), StatusCode::kCorruption);
  }
}

TEST(PackedChunk, Decode_BitFlipsNeverCrashAndKeepTheSampleCountBounded) {
  std::mt19937_64 rng(6);
  auto samples = Regular(120, [&](int i) { return i * 0.5 + static_cast<double>(rng() % 3); });
  samples[5].v = -0.0;
  const auto packed = ExpectPackedRoundTrip(samples);
  for (int round = 0; round < 5000; ++round) {
    std::string bad = packed;
    for (int flips = 1 + static_cast<int>(rng() % 3); flips > 0; --flips) {
      bad[rng() % bad.size()] ^= static_cast<char>(1 << (rng() % 8));
    }
    PackedChunkDecoder d(bad);
    size_t n = 0;
    while (d.Next()) ++n;
    EXPECT_LE(n, 0xffffu);
    EXPECT_TRUE(d.status().ok() || d.status().code() == StatusCode::kCorruption);
  }
}

}  // namespace
}  // namespace vigil::storage
