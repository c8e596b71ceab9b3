#include "storage/chunk_flusher.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <vector>

#include "base/coding.h"
#include "base/logger.h"
#include "storage/db_layout.h"
#include "storage/tsdb_internal.h"

namespace vigil::storage {

// Series taken off the queue at once.
constexpr size_t kFlushBatch = 1024;

ChunkFlusher::ChunkFlusher(FlushFn flush, std::function<bool()> writes_blocked)
    : flush_(std::move(flush)), writes_blocked_(std::move(writes_blocked)) {}

ChunkFlusher::~ChunkFlusher() { Stop(); }

void ChunkFlusher::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void ChunkFlusher::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ChunkFlusher::Enqueue(const std::shared_ptr<MemSeries>& s) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(s);
  }
  cv_.notify_one();
}

void ChunkFlusher::Loop() {
  for (;;) {
    std::vector<std::shared_ptr<MemSeries>> batch;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;
      while (!queue_.empty() && batch.size() < kFlushBatch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    for (const auto& s : batch) {
      const Status st = flush_(*s);
      // While writes are blocked the chunks wait in memory; the store flushes
      // them once it resumes (Tsdb::TryResumeWrites).
      if (!st.ok() && !writes_blocked_())
        VLOG_ERROR("flushing chunks failed", {{"err", st.ToString()}});
      bool again = false;
      {
        std::lock_guard lock(s->mu);
        again = !s->unflushed.empty() && st.ok();
        s->flush_queued = again;
      }
      if (again) Enqueue(s);
    }
  }
}

Status WriteClosedChunks(const ChunkWriteTarget& target, MemSeries& s) {
  std::vector<ChunkCopy> chunks;
  int64_t indexed = kMinTime;
  bool persisted = false;
  {
    std::lock_guard lock(s.mu);
    chunks = s.unflushed;
    indexed = s.indexed_partition;
    persisted = s.persisted;
  }
  if (chunks.empty()) return Status::OK();
  if (target.health->blocked()) return target.health->Writable();
  rocksdb::WriteBatch batch;
  std::vector<int64_t> new_partitions;
  for (const auto& c : chunks) {
    (void)batch.Put(target.chunks, ChunkKey(c.partition, s.ref, c.min_time),
                    EncodeChunkValue(c.min_time, c.max_time, c.bytes));
    if (c.partition == indexed) continue;
    indexed = c.partition;
    new_partitions.push_back(c.partition);
    for (const auto& l : s.labels) {
      (void)batch.Put(target.postings, PostingKey(c.partition, l.name, l.value, s.ref), "");
    }
  }
  if (!persisted) {
    std::string v;
    PutLabels(&v, s.labels);
    (void)batch.Put(target.series, SeriesKey(s.ref), v);
    (void)batch.Put(target.series, SeriesHashKey(s.labels.Hash(), s.ref), "");
  }
  if (Status st = FromRocks(target.db->Write(StoreWrite(), &batch), "writing chunks"); !st.ok()) {
    if (st.code() == StatusCode::kIOError) target.health->Block(st);
    return st;
  }
  target.partitions->Insert(new_partitions.begin(), new_partitions.end());
  target.chunks_flushed->fetch_add(chunks.size(), std::memory_order_relaxed);
  std::lock_guard lock(s.mu);
  const int64_t flushed_until = chunks.back().min_time;
  while (!s.unflushed.empty() && s.unflushed.front().min_time <= flushed_until) {
    s.unflushed.erase(s.unflushed.begin());
  }
  s.indexed_partition = std::max(s.indexed_partition, indexed);
  s.persisted = true;
  return Status::OK();
}

}  // namespace vigil::storage
