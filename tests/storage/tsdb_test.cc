#include "storage/tsdb.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <bit>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "base/coding.h"
#include "base/metrics_registry.h"
#include "storage/chunkenc/xor_chunk.h"
#include "storage/db_layout.h"
#include "temp_dir.h"
#include "tsdb_test_util.h"

namespace vigil::storage {
namespace {

using testing::Eq;
using testing::OpenTsdb;
using testing::ReadAll;
using testing::Re;
using testing::SameSamples;
using testing::SmallTuning;
using testing::TempDir;

const Labels kUp{{"__name__", "up"}, {"job", "node"}, {"instance", "a:9100"}};
const Labels kUpB{{"__name__", "up"}, {"job", "node"}, {"instance", "b:9100"}};
const Labels kCpu{{"__name__", "cpu"}, {"job", "app"}, {"mode", "idle"}};

void AppendOne(Storage& db, const Labels& l, int64_t t, double v) {
  auto app = db.NewAppender();
  ASSERT_TRUE(app->Append(0, l, t, v).ok());
  ASSERT_TRUE(app->Commit().ok());
}

TEST(Tsdb, Select_ReturnsCommittedSamplesSortedByLabels) {
  TempDir dir;
  auto db = OpenTsdb(dir.path());
  auto app = db->NewAppender();
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(app->Append(0, kUpB, 1000 * i, i).ok());
    ASSERT_TRUE(app->Append(0, kUp, 1000 * i, 2.0 * i).ok());
    ASSERT_TRUE(app->Append(0, kCpu, 1000 * i, 3.0).ok());
  }
  ASSERT_TRUE(app->Commit().ok());
  auto q = db->NewQuerier();
  auto list = (*q)->Select(kMinTime, kMaxTime, {Eq("__name__", "up")});
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0]->labels(), kUp);
  EXPECT_EQ((*list)[1]->labels(), kUpB);
  const auto data = ReadAll(*db, {Eq("job", "node")}, 10'000, 19'999);
  ASSERT_EQ(data.at(kUp).size(), 10u);
  EXPECT_EQ(data.at(kUp).front().t, 10'000);
  EXPECT_EQ(data.at(kUp).front().v, 20.0);
}

TEST(Tsdb, Select_UncommittedAndRolledBackSamplesAreInvisible) {
  TempDir dir;
  auto db = OpenTsdb(dir.path());
  auto app = db->NewAppender();
  ASSERT_TRUE(app->Append(0, kUp, 1000, 1).ok());
  EXPECT_TRUE(ReadAll(*db, {Eq("__name__", "up")}).empty());
  app->Rollback();
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_TRUE(ReadAll(*db, {Eq("__name__", "up")}).empty());
}

TEST(Tsdb, Select_MatcherSemanticsFollowPrometheus) {
  TempDir dir;
  auto db = OpenTsdb(dir.path());
  AppendOne(*db, kUp, 1000, 1);
  AppendOne(*db, kCpu, 1000, 1);
  const Labels no_job{{"__name__", "up"}, {"instance", "c"}};
  AppendOne(*db, no_job, 1000, 1);
  // job="" matches series without a job label.
  auto data = ReadAll(*db, {Eq("__name__", "up"), Eq("job", "")});
  ASSERT_EQ(data.size(), 1u);
  EXPECT_EQ(data.begin()->first, no_job);
  EXPECT_EQ(ReadAll(*db, {Re("job", "no.*|ap+")}).size(), 2u);
  EXPECT_EQ(ReadAll(*db, {Re("__name__", ".+"), LabelMatcher::Make(MatchType::kNotEqual, "job", "node").value()}).size(), 2u);
  auto q = db->NewQuerier();
  EXPECT_EQ((*q)->Select(kMinTime, kMaxTime, {Eq("job", "")}).status().code(), StatusCode::kInvalidArgument);
}

TEST(Tsdb, Append_OutOfOrderAndDuplicatesBehaveAsPrometheus) {
  TempDir dir;
  auto db = OpenTsdb(dir.path());
  AppendOne(*db, kUp, 2000, 1);
  auto app = db->NewAppender();
  EXPECT_EQ(app->Append(0, kUp, 1000, 1).status().code(), StatusCode::kOutOfOrder);
  EXPECT_EQ(app->Append(0, kUp, 2000, 5).status().code(), StatusCode::kDuplicateSample);
  EXPECT_TRUE(app->Append(0, kUp, 2000, 1).ok());  // identical repeat: silently accepted
  EXPECT_EQ(app->Append(0, kUp, 2000 - 2 * 3600 * 1000, 1).status().code(), StatusCode::kOutOfBounds);
  ASSERT_TRUE(app->Commit().ok());
  const auto st = db->Stats(10);
  EXPECT_EQ(st.out_of_order_samples, 1u);
  EXPECT_EQ(st.duplicate_samples, 1u);
  EXPECT_EQ(st.samples_appended, 1u);
  EXPECT_EQ(ReadAll(*db, {Eq("__name__", "up")}).at(kUp).size(), 1u);
}

TEST(Tsdb, Append_RefFromEarlierAppendSkipsLookup) {
  TempDir dir;
  auto db = OpenTsdb(dir.path());
  auto app = db->NewAppender();
  auto ref = app->Append(0, kUp, 1000, 1);
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(*app->Append(*ref, kUp, 2000, 2), *ref);
  ASSERT_TRUE(app->Commit().ok());
  EXPECT_EQ(ReadAll(*db, {Eq("__name__", "up")}).at(kUp).size(), 2u);
}

// Random series, timestamps and values survive the head, chunk cutting,
// flushing to RocksDB, checkpointing and a reopen, bit for bit.
TEST(Tsdb, Property_RandomDataRoundTripsThroughHeadDiskAndReopen) {
  TempDir dir;
  std::mt19937_64 rng(7);
  testing::SeriesData expected;
  const int64_t start = 1'700'000'000'000;
  {
    auto db = OpenTsdb(dir.path());
    std::vector<int64_t> next_t(40, start);
    for (int batch = 0; batch < 60; ++batch) {
      auto app = db->NewAppender();
      for (int s = 0; s < 40; ++s) {
        const Labels l{{"__name__", "m" + std::to_string(s % 4)}, {"i", std::to_string(s)}};
        for (int k = 0; k < 5; ++k) {
          next_t[s] += 1 + static_cast<int64_t>(rng() % 120'000);  // crosses hour partitions
          const double v = rng() % 3 == 0 ? std::bit_cast<double>(rng()) : static_cast<double>(rng() % 100);
          ASSERT_TRUE(app->Append(0, l, next_t[s], v).ok());
          expected[l].push_back({next_t[s], v});
        }
      }
      ASSERT_TRUE(app->Commit().ok());
    }
    const auto live = ReadAll(*db, {Re("__name__", "m.")});
    ASSERT_EQ(live.size(), expected.size());
    for (const auto& [l, samples] : expected) EXPECT_TRUE(SameSamples(live.at(l), samples)) << l.ToString();
    ASSERT_TRUE(db->Close().ok());
  }
  auto db = OpenTsdb(dir.path());
  EXPECT_GT(db->Partitions().size(), 3u);
  const auto reopened = ReadAll(*db, {Re("__name__", "m.")});
  ASSERT_EQ(reopened.size(), expected.size());
  for (const auto& [l, samples] : expected) EXPECT_TRUE(SameSamples(reopened.at(l), samples)) << l.ToString();
  // A sub-range read agrees with filtering the expectation.
  const auto& first = expected.begin()->second;
  const int64_t lo = first[50].t, hi = first[200].t;
  const auto part = ReadAll(*db, {Eq("i", std::string(expected.begin()->first.Get("i")))}, lo, hi);
  EXPECT_TRUE(SameSamples(part.begin()->second, std::vector<Sample>(first.begin() + 50, first.begin() + 201)));
}

TEST(Tsdb, Reopen_SeriesKeepsItsRefAndAcceptsNewSamples) {
  TempDir dir;
  {
    auto db = OpenTsdb(dir.path());
    for (int i = 0; i < 250; ++i) AppendOne(*db, kUp, 1000 * i, i);
    ASSERT_TRUE(db->Close().ok());
  }
  auto db = OpenTsdb(dir.path());
  auto app = db->NewAppender();
  EXPECT_EQ(app->Append(0, kUp, 1000, 1).status().code(), StatusCode::kOutOfOrder);
  ASSERT_TRUE(app->Append(0, kUp, 250'000, 250).ok());
  ASSERT_TRUE(app->Commit().ok());
  const auto data = ReadAll(*db, {Eq("__name__", "up")});
  ASSERT_EQ(data.size(), 1u);
  EXPECT_EQ(data.at(kUp).size(), 251u);
}

TEST(Tsdb, LabelNamesAndValues_RespectMatchersAndRange) {
  TempDir dir;
  auto db = OpenTsdb(dir.path());
  AppendOne(*db, kUp, 1000, 1);
  AppendOne(*db, kCpu, 5000, 1);
  auto q = db->NewQuerier();
  auto names = (*q)->LabelNames(kMinTime, kMaxTime, {});
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"__name__", "instance", "job", "mode"}));
  names = (*q)->LabelNames(kMinTime, kMaxTime, {Eq("job", "app")});
  EXPECT_EQ(*names, (std::vector<std::string>{"__name__", "job", "mode"}));
  auto values = (*q)->LabelValues("job", kMinTime, kMaxTime, {});
  EXPECT_EQ(*values, (std::vector<std::string>{"app", "node"}));
  // With matchers, only series with samples inside the range count.
  values = (*q)->LabelValues("job", 4000, 6000, {Re("job", ".+")});
  EXPECT_EQ(*values, (std::vector<std::string>{"app"}));
}

TEST(Tsdb, Open_SecondOpenOfSameDirectoryFailsNamingTheLock) {
  TempDir dir;
  auto db = OpenTsdb(dir.path());
  StorageOptions o;
  o.path = dir.path();
  auto second = Tsdb::Open(o);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("LOCK"), std::string::npos) << second.status().message();
}

TEST(Tsdb, Open_CorruptRocksDbFileGivesErrorNamingTheFile) {
  TempDir dir;
  {
    auto db = OpenTsdb(dir.path());
    for (int i = 0; i < 500; ++i) AppendOne(*db, kUp, 1000 * i, i);
    ASSERT_TRUE(db->Compact().ok());
    ASSERT_TRUE(db->Close().ok());
  }
  std::string sst;
  for (const auto& e : std::filesystem::directory_iterator(dir.Sub("db"))) {
    if (e.path().extension() == ".sst") sst = e.path().string();
  }
  ASSERT_FALSE(sst.empty());
  const auto size = std::filesystem::file_size(sst);
  {
    std::fstream f(sst, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size - 16));
    f.write("garbagegarbage!!", 16);  // destroys the table footer
  }
  StorageOptions o;
  o.path = dir.path();
  auto db = Tsdb::Open(o);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kCorruption);
  EXPECT_NE(db.status().message().find(std::filesystem::path(sst).filename().string()), std::string::npos)
      << db.status().message();
}

TEST(Tsdb, Retention_DropsOldPartitionsWhileAppendsAndQueriesContinue) {
  TempDir dir;
  ManualClock clock(24 * 3600 * 1000);  // "now" is after every sample (time sanity refuses future ones)
  auto db = OpenTsdb(dir.path(), SmallTuning(), &clock);
  ASSERT_TRUE(db->SetRetention(3 * 3600 * 1000, 0).ok());
  // Ten hours of data, one sample a minute, each hour in its own partition.
  for (int64_t t = 0; t < 10 * 3600 * 1000; t += 60'000) AppendOne(*db, kUp, t, static_cast<double>(t));
  ASSERT_TRUE(db->FlushClosedChunks().ok());
  ASSERT_GE(db->Partitions().size(), 9u);
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    while (!stop) EXPECT_FALSE(ReadAll(*db, {Eq("__name__", "up")}).empty());
  });
  ASSERT_TRUE(db->ApplyRetention().ok());
  AppendOne(*db, kUp, 10 * 3600 * 1000, 1);  // appends still work
  stop = true;
  reader.join();
  const auto parts = db->Partitions();
  ASSERT_FALSE(parts.empty());
  EXPECT_GE(parts.front(), 6);  // partitions 0..5 end more than 3h before the newest sample
  const auto data = ReadAll(*db, {Eq("__name__", "up")});
  EXPECT_GE(data.at(kUp).front().t, 6 * 3600 * 1000);
  EXPECT_EQ(data.at(kUp).back().t, 10 * 3600 * 1000);
}

TEST(Tsdb, Retention_SettingPersistsAcrossRestart) {
  TempDir dir;
  {
    auto db = OpenTsdb(dir.path());
    ASSERT_TRUE(db->SetRetention(86'400'000, 1 << 30).ok());
  }
  auto db = OpenTsdb(dir.path());
  EXPECT_EQ(db->GetRetention().retention_ms, 86'400'000);
  EXPECT_EQ(db->GetRetention().retention_bytes, 1 << 30);
}

TEST(Tsdb, Retention_SizeLimitDropsOldestPartitionsFirst) {
  TempDir dir;
  auto db = OpenTsdb(dir.path());
  std::mt19937_64 rng(1);
  for (int64_t t = 0; t < 6 * 3600 * 1000; t += 10'000) {
    auto app = db->NewAppender();
    for (int s = 0; s < 20; ++s) {
      ASSERT_TRUE(app->Append(0, Labels{{"__name__", "noise"}, {"s", std::to_string(s)}}, t,
                              std::bit_cast<double>(rng() >> 2)).ok());
    }
    ASSERT_TRUE(app->Commit().ok());
  }
  ASSERT_TRUE(db->Compact().ok());
  ASSERT_TRUE(db->SetRetention(0, 1).ok());  // 1 byte: keep only the newest partition
  ASSERT_TRUE(db->ApplyRetention().ok());
  EXPECT_EQ(db->Partitions(), std::vector<int64_t>{5});
}

TEST(Tsdb, DeleteSeries_RemovesRangeFromHeadAndDiskAndSurvivesRestart) {
  TempDir dir;
  {
    auto db = OpenTsdb(dir.path());
    for (int i = 0; i < 400; ++i) {
      AppendOne(*db, kUp, 1000 * i, i);
      AppendOne(*db, kCpu, 1000 * i, i);
    }
    ASSERT_TRUE(db->DeleteSeries({Eq("__name__", "up")}, 100'000, 399'000).ok());
    EXPECT_EQ(ReadAll(*db, {Eq("__name__", "up")}).at(kUp).size(), 100u);
    EXPECT_EQ(ReadAll(*db, {Eq("__name__", "cpu")}).at(kCpu).size(), 400u);
  }
  auto db = OpenTsdb(dir.path());
  const auto data = ReadAll(*db, {Eq("__name__", "up")});
  ASSERT_EQ(data.at(kUp).size(), 100u);
  EXPECT_EQ(data.at(kUp).back().t, 99'000);
}

TEST(Tsdb, Snapshot_OpensStandaloneWithAllData) {
  TempDir dir;
  TempDir snaps;
  const std::string snap = snaps.Sub("s1");
  {
    auto db = OpenTsdb(dir.path());
    for (int i = 0; i < 300; ++i) AppendOne(*db, kUp, 1000 * i, i);
    ASSERT_TRUE(db->Snapshot(snap, false).ok());
    EXPECT_FALSE(db->Snapshot(snap, false).ok());  // the target must not exist
    AppendOne(*db, kUp, 300'000, 300);             // after the snapshot: not in it
  }
  auto db = OpenTsdb(snap);
  EXPECT_EQ(ReadAll(*db, {Eq("__name__", "up")}).at(kUp).size(), 300u);
}

TEST(Tsdb, AppendHistorical_WritesOldDataIntoClosedChunks) {
  TempDir dir;
  auto db = OpenTsdb(dir.path());
  const int64_t now = 100 * 3600 * 1000;
  AppendOne(*db, kUp, now, 1);
  std::vector<Sample> old;
  for (int i = 0; i < 500; ++i) old.push_back({now - 50 * 3600 * 1000 + i * 60'000, static_cast<double>(i)});
  ASSERT_TRUE(db->AppendHistorical(kUp, old).ok());
  ASSERT_TRUE(db->AppendHistorical(kCpu, old).ok());
  EXPECT_FALSE(db->AppendHistorical(kUp, std::vector<Sample>{{now, 1}}).ok());  // overlaps the head
  const auto data = ReadAll(*db, {Re("__name__", "up|cpu")});
  EXPECT_EQ(data.at(kUp).size(), 501u);
  EXPECT_TRUE(SameSamples(data.at(kCpu), old));
}

TEST(Tsdb, Stats_ReportCardinalityAndTimes) {
  TempDir dir;
  auto db = OpenTsdb(dir.path());
  AppendOne(*db, kUp, 1000, 1);
  AppendOne(*db, kUpB, 2000, 1);
  AppendOne(*db, kCpu, 3000, 1);
  const auto st = db->Stats(1);
  EXPECT_EQ(st.num_series, 3u);
  EXPECT_EQ(st.min_time, 1000);
  EXPECT_EQ(st.max_time, 3000);
  EXPECT_EQ(st.samples_appended, 3u);
  EXPECT_GE(st.chunk_count, 3u);
  ASSERT_EQ(st.series_count_by_metric_name.size(), 1u);
  EXPECT_EQ(st.series_count_by_metric_name[0].name, "up");
  EXPECT_EQ(st.series_count_by_metric_name[0].count, 2u);
  ASSERT_EQ(st.series_count_by_label_pair.size(), 1u);
  EXPECT_EQ(st.series_count_by_label_pair[0].count, 2u);
  const std::string metrics = MetricsRegistry::Global().Render();
  EXPECT_NE(metrics.find("prometheus_tsdb_head_series 3"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("prometheus_tsdb_head_samples_appended_total 3"), std::string::npos);
}

}  // namespace
}  // namespace vigil::storage

namespace vigil::storage::testing {
namespace {

// Remote write queues tail the WAL: a checkpoint keeps the segments they
// still need (StorageOptions::wal_keep_from), and the store resolves refs
// whose series record went with a deleted segment.
TEST(Tsdb, Checkpoint_KeepsWalSegmentsFromWalKeepFromAndResolvesRefs) {
  TempDir dir;
  std::atomic<uint32_t> keep_from{0};
  StorageOptions o;
  o.path = dir.path();
  o.wal_keep_from = [&] { return keep_from.load(); };
  auto opened = Tsdb::Open(o, SmallTuning());
  ASSERT_TRUE(opened.ok());
  Tsdb& db = **opened;
  const Labels labels{{"__name__", "m"}, {"job", "a"}};
  auto app = db.NewAppender();
  auto ref = app->Append(0, labels, 1000, 1);
  ASSERT_TRUE(ref.ok());
  ASSERT_TRUE(app->Commit().ok());
  auto before = ListWalSegments(db.WalDir());
  ASSERT_TRUE(before.ok() && !before->empty());

  ASSERT_TRUE(db.Checkpoint().ok());
  auto kept = ListWalSegments(db.WalDir());
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->front(), before->front());  // still needed: kept

  keep_from = 1u << 30;
  ASSERT_TRUE(db.Checkpoint().ok());
  auto after = ListWalSegments(db.WalDir());
  ASSERT_TRUE(after.ok());
  EXPECT_GT(after->front(), before->front());  // no longer needed: deleted

  auto resolved = db.SeriesLabels(*ref);
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(*resolved, labels);
  EXPECT_EQ(db.SeriesLabels(*ref + 1000).status().code(), StatusCode::kNotFound);
}

// The maintenance thread checkpoints when enough samples were committed
// since the last checkpoint, long before the WAL bytes call for one; with
// many series, not before checkpoint_samples_per_series samples per series.
TEST(Tsdb, Checkpoint_CutAfterCheckpointSamplesButNotBeforeTheirFloorPerSeries) {
  TempDir dir;
  TsdbTuning t = SmallTuning();
  t.checkpoint_wal_bytes = int64_t{1} << 40;
  t.checkpoint_samples = 10;
  t.checkpoint_samples_per_series = 4;  // 100 series: a checkpoint after 400 samples
  auto db = OpenTsdb(dir.path(), t);
  ASSERT_NE(db, nullptr);
  const auto append_round = [&](int64_t round) {
    auto app = db->NewAppender();
    for (int i = 0; i < 100; ++i) {
      const Labels l{{"__name__", "m"}, {"i", std::to_string(i)}};
      ASSERT_TRUE(app->Append(0, l, 1000 * (round + 1), static_cast<double>(round)).ok());
    }
    ASSERT_TRUE(app->Commit().ok());
  };
  const auto first_segment = [&] {
    auto segments = ListWalSegments(db->WalDir());
    EXPECT_TRUE(segments.ok() && !segments->empty());
    return segments.ok() && !segments->empty() ? segments->front() : 0u;
  };
  const uint32_t at_open = first_segment();
  for (int64_t round = 0; round < 3; ++round) append_round(round);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // 15 maintenance ticks
  EXPECT_EQ(first_segment(), at_open) << "checkpointed at 300 samples, below 4 per series";

  append_round(3);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (first_segment() == at_open && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GT(first_segment(), at_open) << "no checkpoint after 400 samples";
}

// The head checkpoint is read in batches by one thread and inserted by
// another: a reopen restores every series (more than one batch of them), its
// open chunk and its ref, and the series take new samples after it.
TEST(Tsdb, Reopen_FromACheckpointOfManySeriesRestoresEverySeriesAndSample) {
  TempDir dir;
  constexpr int kSeries = 10000;
  const auto labels = [](int i) {
    return Labels{{"__name__", "m" + std::to_string(i % 7)}, {"i", std::to_string(i)}};
  };
  std::vector<SeriesRef> refs(kSeries);
  {
    auto db = OpenTsdb(dir.path());
    ASSERT_NE(db, nullptr);
    for (int64_t t = 1; t <= 3; ++t) {
      auto app = db->NewAppender();
      for (int i = 0; i < kSeries; ++i) {
        auto ref = app->Append(0, labels(i), 1000 * t, static_cast<double>(i + t));
        ASSERT_TRUE(ref.ok());
        refs[i] = *ref;
      }
      ASSERT_TRUE(app->Commit().ok());
    }
    ASSERT_TRUE(db->Checkpoint().ok());
  }  // Close checkpoints too; the WAL after it is empty
  auto db = OpenTsdb(dir.path());
  ASSERT_NE(db, nullptr);
  const SeriesData data = ReadAll(*db, {Re("__name__", "m.*")});
  ASSERT_EQ(data.size(), static_cast<size_t>(kSeries));
  for (int i = 0; i < kSeries; i += 997) {
    const auto it = data.find(labels(i));
    ASSERT_NE(it, data.end());
    ASSERT_EQ(it->second.size(), 3u);
    EXPECT_EQ(it->second[2].v, static_cast<double>(i + 3));
    auto resolved = db->SeriesLabels(refs[i]);
    ASSERT_TRUE(resolved.ok());
    EXPECT_EQ(*resolved, labels(i));
  }
  auto app = db->NewAppender();
  EXPECT_EQ(app->Append(0, labels(1), 3000, 9).status().code(), StatusCode::kDuplicateSample);
  EXPECT_EQ(*app->Append(0, labels(1), 4000, 5), refs[1]);
  ASSERT_TRUE(app->Commit().ok());
}

// A data dir whose head checkpoint an older release wrote (open chunks
// stored as their bytes, without the encoder state): every open chunk is
// resumed by decoding it, keeps its samples, and takes the next ones.
TEST(Tsdb, Reopen_FromACheckpointWithoutEncoderStateContinuesEveryOpenChunk) {
  TempDir dir;
  const auto labels = [](int i) {
    return Labels{{"__name__", "old_format"}, {"i", std::to_string(i)}};
  };
  constexpr int kSeries = 5;
  SeriesData want;
  {
    auto db = OpenTsdb(dir.path());
    ASSERT_NE(db, nullptr);
    std::mt19937_64 rng(3);
    for (int64_t t = 1; t <= 40; ++t) {
      auto app = db->NewAppender();
      for (int i = 0; i < kSeries; ++i) {
        // Counters, gauges with random bits, and repeats: every XOR window case.
        const double v = i == 0   ? static_cast<double>(t)
                         : i == 1 ? std::bit_cast<double>(rng() >> 2)
                                  : 7.5;
        ASSERT_TRUE(app->Append(0, labels(i), 15000 * t + i, v).ok());
        want[labels(i)].push_back({15000 * t + i, v});
      }
      ASSERT_TRUE(app->Commit().ok());
    }
    ASSERT_TRUE(db->Checkpoint().ok());
  }
  {
    // Rewrite every head entry in the older layout: the chunk bytes right
    // after the partition, no kHeadChunkWithState marker and state.
    std::vector<rocksdb::ColumnFamilyDescriptor> descs;
    for (const char* name : {rocksdb::kDefaultColumnFamilyName.c_str(), kSeriesCf, kPostingsCf,
                             kChunksCf, kMetaCf, kHeadCf}) {
      descs.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
    std::vector<rocksdb::ColumnFamilyHandle*> cfs;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(
        rocksdb::DB::Open(rocksdb::DBOptions(), dir.path() + "/db", descs, &cfs, &raw).ok());
    std::unique_ptr<rocksdb::DB> rdb(raw);
    rocksdb::ColumnFamilyHandle* head = cfs.back();
    std::vector<std::pair<std::string, std::string>> rewritten;
    std::unique_ptr<rocksdb::Iterator> it(rdb->NewIterator(rocksdb::ReadOptions(), head));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string_view value = it->value().ToStringView();
      Decoder d(value);
      Labels ls;
      int64_t last_t = 0, partition = 0;
      uint64_t last_v = 0;
      ASSERT_TRUE(d.LabelSet(&ls) && d.Varint(&last_t) && d.Fixed64LE(&last_v) &&
                  d.Varint(&partition));
      ASSERT_FALSE(d.rest().empty());
      ASSERT_EQ(static_cast<uint8_t>(d.rest()[0]), kHeadChunkWithState);
      const auto encoder = XorChunkEncoder::Restore(d.rest().substr(1));
      ASSERT_NE(encoder, nullptr);
      rewritten.emplace_back(
          it->key().ToString(),
          std::string(value.substr(0, value.size() - d.rest().size())) + encoder->bytes());
    }
    ASSERT_TRUE(it->status().ok());
    it.reset();
    ASSERT_EQ(rewritten.size(), static_cast<size_t>(kSeries));
    for (const auto& [key, value] : rewritten)
      ASSERT_TRUE(rdb->Put(rocksdb::WriteOptions(), head, key, value).ok());
    ASSERT_TRUE(rdb->Flush(rocksdb::FlushOptions(), cfs).ok());
    for (auto* cf : cfs) ASSERT_TRUE(rdb->DestroyColumnFamilyHandle(cf).ok());
  }
  auto db = OpenTsdb(dir.path());
  ASSERT_NE(db, nullptr);
  auto app = db->NewAppender();
  for (int i = 0; i < kSeries; ++i) {
    ASSERT_TRUE(app->Append(0, labels(i), 15000 * 41 + i, 99.25).ok());
    want[labels(i)].push_back({15000 * 41 + i, 99.25});
  }
  ASSERT_TRUE(app->Commit().ok());
  const SeriesData got = ReadAll(*db, {Eq("__name__", "old_format")});
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [ls, samples] : want) {
    const auto found = got.find(ls);
    ASSERT_NE(found, got.end()) << ls.ToString();
    EXPECT_TRUE(SameSamples(found->second, samples)) << ls.ToString();
  }
}

}  // namespace
}  // namespace vigil::storage::testing
