#include "storage/wal.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "storage/wal_record.h"
#include "temp_dir.h"

namespace vigil::storage {
namespace {

std::vector<std::string> ReadAll(const std::string& dir) {
  std::vector<std::string> out;
  EXPECT_TRUE(ReplayWal(dir, 0, [&](std::string_view p) { out.emplace_back(p); }).ok());
  return out;
}

void WriteRecords(const std::string& dir, int n) {
  auto w = WalWriter::Open(dir);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  for (int i = 0; i < n; ++i) ASSERT_TRUE((*w)->Append("record-" + std::to_string(i), false).ok());
}

TEST(Wal, Replay_ReturnsRecordsInOrderAcrossSegments) {
  testing::TempDir dir;
  WriteRecords(dir.path(), 3);
  WriteRecords(dir.path(), 2);  // a second writer starts a new segment
  auto segments = ListWalSegments(dir.path());
  ASSERT_TRUE(segments.ok());
  EXPECT_EQ(segments->size(), 2u);
  EXPECT_EQ(ReadAll(dir.path()),
            (std::vector<std::string>{"record-0", "record-1", "record-2", "record-0", "record-1"}));
}

TEST(Wal, Replay_TruncatesTornTailAndKeepsEarlierRecords) {
  testing::TempDir dir;
  WriteRecords(dir.path(), 5);
  const std::string seg = WalSegmentPath(dir.path(), 1);
  const auto size = std::filesystem::file_size(seg);
  std::filesystem::resize_file(seg, size - 3);  // the last record lost its tail
  EXPECT_EQ(ReadAll(dir.path()).size(), 4u);
  EXPECT_LT(std::filesystem::file_size(seg), size - 3);  // the torn bytes are gone
  EXPECT_EQ(ReadAll(dir.path()).size(), 4u);             // and replay is stable
}

TEST(Wal, Replay_StopsAtBitFlipAndNeverFails) {
  testing::TempDir dir;
  WriteRecords(dir.path(), 5);
  const std::string seg = WalSegmentPath(dir.path(), 1);
  {
    std::fstream f(seg, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(std::filesystem::file_size(seg) - 20));
    char c = 0;
    f.read(&c, 1);
    f.seekp(static_cast<std::streamoff>(std::filesystem::file_size(seg) - 20));
    c = static_cast<char>(c ^ 0x10);
    f.write(&c, 1);
  }
  const auto records = ReadAll(dir.path());
  EXPECT_GE(records.size(), 3u);
  EXPECT_LT(records.size(), 5u);
}

TEST(Wal, Replay_GarbageSegmentYieldsNothing) {
  testing::TempDir dir;
  std::ofstream(WalSegmentPath(dir.path(), 1)) << std::string(100, '\xff');
  EXPECT_TRUE(ReadAll(dir.path()).empty());
}

TEST(Wal, DeleteSegmentsBefore_KeepsNewerSegments) {
  testing::TempDir dir;
  WriteRecords(dir.path(), 1);
  WriteRecords(dir.path(), 1);
  WriteRecords(dir.path(), 1);
  ASSERT_TRUE(DeleteWalSegmentsBefore(dir.path(), 3).ok());
  auto segments = ListWalSegments(dir.path());
  ASSERT_TRUE(segments.ok());
  EXPECT_EQ(*segments, std::vector<uint32_t>{3});
}

TEST(WalRecord, Commit_RoundTripsSeriesAndSamples) {
  const std::vector<WalSeries> series = {{7, Labels{{"__name__", "up"}, {"job", "node"}}}};
  const std::vector<WalSample> samples = {{7, 1000, 1.0}, {9, 999, StaleNaN()}, {7, 5000, -0.0}};
  auto decoded = DecodeWalCommit(EncodeWalCommit(series, samples));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->series.size(), 1u);
  EXPECT_EQ(decoded->series[0].ref, 7u);
  EXPECT_EQ(decoded->series[0].labels, series[0].labels);
  ASSERT_EQ(decoded->samples.size(), 3u);
  EXPECT_EQ(decoded->samples[1].t, 999);
  EXPECT_TRUE(IsStaleNaN(decoded->samples[1].v));
  EXPECT_TRUE(std::signbit(decoded->samples[2].v));
}

TEST(WalRecord, Decode_TruncatedPayloadIsCorruption) {
  const std::string p = EncodeWalCommit({}, std::vector<WalSample>{{1, 2, 3.0}});
  EXPECT_EQ(DecodeWalCommit(p.substr(0, p.size() - 2)).status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace vigil::storage
