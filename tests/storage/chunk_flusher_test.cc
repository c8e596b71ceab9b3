#include "storage/chunk_flusher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace vigil::storage {
namespace {

// A series with `chunks` closed chunks, queued as the commit path queues it.
std::shared_ptr<MemSeries> SeriesWithChunks(SeriesRef ref, int chunks) {
  auto s = std::make_shared<MemSeries>(ref, Labels{{"__name__", "m"}, {"i", std::to_string(ref)}});
  for (int i = 0; i < chunks; ++i) s->unflushed.push_back({0, i * 1000, i * 1000 + 999, "chunk"});
  s->flush_queued = true;
  return s;
}

// What the flush function wrote: chunks per series ref.
class WrittenChunks {
 public:
  // Takes every closed chunk of `s`, as the store's write to RocksDB does.
  Status Write(MemSeries& s) {
    std::lock_guard series_lock(s.mu);
    std::lock_guard lock(mu_);
    written_[s.ref] += s.unflushed.size();
    s.unflushed.clear();
    cv_.notify_all();
    return Status::OK();
  }

  size_t Of(SeriesRef ref) const {
    std::lock_guard lock(mu_);
    const auto it = written_.find(ref);
    return it == written_.end() ? 0 : it->second;
  }

  // Waits (up to 10 s) until `n` series had chunks written.
  bool WaitForSeries(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return written_.size() >= n; });
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<SeriesRef, size_t> written_;
};

bool Never() { return false; }

TEST(ChunkFlusher, FlushesEveryQueuedSeriesAndClearsItsQueuedFlag) {
  WrittenChunks written;
  ChunkFlusher flusher([&](MemSeries& s) { return written.Write(s); }, Never);
  flusher.Start();
  std::vector<std::shared_ptr<MemSeries>> series;
  for (SeriesRef ref = 1; ref <= 3; ++ref) {
    series.push_back(SeriesWithChunks(ref, static_cast<int>(ref)));
    flusher.Enqueue(series.back());
  }
  ASSERT_TRUE(written.WaitForSeries(3));
  flusher.Stop();
  for (const auto& s : series) {
    EXPECT_EQ(written.Of(s->ref), s->ref) << "series " << s->ref;
    std::lock_guard lock(s->mu);
    EXPECT_TRUE(s->unflushed.empty());
    EXPECT_FALSE(s->flush_queued);
  }
}

TEST(ChunkFlusher, StopDrainsTheQueueBeforeTheThreadEnds) {
  std::mutex gate;
  std::unique_lock closed(gate);  // holds the first flush until everything is queued
  WrittenChunks written;
  ChunkFlusher flusher(
      [&](MemSeries& s) {
        std::lock_guard pass(gate);
        return written.Write(s);
      },
      Never);
  flusher.Start();
  std::vector<std::shared_ptr<MemSeries>> series;
  for (SeriesRef ref = 1; ref <= 2000; ++ref) {  // more than one batch
    series.push_back(SeriesWithChunks(ref, 1));
    flusher.Enqueue(series.back());
  }
  closed.unlock();
  flusher.Stop();
  for (const auto& s : series) ASSERT_EQ(written.Of(s->ref), 1u) << "series " << s->ref;
}

TEST(ChunkFlusher, SeriesThatGotChunksDuringItsFlushIsFlushedAgain) {
  WrittenChunks written;
  std::atomic<int> calls{0};
  ChunkFlusher flusher(
      [&](MemSeries& s) {
        const Status st = written.Write(s);
        if (calls++ == 0) {  // a commit cut another chunk meanwhile
          std::lock_guard lock(s.mu);
          s.unflushed.push_back({0, 5000, 5999, "late"});
        }
        return st;
      },
      Never);
  flusher.Start();
  const auto s = SeriesWithChunks(1, 1);
  flusher.Enqueue(s);
  flusher.Stop();
  EXPECT_EQ(calls.load(), 2);
  EXPECT_EQ(written.Of(1), 2u);
  std::lock_guard lock(s->mu);
  EXPECT_TRUE(s->unflushed.empty());
  EXPECT_FALSE(s->flush_queued);
}

TEST(ChunkFlusher, FailedFlushKeepsTheChunksAndLeavesTheSeriesUnqueued) {
  std::atomic<int> calls{0};
  ChunkFlusher flusher(
      [&](MemSeries&) {
        ++calls;
        return Status::Unavailable("storage is not writable: disk full");
      },
      [] { return true; });
  flusher.Start();
  const auto s = SeriesWithChunks(1, 2);
  flusher.Enqueue(s);
  flusher.Stop();
  EXPECT_EQ(calls.load(), 1);  // no retry loop: the store flushes again once it resumes
  std::lock_guard lock(s->mu);
  EXPECT_EQ(s->unflushed.size(), 2u);
  EXPECT_FALSE(s->flush_queued);
}

}  // namespace
}  // namespace vigil::storage
