// Stored chunk values (db_layout) and the merge iterator over packed and XOR
// chunks; these need the storage library, the encoders' own tests do not.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "chunk_test_util.h"
#include "storage/chunk_series.h"
#include "storage/chunkenc/packed_chunk.h"
#include "storage/chunkenc/stored_chunk.h"
#include "storage/db_layout.h"

namespace vigil::storage {
namespace {

using testing::ExpectSameSamples;
using testing::kStart;
using testing::kStep;
using testing::Regular;
using testing::XorOf;

TEST(StoredChunk, ChunkValue_PackedValueRoundTripsAndNamesItsEncoding) {
  const auto samples = Regular(kMaxChunkSamples, [](int i) { return 100.0 + i; });
  const std::string value =
      EncodeChunkValue(samples.front().t, samples.back().t, XorOf(samples));
  EXPECT_EQ(static_cast<uint8_t>(value[0]), kChunkEncodingPacked);
  ChunkValue cv;
  ASSERT_TRUE(DecodeChunkValue(value, samples.front().t, &cv));
  EXPECT_EQ(cv.max_time, samples.back().t);
  ExpectSameSamples(samples, cv.chunk);
}

TEST(StoredChunk, ChunkValue_XorValuesWrittenBeforePackingStayReadable) {
  const auto samples = Regular(30, [](int i) { return i / 3.0; });
  std::string value(1, static_cast<char>(kChunkEncodingXor));
  value.push_back(static_cast<char>(0));  // span, not checked against the chunk
  value += XorOf(samples);
  ChunkValue cv;
  ASSERT_TRUE(DecodeChunkValue(value, samples.front().t, &cv));
  ExpectSameSamples(samples, cv.chunk);
}

TEST(StoredChunk, ChunkValue_EncodingByteThatContradictsTheChunkIsRejected) {
  const auto samples = Regular(20, [](int i) { return static_cast<double>(i); });
  std::string value = EncodeChunkValue(samples.front().t, samples.back().t, XorOf(samples));
  ASSERT_EQ(static_cast<uint8_t>(value[0]), kChunkEncodingPacked);
  value[0] = static_cast<char>(kChunkEncodingXor);
  ChunkValue cv;
  EXPECT_FALSE(DecodeChunkValue(value, samples.front().t, &cv));
  value[0] = 7;
  EXPECT_FALSE(DecodeChunkValue(value, samples.front().t, &cv));
}

TEST(StoredChunk, MergeIterator_SeeksAcrossPackedAndXorChunks) {
  // Three chunks: packed, XOR (an open head chunk), packed; 15 s apart throughout.
  std::vector<ChunkCopy> chunks;
  for (int c = 0; c < 3; ++c) {
    std::vector<Sample> samples;
    for (int i = 0; i < 40; ++i) {
      const int k = c * 40 + i;
      samples.push_back({kStart + k * kStep, static_cast<double>(k)});
    }
    const std::string xor_chunk = XorOf(samples);
    chunks.push_back({0, samples.front().t, samples.back().t,
                      c == 1 ? xor_chunk : CompactChunk(xor_chunk)});
  }
  ASSERT_TRUE(IsPackedChunk(chunks[0].bytes));
  ASSERT_FALSE(IsPackedChunk(chunks[1].bytes));
  ChunkMergeIterator it(std::make_shared<const std::vector<ChunkCopy>>(chunks), kMinTime, kMaxTime);
  ASSERT_TRUE(it.Seek(kStart + 10 * kStep + 1));
  EXPECT_EQ(it.At().v, 11.0);
  ASSERT_TRUE(it.Seek(kStart + 79 * kStep));
  EXPECT_EQ(it.At().v, 79.0);
  ASSERT_TRUE(it.Seek(kStart + 70 * kStep));  // seeking backwards stays put
  EXPECT_EQ(it.At().v, 79.0);
  ASSERT_TRUE(it.Next());
  EXPECT_EQ(it.At().v, 80.0);
  ASSERT_TRUE(it.Seek(kStart + 119 * kStep));
  EXPECT_EQ(it.At().v, 119.0);
  EXPECT_FALSE(it.Next());
  EXPECT_TRUE(it.status().ok());
}

}  // namespace
}  // namespace vigil::storage
