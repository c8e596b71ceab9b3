// Sample builders and checks shared by the chunk encoding tests
// (packed_chunk_test.cc, stored_chunk_test.cc).
#pragma once

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/chunkenc/xor_chunk.h"

namespace vigil::storage::testing {

inline constexpr int64_t kStart = 1'700'000'000'000;
inline constexpr int64_t kStep = 15'000;

inline uint64_t Bits(double v) { return std::bit_cast<uint64_t>(v); }

// The XOR chunk of `samples`.
inline std::string XorOf(const std::vector<Sample>& samples) {
  XorChunkEncoder enc;
  for (const auto& s : samples) enc.Append(s.t, s.v);
  return enc.bytes();
}

// Decodes `chunk` and expects exactly `want`, value bits included.
inline void ExpectSameSamples(const std::vector<Sample>& want, std::string_view chunk) {
  auto got = DecodeChunk(chunk);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ((*got)[i].t, want[i].t) << "sample " << i;
    ASSERT_EQ(Bits((*got)[i].v), Bits(want[i].v)) << "sample " << i << " value " << want[i].v;
  }
}

// `n` samples kStep apart from kStart, sample i valued value(i).
inline std::vector<Sample> Regular(int n, const std::function<double(int)>& value) {
  std::vector<Sample> out;
  for (int i = 0; i < n; ++i) out.push_back({kStart + i * kStep, value(i)});
  return out;
}

}  // namespace vigil::storage::testing
