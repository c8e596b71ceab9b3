// Regressions found by fuzzing (docs/fuzzing.md): decoders of on-disk and
// configured data must fail cleanly on hostile bytes, never crash.
#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "base/coding.h"
#include "base/duration.h"
#include "storage/wal/wal_record.h"

namespace vigil::storage {
namespace {

std::string CommitHeader(uint64_t sample_count) {
  std::string p(1, static_cast<char>(kWalCommitRecord));
  PutUvarint(&p, 0);  // no series
  PutUvarint(&p, sample_count);
  return p;
}

// Found while writing wal_record_fuzz: a sample count of 2^63 was passed to vector::reserve
// (length_error, or an ASan allocation-size abort) before any sample was read.
TEST(WalRecordFuzzRegression, SampleCountBeyondRecordSize_IsCorruption) {
  std::string p = CommitHeader(uint64_t{1} << 63);
  PutVarint(&p, 0);  // base time
  auto decoded = DecodeWalCommit(p);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption);
  EXPECT_NE(decoded.status().message().find("exceeds the record"), std::string::npos);
}

// Found while writing wal_record_fuzz: base time + delta overflowed int64 (undefined behaviour).
// Times wrap instead, and the record still round-trips bit for bit.
TEST(WalRecordFuzzRegression, TimeDeltaOverflow_DecodesWithoutUndefinedBehaviour) {
  std::string p = CommitHeader(1);
  PutVarint(&p, std::numeric_limits<int64_t>::max());  // base time
  PutUvarint(&p, 5);                                   // ref
  PutVarint(&p, 1);                                    // delta: past int64 max
  PutFixed64LE(&p, 0);
  auto decoded = DecodeWalCommit(p);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->samples.size(), 1u);
  EXPECT_EQ(decoded->samples[0].t, std::numeric_limits<int64_t>::min());

  const std::vector<WalSample> extremes = {{1, std::numeric_limits<int64_t>::max(), 1},
                                           {1, std::numeric_limits<int64_t>::min(), 2}};
  auto again = DecodeWalCommit(EncodeWalCommit({}, extremes));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->samples[1].t, std::numeric_limits<int64_t>::min());
}

// Found while reviewing the config loader for config_loader_fuzz:
// "292471208y35w3d" passed the per-unit overflow check, then the sum overflowed
// int64 (undefined behaviour) before the sign check caught it.
TEST(DurationFuzzRegression, SumBeyondInt64_IsAnError) {
  EXPECT_TRUE(ParseDuration("292471208y35w2d").ok());
  EXPECT_FALSE(ParseDuration("292471208y35w3d").ok());
  EXPECT_FALSE(ParseDuration("292471208y36w").ok());
  EXPECT_FALSE(ParseDuration("99999999999y").ok());
}

}  // namespace
}  // namespace vigil::storage
