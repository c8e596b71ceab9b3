#include "storage/wal/wal.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <span>

#include "base/coding.h"
#include "base/crc32c.h"
#include "storage/wal/wal_record.h"
#include "temp_dir.h"

namespace vigil::storage {
namespace {

std::vector<std::string> ReadAll(const std::string& dir, WalReplayStats* stats = nullptr) {
  std::vector<std::string> out;
  EXPECT_TRUE(ReplayWal(
                  dir, 0, [&](std::string_view p) { out.emplace_back(p); }, stats)
                  .ok());
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

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

std::string SegmentHeader() {
  std::string h(kWalSegmentMagic);
  PutFixed32LE(&h, kWalFormatVersion);
  return h;
}

// The format-2 records of `payload` numbered from `*seq`, split at `limit`
// bytes. Call it once per statement: `+` does not order the calls.
std::string Records(std::string_view payload, uint32_t* seq, uint32_t limit = kWalMaxRecordSize) {
  std::string out;
  AppendWalCommitRecords(payload, limit, seq, &out);
  return out;
}

TEST(Wal, Replay_ReadsFormat1SegmentsOfOlderVersions) {
  testing::TempDir dir;
  std::string seg;
  for (const std::string p : {"one", "two", "three"}) {
    PutFixed32LE(&seg, static_cast<uint32_t>(p.size()));
    PutFixed32LE(&seg, Crc32c(p));
    seg += p;
  }
  WriteFile(WalSegmentPath(dir.path(), 1), seg + "\x05\x00");  // and a torn tail
  WriteRecords(dir.path(), 1);                                 // a format-2 segment after it
  EXPECT_EQ(ReadAll(dir.path()), (std::vector<std::string>{"one", "two", "three", "record-0"}));
  EXPECT_EQ(std::filesystem::file_size(WalSegmentPath(dir.path(), 1)), seg.size());
}

TEST(Wal, Replay_SkipsDamagedRecordAndKeepsTheRecordsAfterIt) {
  testing::TempDir dir;
  uint32_t seq = 0;
  std::string seg = SegmentHeader() + Records("record-0", &seq);
  const size_t damaged = seg.size() + kWalRecordHeaderSize + 2;
  seg += Records("record-1", &seq);
  seg += Records("record-2", &seq);
  seg[damaged] ^= 0x40;
  WriteFile(WalSegmentPath(dir.path(), 1), seg);
  WalReplayStats stats;
  EXPECT_EQ(ReadAll(dir.path(), &stats), (std::vector<std::string>{"record-0", "record-2"}));
  EXPECT_EQ(stats.damaged_segments, 1u);
  EXPECT_EQ(std::filesystem::file_size(WalSegmentPath(dir.path(), 1)), seg.size());  // nothing cut
}

TEST(Wal, Replay_ResyncsAfterTornBytesFollowedByRecords) {
  testing::TempDir dir;
  uint32_t seq = 0;
  std::string seg = SegmentHeader() + Records("acked-0", &seq);
  uint32_t torn_seq = seq;
  const std::string torn = Records(std::string(500, 't'), &torn_seq);
  seg += torn.substr(0, 200);  // a write cut short; the same seq is written again after it
  seg += Records("acked-1", &seq);
  seg += Records("acked-2", &seq);
  WriteFile(WalSegmentPath(dir.path(), 1), seg);
  EXPECT_EQ(ReadAll(dir.path()), (std::vector<std::string>{"acked-0", "acked-1", "acked-2"}));
}

TEST(Wal, Replay_NeverReplaysAStaleRecordCopyOutOfOrder) {
  testing::TempDir dir;
  uint32_t seq = 0;
  std::string seg = SegmentHeader() + Records("a", &seq);
  seg += Records("b", &seq);
  uint32_t old_seq = 0;
  seg += Records("a", &old_seq);  // a valid record, but older than the one before it
  seg += Records("c", &seq);
  WriteFile(WalSegmentPath(dir.path(), 1), seg);
  EXPECT_EQ(ReadAll(dir.path()), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(Wal, Replay_RandomGarbageAfterHeaderYieldsNothing) {
  testing::TempDir dir;
  std::string seg = SegmentHeader();
  std::mt19937 rng(7);
  for (int i = 0; i < 100000; ++i) seg.push_back(static_cast<char>(rng()));
  std::string magic;
  PutFixed32LE(&magic, kWalRecordMagic);
  for (size_t at = 1000; at < seg.size(); at += 997) seg.replace(at, 4, magic);  // false starts
  WriteFile(WalSegmentPath(dir.path(), 1), seg);
  EXPECT_TRUE(ReadAll(dir.path()).empty());
  EXPECT_EQ(std::filesystem::file_size(WalSegmentPath(dir.path(), 1)), kWalSegmentHeaderSize);
}

std::string BigPayload(size_t n) {
  std::string p(n, '\0');
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<char>('a' + (i * 7) % 26);
  return p;
}

TEST(Wal, CommitAboveRecordLimit_IsSplitAndJoinedOnReplay) {
  testing::TempDir dir;
  WalWriterOptions options;
  options.max_record_bytes = 100;
  const std::string big = BigPayload(1050);
  {
    auto w = WalWriter::Open(dir.path(), options);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append("small", false).ok());
    ASSERT_TRUE((*w)->Append(big, false).ok());
    ASSERT_TRUE((*w)->Append(std::string(100, 'x'), false).ok());  // exactly the limit: one record
  }
  const auto size = std::filesystem::file_size(WalSegmentPath(dir.path(), 1));
  EXPECT_EQ(size, kWalSegmentHeaderSize + 5 + 1050 + 100 + 13 * kWalRecordHeaderSize);
  WalReplayStats stats;
  EXPECT_EQ(ReadAll(dir.path(), &stats),
            (std::vector<std::string>{"small", big, std::string(100, 'x')}));
  EXPECT_EQ(stats.damaged_segments, 0u);
}

TEST(Wal, TornMultiRecordCommit_IsDroppedWholeAndCutOff) {
  testing::TempDir dir;
  uint32_t seq = 0;
  std::string seg = SegmentHeader() + Records("before", &seq);
  const size_t good = seg.size();
  const std::string big = Records(BigPayload(1000), &seq, 100);
  WriteFile(WalSegmentPath(dir.path(), 1), seg + big.substr(0, big.size() - 150));
  EXPECT_EQ(ReadAll(dir.path()), std::vector<std::string>{"before"});
  EXPECT_EQ(std::filesystem::file_size(WalSegmentPath(dir.path(), 1)), good);
}

TEST(Wal, MultiRecordCommitMissingAFragment_IsDroppedWholeAndLaterCommitsKept) {
  testing::TempDir dir;
  uint32_t seq = 0;
  std::string seg = SegmentHeader() + Records("before", &seq);
  const size_t middle = seg.size() + 3 * (kWalRecordHeaderSize + 100) + kWalRecordHeaderSize + 10;
  seg += Records(BigPayload(1000), &seq, 100);
  seg += Records("after", &seq);
  seg[middle] ^= 0x01;
  WriteFile(WalSegmentPath(dir.path(), 1), seg);
  WalReplayStats stats;
  EXPECT_EQ(ReadAll(dir.path(), &stats), (std::vector<std::string>{"before", "after"}));
  EXPECT_GE(stats.dropped_commits, 1u);
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

bool SameCommit(const WalCommit& a, std::span<const WalSample> samples) {
  if (a.samples.size() != samples.size()) return false;
  for (size_t i = 0; i < samples.size(); ++i) {
    const auto& x = a.samples[i];
    const auto& y = samples[i];
    if (x.ref != y.ref || x.t != y.t ||
        std::bit_cast<uint64_t>(x.v) != std::bit_cast<uint64_t>(y.v))
      return false;
  }
  return true;
}

TEST(WalRecord, CompactCommit_RoundTripsEveryValueBitForBit) {
  const double kValues[] = {0.0,
                            -0.0,
                            1.0,
                            -1.0,
                            42.0,
                            1e9 + 4096,
                            12345.67,
                            -0.25,
                            0.1,
                            0.001,
                            3.14159,
                            0.1 + 0.2,
                            1e-300,
                            5e-324,
                            1e300,
                            9007199254740993.0,
                            281474976710656.0,
                            std::numeric_limits<double>::infinity(),
                            -std::numeric_limits<double>::infinity(),
                            std::numeric_limits<double>::quiet_NaN(),
                            StaleNaN(),
                            std::bit_cast<double>(uint64_t{0x7ff8dead0000beef})};
  std::vector<WalSample> samples;
  SeriesRef ref = 100;
  int64_t t = 1'700'000'000'000;
  for (double v : kValues) {
    samples.push_back({ref, t, v});
    ref = ref % 3 == 0 ? ref - 7 : ref + 1;  // refs and times go both ways
    t += ref % 2 == 0 ? 15'000 : -3;
  }
  const std::string p = EncodeWalCommit({}, samples);
  EXPECT_EQ(static_cast<uint8_t>(p[0]), kWalSymbolCommitRecord);
  auto decoded = DecodeWalCommit(p);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(SameCommit(*decoded, samples));
}

TEST(WalRecord, CompactCommit_ScrapeOfIntegerCountersTakesFewBytesPerSample) {
  std::vector<WalSample> samples;
  for (SeriesRef ref = 1; ref <= 1000; ++ref)
    samples.push_back({ref, 1'700'000'000'000, ref * 17.0});
  const std::string compact = EncodeWalCommit({}, samples);
  EXPECT_LE(compact.size(), 4 * samples.size());  // header byte + value of ≤ 3 bytes
  EXPECT_GE(EncodeWalCommitFullWidth({}, samples).size(), 10 * samples.size());
}

// The compact header holds ref deltas below 2^59: refs further apart fall
// back to the full-width record, which holds any ref.
TEST(WalRecord, RefsTooFarApartForTheCompactRecord_AreWrittenFullWidth) {
  const std::vector<WalSample> samples = {{1, 5, 1.0}, {SeriesRef{1} << 62, 6, 2.0}, {3, 7, 3.0}};
  const std::string p = EncodeWalCommit({}, samples);
  EXPECT_EQ(static_cast<uint8_t>(p[0]), kWalCommitRecord);
  auto decoded = DecodeWalCommit(p);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(SameCommit(*decoded, samples));
}

// Data dirs of older releases hold full-width records only.
TEST(WalRecord, FullWidthCommit_StillDecodes) {
  const std::vector<WalSeries> series = {{7, Labels{{"__name__", "up"}}}};
  const std::vector<WalSample> samples = {{7, 1000, 1.5}, {9, 999, StaleNaN()}};
  auto decoded = DecodeWalCommit(EncodeWalCommitFullWidth(series, samples));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->series.size(), 1u);
  EXPECT_EQ(decoded->series[0].labels, series[0].labels);
  EXPECT_TRUE(SameCommit(*decoded, samples));
}

// A scrape's new series share names and most values: each distinct string
// is written once per record, and refs as deltas.
TEST(WalRecord, SymbolCommit_WritesEachDistinctLabelStringOnce) {
  std::vector<WalSeries> series;
  size_t label_bytes = 0;
  for (SeriesRef ref = 1000; ref < 2000; ++ref) {
    const std::string n = std::to_string(ref % 50);
    series.push_back({ref, Labels{{"__name__", "node_cpu_seconds_total"},
                                  {"cpu", n},
                                  {"instance", "node-17.example.org:9100"},
                                  {"job", "node"},
                                  {"mode", ref % 2 == 0 ? "idle" : "user"},
                                  {"pod", "inventory-" + std::to_string(ref % 20)}}});
    for (const auto& l : series.back().labels) label_bytes += l.name.size() + l.value.size();
  }
  const std::string p = EncodeWalCommit(series, {});
  EXPECT_EQ(static_cast<uint8_t>(p[0]), kWalSymbolCommitRecord);
  // 12 one-byte table references, a count and a ref delta per series, plus
  // the distinct strings once.
  EXPECT_LE(p.size(), series.size() * 16);
  EXPECT_GE(label_bytes, series.size() * 60);
  auto decoded = DecodeWalCommit(p);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->series.size(), series.size());
  for (size_t i = 0; i < series.size(); ++i) {
    EXPECT_EQ(decoded->series[i].ref, series[i].ref);
    EXPECT_EQ(decoded->series[i].labels, series[i].labels);
  }
}

// A table reference past the strings read so far is corruption, not a read
// out of bounds.
TEST(WalRecord, SymbolCommit_UnknownStringReferenceIsCorruption) {
  std::string p(1, static_cast<char>(kWalSymbolCommitRecord));
  PutUvarint(&p, 1);  // one series
  PutVarint(&p, 5);   // ref delta
  PutUvarint(&p, 1);  // one label
  PutUvarint(&p, 0);  // literal name
  PutUvarint(&p, 1);
  p += "a";
  PutUvarint(&p, 2);  // value: table position 1, but only position 0 exists
  PutUvarint(&p, 0);  // no samples
  const auto decoded = DecodeWalCommit(p);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption);
}

// Data dirs written between the compact and the symbol records hold type 2:
// compact samples after series written as in type 1.
TEST(WalRecord, CompactCommitOfTheFirstCompactFormat_StillDecodes) {
  std::string p(1, static_cast<char>(kWalCompactCommitRecord));
  PutUvarint(&p, 1);  // one series
  PutUvarint(&p, 7);  // its ref
  PutLabels(&p, Labels{{"__name__", "up"}, {"job", "node"}});
  const std::vector<WalSample> samples = {{7, 1000, 1.0}, {7, 16000, 0.5}};
  const std::string compact = EncodeWalCommit({}, samples);
  p += compact.substr(2);  // the samples part after the type byte and an empty series count
  auto decoded = DecodeWalCommit(p);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->series.size(), 1u);
  EXPECT_EQ(decoded->series[0].ref, 7u);
  EXPECT_EQ(decoded->series[0].labels, (Labels{{"__name__", "up"}, {"job", "node"}}));
  EXPECT_TRUE(SameCommit(*decoded, samples));
}

TEST(WalRecord, CompactCommit_EveryTruncationIsCorruption) {
  std::vector<WalSample> samples = {
      {5, 1000, 1.0}, {6, 1000, 2.5}, {7, 16000, 0.1 + 0.2}, {8, 16000, StaleNaN()}};
  const std::string p = EncodeWalCommit(std::vector<WalSeries>{{5, Labels{{"a", "b"}}}}, samples);
  // The last sample is a lone header byte: cutting it off loses the sample.
  for (size_t len = 0; len < p.size(); ++len) {
    EXPECT_EQ(DecodeWalCommit(p.substr(0, len)).status().code(), StatusCode::kCorruption) << len;
  }
}

TEST(WalRecord, CompactCommit_SampleCountBeyondRecordSizeIsCorruption) {
  std::string p(1, static_cast<char>(kWalCompactCommitRecord));
  PutUvarint(&p, 0);                  // no series
  PutUvarint(&p, uint64_t{1} << 62);  // samples
  PutUvarint(&p, 1);                  // first ref
  PutVarint(&p, 0);                   // first time
  auto decoded = DecodeWalCommit(p);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("exceeds the record"), std::string::npos);
}

// Remote write tails the segment being written: a commit whose bytes are
// only partly there is left alone (not truncated) and read on the next call.
TEST(Wal, TailSegment_ReadsFromAnOffsetAndLeavesATornCommitForLater) {
  testing::TempDir dir;
  WriteRecords(dir.path(), 2);
  const auto segments = ListWalSegments(dir.path());
  ASSERT_TRUE(segments.ok() && segments->size() == 1);
  const std::string path = WalSegmentPath(dir.path(), segments->front());
  std::vector<std::string> seen;
  const auto collect = [&](std::string_view p, int64_t) { seen.emplace_back(p); };
  auto end = TailWalSegment(path, 0, collect);
  ASSERT_TRUE(end.ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"record-0", "record-1"}));
  EXPECT_EQ(*end, static_cast<int64_t>(std::filesystem::file_size(path)));

  std::string commit;
  uint32_t seq = 2;
  AppendWalCommitRecords("record-2", kWalMaxRecordSize, &seq, &commit);
  {
    std::ofstream out(path, std::ios::binary | std::ios::app);
    out << commit.substr(0, commit.size() - 3);  // torn: the writer is mid-write()
  }
  seen.clear();
  auto again = TailWalSegment(path, *end, collect);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(seen.empty());
  EXPECT_EQ(*again, *end);
  EXPECT_EQ(std::filesystem::file_size(path), static_cast<size_t>(*end) + commit.size() - 3);
  {
    std::ofstream out(path, std::ios::binary | std::ios::app);
    out << commit.substr(commit.size() - 3);
  }
  again = TailWalSegment(path, *end, collect);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"record-2"}));
}

}  // namespace
}  // namespace vigil::storage
