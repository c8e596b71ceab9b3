// ChunkFlusher: the queue of head series whose chunks were cut and its
// thread, which hands each queued series to a flush function (the store's
// WriteClosedChunks, below) until the series has none left. The commit path
// enqueues; the thread batches the queue, so commits never wait for RocksDB.
//
// Stop() drains the queue before the thread ends: every series enqueued
// before Stop() is flushed once more (unless its flush fails).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "base/status.h"
#include "storage/head.h"
#include "storage/partition_set.h"
#include "storage/write_health.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace vigil::storage {

// Where closed chunks go: RocksDB's chunk, postings and series column
// families, the partition set and counter a write updates, and the write
// health that a failed write blocks.
struct ChunkWriteTarget {
  rocksdb::DB* db;
  rocksdb::ColumnFamilyHandle* chunks;
  rocksdb::ColumnFamilyHandle* postings;
  rocksdb::ColumnFamilyHandle* series;
  PartitionSet* partitions;
  WriteHealth* health;
  std::atomic<uint64_t>* chunks_flushed;
};

// Writes the closed chunks of `s` (with the postings of partitions new to
// the series and, the first time, its series entries) in one RocksDB write,
// then drops them from s.unflushed. Refused while writes are blocked; an IO
// error blocks writes. Chunks cut meanwhile stay for the next flush.
[[nodiscard]] Status WriteClosedChunks(const ChunkWriteTarget& target, MemSeries& s);

class ChunkFlusher {
 public:
  // Writes the closed chunks of one series (MemSeries::unflushed) and
  // removes those written from it.
  using FlushFn = std::function<Status(MemSeries&)>;

  // `writes_blocked` tells whether the store refuses writes meanwhile: a
  // failed flush is then expected and not logged.
  ChunkFlusher(FlushFn flush, std::function<bool()> writes_blocked);
  ~ChunkFlusher();  // Stop()

  ChunkFlusher(const ChunkFlusher&) = delete;
  ChunkFlusher& operator=(const ChunkFlusher&) = delete;

  // Starts the thread. Without it (TsdbTuning::background off) queued series
  // wait until the owner flushes them itself.
  void Start();
  // Drains the queue, then ends the thread. Idempotent.
  void Stop();
  // Queues `s` for a flush. The caller sets s->flush_queued under s->mu
  // first, so a series is in the queue at most once.
  void Enqueue(const std::shared_ptr<MemSeries>& s);

 private:
  void Loop();

  const FlushFn flush_;
  const std::function<bool()> writes_blocked_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<MemSeries>> queue_;  // mu_
  bool stopping_ = false;                         // mu_
  std::thread thread_;
};

}  // namespace vigil::storage
