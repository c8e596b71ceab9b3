#include "storage/chunkenc/xor_chunk.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>

namespace vigil::storage {
namespace {

uint64_t Bits(double v) { return std::bit_cast<uint64_t>(v); }

void ExpectRoundTrip(const std::vector<Sample>& in) {
  XorChunkEncoder enc;
  for (const auto& s : in) enc.Append(s.t, s.v);
  auto out = DecodeChunk(enc.bytes());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ((*out)[i].t, in[i].t) << "sample " << i;
    EXPECT_EQ(Bits((*out)[i].v), Bits(in[i].v)) << "sample " << i;
  }
}

TEST(XorChunk, RoundTrip_SpecialValuesKeepTheirExactBits) {
  const double payload_nan = std::bit_cast<double>(0x7ff8000000000abcULL);
  ExpectRoundTrip({{1000, 1.5},
                   {2000, StaleNaN()},
                   {3000, std::numeric_limits<double>::quiet_NaN()},
                   {4000, payload_nan},
                   {5000, std::numeric_limits<double>::infinity()},
                   {6000, -std::numeric_limits<double>::infinity()},
                   {7000, -0.0},
                   {8000, 0.0},
                   {9000, std::numeric_limits<double>::denorm_min()},
                   {10000, std::numeric_limits<double>::max()}});
}

TEST(XorChunk, RoundTrip_EveryDeltaOfDeltaBucket) {
  std::vector<Sample> in;
  int64_t t = -5'000'000;  // negative timestamps too
  const int64_t steps[] = {15000, 15000, 15001, 14000, 30000, 100000, 700000, 3'000'000'000LL, 1, 1, 2};
  for (const int64_t step : steps) {
    in.push_back({t, static_cast<double>(t) / 7});
    t += step;
  }
  ExpectRoundTrip(in);
}

TEST(XorChunk, RoundTrip_RandomSeries) {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 200; ++round) {
    std::vector<Sample> in;
    int64_t t = static_cast<int64_t>(rng() % 2'000'000'000'000ULL);
    const int n = 1 + static_cast<int>(rng() % kMaxChunkSamples);
    double v = 0;
    for (int i = 0; i < n; ++i) {
      t += 1 + static_cast<int64_t>(rng() % (round % 2 ? 60000 : 30));
      switch (rng() % 4) {
        case 0: v = std::bit_cast<double>(rng()); break;  // any bit pattern, NaNs included
        case 1: v += 1; break;
        case 2: break;
        default: v = static_cast<double>(rng() % 1000) / 10; break;
      }
      in.push_back({t, v});
    }
    ExpectRoundTrip(in);
  }
}

// The encoding is an on-disk format: the bytes of a fixed pseudo-random
// mix of samples (every timestamp bucket, narrow and wide XOR windows, NaNs)
// are pinned by their FNV-1a digest, taken from the field-by-field writer
// before BitWriter's one-word path and the encoder's merged writes.
TEST(XorChunk, Encode_BytesAreUnchangedForAFixedInput) {
  std::mt19937_64 rng(7);
  uint64_t digest = 1469598103934665603ULL;
  size_t total = 0;
  for (int round = 0; round < 300; ++round) {
    XorChunkEncoder enc;
    int64_t t = static_cast<int64_t>(rng() % 2'000'000'000'000ULL);
    double v = 0;
    const int n = 1 + static_cast<int>(rng() % kMaxChunkSamples);
    for (int i = 0; i < n; ++i) {
      const uint64_t r = rng();
      t += (r % 3 == 0) ? 15000
                        : 1 + static_cast<int64_t>(rng() % (round % 3 == 0 ? 5'000'000 : 40));
      switch (rng() % 5) {
        case 0:
          v = std::bit_cast<double>(rng());
          break;
        case 1:
          v += 1;
          break;
        case 2:
          break;
        case 3:
          v = static_cast<double>(rng() % 100000) / 1000;
          break;
        default:
          v = std::bit_cast<double>(std::bit_cast<uint64_t>(v) ^ (rng() & 0xffff));
          break;
      }
      enc.Append(t, v);
    }
    for (const char c : enc.bytes()) {
      digest = (digest ^ static_cast<uint8_t>(c)) * 1099511628211ULL;
    }
    total += enc.bytes().size();
  }
  EXPECT_EQ(total, 182078u);
  EXPECT_EQ(digest, 5051626447910870729ULL);
}

TEST(XorChunk, Compression_RegularCounterUsesAboutOneBytePerSample) {
  XorChunkEncoder enc;
  for (int i = 0; i < kMaxChunkSamples; ++i) enc.Append(1'700'000'000'000 + i * 15000, 1000.0 + i * 3);
  EXPECT_LT(static_cast<double>(enc.bytes().size()) / kMaxChunkSamples, 3.0);
}

TEST(XorChunk, Decode_TruncatedChunkReportsCorruption) {
  XorChunkEncoder enc;
  for (int i = 0; i < 50; ++i) enc.Append(i * 1000, i * 0.37);
  const std::string cut = enc.bytes().substr(0, enc.bytes().size() / 2);
  auto out = DecodeChunk(cut);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kCorruption);
}

TEST(XorChunk, Decode_EmptyInputIsCorruptionNotACrash) {
  EXPECT_FALSE(DecodeChunk("").ok());
  EXPECT_FALSE(DecodeChunk("\x01").ok());
}

// Resuming an encoder from its bytes (or restoring it from its state and
// bytes) at every split point and appending the rest gives the same bytes as
// appending everything to one encoder.
void ExpectResumeMatches(const std::vector<Sample>& in) {
  XorChunkEncoder whole;
  for (const auto& s : in) whole.Append(s.t, s.v);
  for (size_t split = 0; split <= in.size(); ++split) {
    XorChunkEncoder head;
    for (size_t i = 0; i < split; ++i) head.Append(in[i].t, in[i].v);
    std::string state;
    head.PutState(&state);
    const bool restore = split % 2 == 1;  // both ways, at alternate splits
    auto resumed = restore ? XorChunkEncoder::Restore(state + head.bytes())
                           : XorChunkEncoder::Resume(head.bytes());
    ASSERT_NE(resumed, nullptr) << "split " << split;
    EXPECT_EQ(resumed->num_samples(), split);
    for (size_t i = split; i < in.size(); ++i) resumed->Append(in[i].t, in[i].v);
    EXPECT_EQ(resumed->bytes(), whole.bytes()) << "split " << split << " restore " << restore;
    EXPECT_EQ(resumed->max_time(), whole.max_time()) << "split " << split;
    if (!in.empty()) {
      EXPECT_EQ(resumed->min_time(), whole.min_time()) << "split " << split;
    }
  }
}

TEST(XorChunk, Resume_ContinuesWithTheSameBytesAtEverySplit) {
  ExpectResumeMatches({});
  ExpectResumeMatches({{1000, 1}, {2000, 1}, {3000, 1}, {4000, 1}});  // no value window ever
  ExpectResumeMatches({{1000, 1.5},
                       {2000, StaleNaN()},
                       {3001, 7},
                       {3999, 7.25},
                       {5000, -0.0},
                       {6000, 1e300},
                       {6000 + (int64_t{1} << 40), 2}});
  std::mt19937_64 rng(7);
  std::vector<Sample> random;
  int64_t t = 1'700'000'000'000;
  double v = 0;
  for (int i = 0; i < 120; ++i) {
    t += 15000 + static_cast<int64_t>(rng() % 7) - 3;
    v = (rng() % 4 == 0) ? std::bit_cast<double>(rng()) : v + static_cast<double>(rng() % 100);
    random.push_back({t, v});
  }
  ExpectResumeMatches(random);
}

// A state that does not describe the chunk after it (here: another chunk's)
// is not trusted: the chunk is decoded instead. A truncated state is null.
TEST(XorChunk, Restore_StateOfAnotherChunkFallsBackToDecoding) {
  XorChunkEncoder a, b;
  for (int i = 0; i < 10; ++i) a.Append(i * 1000, i * 1.5);
  for (int i = 0; i < 7; ++i) b.Append(i * 2000, i * 3.0);
  std::string state_of_b;
  b.PutState(&state_of_b);
  auto restored = XorChunkEncoder::Restore(state_of_b + a.bytes());
  ASSERT_NE(restored, nullptr);
  EXPECT_EQ(restored->num_samples(), 10);
  restored->Append(10'000, 15.0);
  a.Append(10'000, 15.0);
  EXPECT_EQ(restored->bytes(), a.bytes());
  EXPECT_EQ(XorChunkEncoder::Restore(state_of_b.substr(0, 5)), nullptr);
  EXPECT_EQ(XorChunkEncoder::Restore(""), nullptr);
}

TEST(XorChunk, Resume_CorruptChunkIsNull) {
  XorChunkEncoder enc;
  for (int i = 0; i < 10; ++i) enc.Append(i * 1000, i * 1.5);
  const std::string& bytes = enc.bytes();
  EXPECT_EQ(XorChunkEncoder::Resume(bytes.substr(0, bytes.size() - 3)), nullptr);
  EXPECT_EQ(XorChunkEncoder::Resume(""), nullptr);
}

}  // namespace
}  // namespace vigil::storage
