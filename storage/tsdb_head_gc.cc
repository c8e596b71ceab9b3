// Head garbage collection: series that stopped receiving samples leave the
// head (maps, index, head checkpoint) once their chunks are in RocksDB, so
// head memory and checkpoint cost follow the active series, not every series
// ever seen. The on-disk series and postings keep their data queryable, and a
// series that comes back finds its old ref in the series column family.
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>

#include "storage/db_layout.h"
#include "base/logger.h"
#include "storage/tsdb.h"
#include "storage/tsdb_internal.h"

namespace vigil::storage {
namespace {

// True when `s` has nothing left in memory and no sample after `cutoff`.
bool IsIdleAndFlushed(const MemSeries& s, int64_t cutoff) {
  std::lock_guard lock(s.mu);
  return s.last_t <= cutoff && !s.open && s.unflushed.empty();
}

}  // namespace

std::vector<MemSeries*> Tsdb::CutIdleSeries(int64_t cutoff, int64_t* oldest_kept) {
  std::vector<MemSeries*> idle;
  *oldest_kept = kMaxTime;
  head_.ForEachSeries([&](MemSeries& s) {
    std::lock_guard lock(s.mu);
    if (s.last_t > cutoff) {
      *oldest_kept = std::min(*oldest_kept, Head::OldestInMemory(s));
      return true;
    }
    // Closed now so that nothing of the series stays only in memory.
    Head::CutOpenChunk(s);
    idle.push_back(&s);
    return true;
  });
  return idle;
}

Result<size_t> Tsdb::CollectIdleSeries() {
  std::lock_guard admin(admin_mu_);  // no checkpoint rewrites head entries meanwhile
  if (writes_blocked()) return Writable();
  const int64_t newest = NewestForRetention();
  if (!db_ || newest == kMinTime) return size_t{0};
  const int64_t cutoff = newest - tuning_.head_gc_idle_ms;
  int64_t oldest_kept = kMaxTime;
  const Head::ReadGuard guard(head_);  // the idle series stay allocated while used here
  std::vector<MemSeries*> idle = CutIdleSeries(cutoff, &oldest_kept);
  SetHeadMinTime(oldest_kept, newest);
  for (const auto& s : idle) VIGIL_RETURN_IF_ERROR(FlushSeries(*s));
  size_t removed = 0;
  {
    // No commit is between its WAL write and its head update while series
    // go; commits after this see `removed` and re-resolve their labels.
    std::unique_lock barrier(commit_barrier_);
    std::erase_if(idle, [&](const MemSeries* s) { return !IsIdleAndFlushed(*s, cutoff); });
    removed = head_.Remove(idle);
  }
  // Replay must not bring them back: their chunks are on disk and WAL
  // samples of refs not in the head are skipped.
  rocksdb::WriteBatch batch;
  for (const auto& s : idle) {
    if (s->removed.load(std::memory_order_relaxed)) (void)batch.Delete(cf(kCfHead), HeadKey(s->ref));
  }
  VIGIL_RETURN_IF_ERROR(FromRocks(db_->Write(StoreWrite(), &batch), "removing idle head series"));
  counters_.head_series_removed.fetch_add(removed, std::memory_order_relaxed);
  if (removed > 0) {
    VLOG_DEBUG("Removed idle series from the head",
               {{"series", std::to_string(removed)}, {"idle_before_ms", std::to_string(cutoff)}});
  }
  return removed;
}

}  // namespace vigil::storage
