#include "storage/chunk_flusher.h"

#include <vector>

#include "base/logger.h"

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
      if (!st.ok() && !writes_blocked_()) VLOG_ERROR("flushing chunks failed", {{"err", st.ToString()}});
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

}  // namespace vigil::storage
