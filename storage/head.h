// The head: the active series, each with its open chunk and the closed
// chunks not yet written to RocksDB; plus the in-memory inverted index of
// those series. Appends touch only one series' mutex; a lookup by ref takes
// no lock (SeriesTable), a lookup by labels a shard's shared lock. No lock
// covers the whole head on the append path. Series that went idle are
// removed (Tsdb::CollectIdleSeries); their data stays on disk.
//
// Lifetime invariant (why raw MemSeries pointers from Head::Find are safe):
// the head owns every series through shared_ptrs (the table and the hash
// shards, SeriesHashMap). Head::Remove takes a series out of both but does not release
// those references: it retires them (and any table page that became empty)
// tagged with the current epoch, then advances the epoch. Retired memory is
// freed (Head::Reclaim) only once every ReadGuard that was taken at or
// before that epoch is gone. A ReadGuard taken later was registered after
// the removal cleared the table slots (both happen under epoch_mu_), so it
// can no longer find the retired series. Hence: a MemSeries* or table page
// obtained while a ReadGuard is held stays valid until that guard ends.
// Whoever keeps a series beyond its guard must hold a shared_ptr (ByRef).
#pragma once

#include <array>
#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/compact_labels.h"
#include "base/labels.h"
#include "base/matcher.h"
#include "storage/chunkenc/xor_chunk.h"
#include "storage/storage.h"

namespace vigil::storage {

// A chunk that left the head or is being copied out of it.
struct ChunkCopy {
  int64_t partition;
  int64_t min_time;
  int64_t max_time;
  std::string bytes;
};

// One series in memory. Fields below `mu` are guarded by it.
struct MemSeries {
  MemSeries(SeriesRef r, const Labels& l) : ref(r), labels(l) {}
  MemSeries(SeriesRef r, CompactLabels&& l) : ref(r), labels(std::move(l)) {}

  const SeriesRef ref;
  const CompactLabels labels;  // one buffer; ToLabels() where a Labels is needed
  // Set once the series record went into the WAL (under the WAL lock).
  std::atomic<bool> logged{false};
  // Set when the head dropped the series (Head::Remove, with commits held
  // off); an appender that still holds it re-resolves the labels at commit.
  std::atomic<bool> removed{false};

  mutable std::mutex mu;
  std::unique_ptr<XorChunkEncoder> open;  // null until the first sample
  int64_t open_partition = 0;
  std::vector<ChunkCopy> unflushed;  // closed, waiting for the flusher, oldest first
  // Newest sample; kMinTime when none. Written under `mu`; Head::CheckUnlocked
  // reads it without (it only grows, so a stale value is an older bound).
  std::atomic<int64_t> last_t{kMinTime};
  uint64_t last_v_bits = 0;
  int64_t indexed_partition = kMinTime;  // newest partition whose postings were written
  bool persisted = false;                // series CF entries written
  bool flush_queued = false;
};

// Result of applying one sample to a series.
enum class AppendOutcome { kAppended, kSameSample, kOutOfOrder, kDuplicate };

// Ref -> series. Refs come from a dense, increasing counter, so a table
// indexed by ref replaces a hash map: a fixed directory of kMaxPages page
// pointers (reserved address space, touched only where pages exist) and
// pages of kPageSize slots allocated on demand. Find reads two atomics and
// takes no lock; Set/Erase/Get/AllSeries take `mu_`. A page whose last series
// leaves is unhooked and handed to the caller to retire (readers may still
// be in it). Refs >= kMaxPagedRef (2^30, i.e. a billion series created over
// the life of the data dir) go to a locked hash map instead. Cost: 24 B per
// slot, so a page (24 KiB) is dense for series created together, but one
// live series keeps its whole page; a series that returns with an old ref
// re-creates its page.
class SeriesTable {
 public:
  static constexpr int kPageBits = 10;
  static constexpr SeriesRef kPageSize = SeriesRef{1} << kPageBits;
  static constexpr size_t kMaxPages = size_t{1} << 20;
  static constexpr SeriesRef kMaxPagedRef = kPageSize * kMaxPages;

  struct Page {
    std::array<std::atomic<MemSeries*>, kPageSize> slots{};  // readers
    std::array<std::shared_ptr<MemSeries>, kPageSize> owners;  // mu_
    size_t live = 0;                                           // mu_
  };

  SeriesTable();
  ~SeriesTable();
  SeriesTable(const SeriesTable&) = delete;
  SeriesTable& operator=(const SeriesTable&) = delete;

  // The series at `ref` or null; lock-free for paged refs. The pointer is
  // valid only under the Head's lifetime rule (see the top of this file).
  MemSeries* Find(SeriesRef ref) const;
  std::shared_ptr<MemSeries> Get(SeriesRef ref) const;
  void Set(SeriesRef ref, std::shared_ptr<MemSeries> s);
  // Clears `ref` if it holds `expected`; moves the table's reference into
  // *series and a page that became empty into *pages.
  void Erase(SeriesRef ref, const MemSeries* expected,
             std::vector<std::shared_ptr<MemSeries>>* series,
             std::vector<std::unique_ptr<Page>>* pages);
  // Calls fn on every series until it returns false, without a lock (the
  // caller holds a ReadGuard). Series inserted meanwhile may be missed.
  void ForEach(const std::function<bool(MemSeries&)>& fn) const;
  std::vector<std::shared_ptr<MemSeries>> All() const;

 private:
  std::atomic_ref<Page*> Dir(size_t page) const { return std::atomic_ref<Page*>(dir_[page]); }

  mutable std::shared_mutex mu_;
  Page** const dir_;                     // kMaxPages entries, mmap'ed (zero, lazily backed)
  std::atomic<size_t> pages_end_{0};     // one past the highest page ever allocated
  std::unordered_map<SeriesRef, std::shared_ptr<MemSeries>> overflow_;  // mu_
};

// Label hash -> series, for one shard of the head (the shard's mutex guards
// it): open addressing with linear probing in one array of {hash, series}
// slots, kept at most 3/4 full; series with equal hashes sit in neighbouring
// slots; removal shifts the following slots back (no tombstones). About 24 B
// per slot, where a node map of vectors costs a node, a bucket and a vector
// block per series.
class SeriesHashMap {
 public:
  // The series with `hash` and `labels` (a Labels or a CompactLabels), or null.
  template <typename L>
  const std::shared_ptr<MemSeries>* Find(uint64_t hash, const L& labels) const {
    if (slots_.empty()) return nullptr;
    const size_t mask = slots_.size() - 1;
    for (size_t i = Home(hash); slots_[i].series; i = (i + 1) & mask) {
      // Equal hashes may hide different label sets.
      if (slots_[i].hash == hash && slots_[i].series->labels == labels) return &slots_[i].series;
    }
    return nullptr;
  }
  void Insert(uint64_t hash, std::shared_ptr<MemSeries> s);
  // Takes `s` out and returns the map's reference to it (null if absent).
  std::shared_ptr<MemSeries> Erase(uint64_t hash, const MemSeries* s);
  size_t size() const { return used_; }

 private:
  struct Slot {
    uint64_t hash = 0;
    std::shared_ptr<MemSeries> series;  // null: empty slot
  };
  size_t Home(uint64_t hash) const;
  void Grow();

  std::vector<Slot> slots_;  // a power of two long, or empty
  size_t used_ = 0;
};

class Head {
 public:
  explicit Head(int64_t partition_ms) : partition_ms_(partition_ms) {}

  // Registers a reader for the lifetime rule at the top of this file: while
  // it lives, no series or table page it can reach is freed.
  class ReadGuard {
   public:
    explicit ReadGuard(const Head& head) : head_(head), epoch_(head.EnterReader()) {}
    ~ReadGuard() { head_.ExitReader(epoch_); }
    ReadGuard(const ReadGuard&) = delete;
    ReadGuard& operator=(const ReadGuard&) = delete;

   private:
    const Head& head_;
    const uint64_t epoch_;
  };

  // The series for `labels`, or null.
  std::shared_ptr<MemSeries> ByLabels(const Labels& labels, uint64_t hash) const;
  std::shared_ptr<MemSeries> ByRef(SeriesRef ref) const { return table_.Get(ref); }
  // The series for `ref` or null, without a lock or reference count. The
  // caller holds a ReadGuard for as long as it uses the pointer.
  MemSeries* Find(SeriesRef ref) const { return table_.Find(ref); }
  // Inserts a series unless one with the same labels exists; returns the one
  // that is in the head afterwards (`created` tells which happened).
  std::shared_ptr<MemSeries> Insert(SeriesRef ref, const Labels& labels, uint64_t hash,
                                    bool* created);
  // The same with labels already in the head's form (the checkpoint load).
  std::shared_ptr<MemSeries> Insert(SeriesRef ref, CompactLabels&& labels, uint64_t hash,
                                    bool* created);
  // Drops `victims` from the maps and the index and marks them removed;
  // returns how many were still in the head. The caller keeps commits out
  // (a commit must never apply samples to a removed series). Their memory
  // is retired, not freed (see the top of this file).
  size_t Remove(const std::vector<MemSeries*>& victims);
  // Frees retired series and pages that no ReadGuard can reach any more.
  void Reclaim();
  // Closes the open chunk of `s` into its unflushed list. Caller holds s.mu.
  static void CutOpenChunk(MemSeries& s);
  // Oldest sample of `s` still in memory; kMaxTime when none. Caller holds s.mu.
  static int64_t OldestInMemory(const MemSeries& s);

  // Checks whether a sample could be appended (no state change). Caller holds s.mu.
  static AppendOutcome Check(const MemSeries& s, int64_t t, double v);
  // Check without the caller holding s.mu: the same answer as Check at some
  // moment during the call. Only an equal timestamp (same sample or
  // duplicate, which also needs the value) takes s.mu.
  static AppendOutcome CheckUnlocked(const MemSeries& s, int64_t t, double v);
  // Appends under s.mu, cutting the open chunk at kMaxChunkSamples or at a
  // partition boundary; returns true in *cut when a chunk was closed.
  AppendOutcome Append(MemSeries& s, int64_t t, double v, bool* cut) const;

  // Sorted refs of head series that may match: the intersection of the
  // postings of every matcher that rejects the empty string. Callers still
  // check all matchers against the labels.
  std::vector<SeriesRef> Candidates(const LabelMatchers& matchers) const;
  // All series (snapshot of the pointers), in no particular order.
  std::vector<std::shared_ptr<MemSeries>> AllSeries() const;
  // Calls fn on every series in place (no snapshot) until it returns false.
  // fn runs under a ReadGuard and no head lock; series inserted during the
  // walk may be missed, removed ones may still be visited.
  void ForEachSeries(const std::function<bool(MemSeries&)>& fn) const;
  size_t NumSeries() const { return num_series_.load(std::memory_order_relaxed); }

  // Sorted label names of the head series, from the index.
  std::vector<std::string> LabelNames() const;
  // Sorted values of label `name` over the head series, from the index.
  std::vector<std::string> LabelValues(std::string_view name) const;

  // Visits name -> value -> number of series, under the index lock.
  void VisitIndex(const std::function<void(const std::string&, const std::string&, size_t)>& fn) const;

  int64_t partition_ms() const { return partition_ms_; }

 private:
  static constexpr size_t kShards = 64;
  struct HashShard {
    mutable std::shared_mutex mu;
    SeriesHashMap by_hash;
  };
  // Series and pages removed at `epoch`, freed once no reader of that epoch
  // or an older one is left.
  struct Retired {
    uint64_t epoch;
    std::vector<std::shared_ptr<MemSeries>> series;
    std::vector<std::unique_ptr<SeriesTable::Page>> pages;
  };

  uint64_t EnterReader() const;
  void ExitReader(uint64_t epoch) const;

  template <typename L>
  std::shared_ptr<MemSeries> InsertSeries(SeriesRef ref, L&& labels, uint64_t hash, bool* created);
  void AddToIndex(const MemSeries& s);
  // Takes the refs of removed series out of the index, except refs that a
  // re-created series (same labels, same ref) holds again.
  void RemoveFromIndex(const std::vector<const MemSeries*>& removed);
  // Sorted refs whose label satisfies `m`; caller holds index_mu_.
  std::vector<SeriesRef> Postings(const LabelMatcher& m) const;

  const int64_t partition_ms_;
  std::array<HashShard, kShards> hash_shards_;
  SeriesTable table_;
  std::atomic<size_t> num_series_{0};

  mutable std::mutex epoch_mu_;
  uint64_t epoch_ = 0;                                  // epoch_mu_
  mutable std::map<uint64_t, size_t> readers_;          // epoch -> live guards; epoch_mu_
  std::deque<Retired> retired_;                         // oldest first; epoch_mu_

  mutable std::shared_mutex index_mu_;
  // label name -> value -> sorted refs
  using ValueIndex = std::map<std::string, std::vector<SeriesRef>, std::less<>>;
  using NameIndex = std::map<std::string, ValueIndex, std::less<>>;
  NameIndex index_;
  // AddToIndex's guess for the i-th label of the next series: the entries
  // the previous series' i-th label used. Series created together (a
  // target's first scrape, a checkpoint in ref order) share most labels, so
  // the guess saves two map searches per label. index_mu_; cleared whenever
  // an index entry is erased.
  struct IndexHint {
    NameIndex::iterator name;
    ValueIndex::iterator value;
  };
  std::vector<IndexHint> index_hints_;
};

// Copies the head chunks of `s` overlapping [mint, maxt] (short lock).
std::vector<ChunkCopy> CopyHeadChunks(const MemSeries& s, int64_t mint, int64_t maxt);

// Candidate sets at most this large are filtered by checking labels rather
// than by reading more postings.
inline constexpr size_t kLabelCheckThreshold = 4096;

// The matchers that reject the empty string (only those can narrow a
// candidate set via postings), equality matchers first.
std::vector<const LabelMatcher*> RestrictingMatchers(const LabelMatchers& matchers);

// Intersects sorted ref lists.
std::vector<SeriesRef> IntersectSorted(const std::vector<SeriesRef>& a,
                                       const std::vector<SeriesRef>& b);

}  // namespace vigil::storage
