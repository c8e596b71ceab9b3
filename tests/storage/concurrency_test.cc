// Many appenders and queriers at once (run under TSan too): every committed
// sample is visible exactly once, queries never see a series go backwards,
// and admin work (flush, checkpoint, retention) runs alongside.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "base/logger.h"
#include "temp_dir.h"
#include "tsdb_test_util.h"

// Debian's RocksDB is not built with TSan: its lock-free memtable and file
// writer look like races to the instrumented callers. Our own code is not
// suppressed.
#if defined(__SANITIZE_THREAD__)
extern "C" const char* __tsan_default_suppressions() { return "race:rocksdb::\n"; }
#endif

namespace vigil::storage {
namespace {

constexpr int kWriters = 4;
constexpr int kSeriesPerWriter = 50;
constexpr int kBatches = 300;

Labels WriterSeries(int w, int s) {
  return Labels{{"__name__", "conc"}, {"writer", std::to_string(w)}, {"s", std::to_string(s)}};
}

TEST(Concurrency, AppendersQueriersAndMaintenance_SeeConsistentData) {
  ConfigureLogging(LogLevel::kWarn, LogFormat::kLogfmt);
  testing::TempDir dir;
  TsdbTuning tuning = testing::SmallTuning();
  tuning.partition_ms = 600 * 1000;  // cut chunks at partition boundaries often
  tuning.checkpoint_wal_bytes = 64 << 10;
  tuning.maintenance_interval_ms = 2;
  tuning.retention_interval_ms = 10;
  auto db = testing::OpenTsdb(dir.path(), tuning);
  ASSERT_NE(db, nullptr);

  std::atomic<int> writers_done{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      std::vector<SeriesRef> refs(kSeriesPerWriter, 0);
      for (int b = 0; b < kBatches; ++b) {
        auto app = db->NewAppender();
        for (int s = 0; s < kSeriesPerWriter; ++s) {
          auto ref = app->Append(refs[s], WriterSeries(w, s), int64_t{b} * 10'000, b);
          ASSERT_TRUE(ref.ok()) << ref.status().ToString();
          refs[s] = *ref;
        }
        ASSERT_TRUE(app->Commit().ok());
      }
      ++writers_done;
    });
  }
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      while (writers_done.load() < kWriters) {
        const auto data = testing::ReadAll(*db, {testing::Eq("writer", std::to_string(r))});
        for (const auto& [labels, samples] : data) {
          // A prefix of the writer's batches, without gaps or repeats.
          for (size_t i = 0; i < samples.size(); ++i) {
            ASSERT_EQ(samples[i].t, static_cast<int64_t>(i) * 10'000) << labels.ToString();
          }
        }
        auto q = db->NewQuerier();
        ASSERT_TRUE((*q)->LabelValues("writer", kMinTime, kMaxTime, {}).ok());
        (void)db->Stats(5);
      }
    });
  }
  threads.emplace_back([&] {
    while (writers_done.load() < kWriters) {
      ASSERT_TRUE(db->Checkpoint().ok());
      ASSERT_TRUE(db->FlushClosedChunks().ok());
    }
  });
  for (auto& t : threads) t.join();

  const auto data = testing::ReadAll(*db, {testing::Eq("__name__", "conc")});
  ASSERT_EQ(data.size(), static_cast<size_t>(kWriters * kSeriesPerWriter));
  for (const auto& [labels, samples] : data) ASSERT_EQ(samples.size(), static_cast<size_t>(kBatches));
  EXPECT_EQ(db->Stats(1).samples_appended, static_cast<uint64_t>(kWriters * kSeriesPerWriter * kBatches));
}

TEST(Concurrency, SameSeriesFromManyAppenders_NeverCorruptsTheChunk) {
  testing::TempDir dir;
  auto db = testing::OpenTsdb(dir.path());
  const Labels l{{"__name__", "shared"}};
  std::vector<std::thread> threads;
  std::atomic<int64_t> clock{0};
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        auto app = db->NewAppender();
        const int64_t t = clock.fetch_add(1);
        (void)app->Append(0, l, t, static_cast<double>(t));  // may lose the race: out of order
        ASSERT_TRUE(app->Commit().ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  const auto samples = testing::ReadAll(*db, {testing::Eq("__name__", "shared")}).at(l);
  for (size_t i = 1; i < samples.size(); ++i) ASSERT_LT(samples[i - 1].t, samples[i].t);
  for (const auto& s : samples) ASSERT_EQ(s.v, static_cast<double>(s.t));
  const auto st = db->Stats(1);
  EXPECT_EQ(st.samples_appended + st.out_of_order_samples, 8000u);
  EXPECT_EQ(st.samples_appended, samples.size());
}

// Writers move to new series every kBatchesPerGeneration batches while head
// GC runs in a loop with a short idle limit, so series are dropped while
// slower writers still hold them (staged or cached refs).
constexpr int kBatchesPerGeneration = 25;
constexpr int kSeriesPerGeneration = 20;

// Series `s` of writer `w`'s generation `gen`, under metric `name`.
Labels WriterSeries(const std::string& name, int w, int gen, int s) {
  return Labels{{"__name__", name},
                {"writer", std::to_string(w)},
                {"gen", std::to_string(gen)},
                {"s", std::to_string(s)}};
}

TEST(Concurrency, AppendersRacingHeadGc_LoseNoAcknowledgedSample) {
  ConfigureLogging(LogLevel::kWarn, LogFormat::kLogfmt);
  testing::TempDir dir;
  TsdbTuning tuning = testing::SmallTuning();
  tuning.background = false;
  tuning.head_gc_idle_ms = 30'000;  // three batches of sample time
  auto db = testing::OpenTsdb(dir.path(), tuning);
  ASSERT_NE(db, nullptr);

  std::atomic<int> writers_done{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      std::vector<SeriesRef> refs(kSeriesPerGeneration, 0);
      for (int b = 0; b < kBatches; ++b) {
        const int gen = b / kBatchesPerGeneration;
        if (b % kBatchesPerGeneration == 0) std::fill(refs.begin(), refs.end(), 0);
        auto app = db->NewAppender();
        for (int s = 0; s < kSeriesPerGeneration; ++s) {
          auto ref = app->Append(refs[s], WriterSeries("gen", w, gen, s), int64_t{b} * 10'000, b);
          ASSERT_TRUE(ref.ok()) << ref.status().ToString();
          refs[s] = *ref;
        }
        ASSERT_TRUE(app->Commit().ok());
      }
      ++writers_done;
    });
  }
  threads.emplace_back([&] {
    for (int pass = 0; writers_done.load() < kWriters; ++pass) {
      ASSERT_TRUE(db->CollectIdleSeries().ok());
      if (pass % 8 == 0) {
        ASSERT_TRUE(db->Checkpoint().ok());
      }
    }
  });
  threads.emplace_back([&] {
    while (writers_done.load() < kWriters) {
      (void)testing::ReadAll(*db, {testing::Eq("__name__", "gen")});
      auto q = db->NewQuerier();
      ASSERT_TRUE((*q)->LabelValues("gen", kMinTime, kMaxTime, {}).ok());
    }
  });
  for (auto& t : threads) t.join();

  const auto data = testing::ReadAll(*db, {testing::Eq("__name__", "gen")});
  const int generations = kBatches / kBatchesPerGeneration;
  ASSERT_EQ(data.size(), static_cast<size_t>(kWriters * generations * kSeriesPerGeneration));
  for (const auto& [labels, samples] : data) {
    const int first = std::stoi(std::string(labels.Get("gen"))) * kBatchesPerGeneration;
    ASSERT_EQ(samples.size(), static_cast<size_t>(kBatchesPerGeneration)) << labels.ToString();
    for (int i = 0; i < kBatchesPerGeneration; ++i) ASSERT_EQ(samples[i].t, int64_t{first + i} * 10'000);
  }
  ASSERT_TRUE(db->CollectIdleSeries().ok());
  EXPECT_EQ(db->Stats(1).num_series, static_cast<uint64_t>(kWriters * kSeriesPerGeneration));
}

// The scrape cache's path under churn: appends by ref alone (labels only after
// kNotFound) to series that head GC drops and re-creates between and during
// batches, over enough refs that whole pages of the head's ref table empty
// and are retired while other appenders may still be reading them.
constexpr int kChurnBatches = 240;
constexpr int kChurnBatchesPerGeneration = 8;
constexpr int kChurnSeries = 48;

TEST(Concurrency, RefOnlyAppendsRacingHeadGc_NeverUseAFreedSeriesAndLoseNothing) {
  ConfigureLogging(LogLevel::kWarn, LogFormat::kLogfmt);
  testing::TempDir dir;
  TsdbTuning tuning = testing::SmallTuning();
  tuning.background = false;
  tuning.head_gc_idle_ms = 15'000;  // a series skipped for one batch may go
  auto db = testing::OpenTsdb(dir.path(), tuning);
  ASSERT_NE(db, nullptr);

  std::atomic<int> writers_done{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      std::vector<SeriesRef> refs(kChurnSeries, 0);
      for (int b = 0; b < kChurnBatches; ++b) {
        const int gen = b / kChurnBatchesPerGeneration;
        if (b % kChurnBatchesPerGeneration == 0) std::fill(refs.begin(), refs.end(), 0);
        auto app = db->NewAppender();
        for (int s = (b % 2); s < kChurnSeries; s += 2) {  // every series every other batch
          const int64_t t = int64_t{b} * 10'000;
          auto ref = refs[s] != 0 ? app->Append(refs[s], {}, t, b) : Status::NotFound("no ref");
          if (!ref.ok() && ref.status().code() == StatusCode::kNotFound) {
            ref = app->Append(0, WriterSeries("churn", w, gen, s), t, b);
          }
          ASSERT_TRUE(ref.ok()) << ref.status().ToString();
          refs[s] = *ref;
        }
        ASSERT_TRUE(app->Commit().ok());
      }
      ++writers_done;
    });
  }
  std::atomic<size_t> removed{0};
  threads.emplace_back([&] {
    while (writers_done.load() < kWriters) {
      auto n = db->CollectIdleSeries();
      ASSERT_TRUE(n.ok()) << n.status().ToString();
      removed += *n;
    }
  });
  for (auto& t : threads) t.join();
  auto last = db->CollectIdleSeries();  // every earlier generation is idle now
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  removed += *last;

  const auto data = testing::ReadAll(*db, {testing::Eq("__name__", "churn")});
  const int generations = kChurnBatches / kChurnBatchesPerGeneration;
  ASSERT_EQ(data.size(), static_cast<size_t>(kWriters * generations * kChurnSeries));
  for (const auto& [labels, samples] : data) {
    const int s = std::stoi(std::string(labels.Get("s")));
    const int first = std::stoi(std::string(labels.Get("gen"))) * kChurnBatchesPerGeneration + s % 2;
    ASSERT_EQ(samples.size(), static_cast<size_t>(kChurnBatchesPerGeneration / 2)) << labels.ToString();
    for (size_t i = 0; i < samples.size(); ++i) {
      ASSERT_EQ(samples[i].t, int64_t{first + 2 * static_cast<int>(i)} * 10'000) << labels.ToString();
    }
  }
  // Every earlier generation left (some series more than once): thousands of
  // refs, so whole pages of the ref table emptied and were retired.
  EXPECT_GE(removed.load(), static_cast<size_t>((generations - 1) * kWriters * kChurnSeries));
}

}  // namespace
}  // namespace vigil::storage
