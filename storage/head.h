// The head: the active series, each with its open chunk and the closed
// chunks not yet written to RocksDB; plus the in-memory inverted index of
// those series. Appends touch only one series' mutex; lookups take a shard's
// shared lock. No lock covers the whole head on the append path. Series that
// went idle are removed (Tsdb::CollectIdleSeries); their data stays on disk.
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/labels.h"
#include "base/matcher.h"
#include "storage/storage.h"
#include "storage/chunkenc/xor_chunk.h"

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
  MemSeries(SeriesRef r, Labels l) : ref(r), labels(std::move(l)) {}

  const SeriesRef ref;
  const Labels labels;
  // Set once the series record went into the WAL (under the WAL lock).
  std::atomic<bool> logged{false};
  // Set when the head dropped the series (Head::Remove, with commits held
  // off); an appender that still holds it re-resolves the labels at commit.
  std::atomic<bool> removed{false};

  mutable std::mutex mu;
  std::unique_ptr<XorChunkEncoder> open;  // null until the first sample
  int64_t open_partition = 0;
  std::vector<ChunkCopy> unflushed;  // closed, waiting for the flusher, oldest first
  int64_t last_t = kMinTime;         // newest sample; kMinTime when none
  uint64_t last_v_bits = 0;
  int64_t indexed_partition = kMinTime;  // newest partition whose postings were written
  bool persisted = false;                // series CF entries written
  bool flush_queued = false;
};

// Result of applying one sample to a series.
enum class AppendOutcome { kAppended, kSameSample, kOutOfOrder, kDuplicate };

class Head {
 public:
  explicit Head(int64_t partition_ms) : partition_ms_(partition_ms) {}

  // The series for `labels`, or null.
  std::shared_ptr<MemSeries> ByLabels(const Labels& labels, uint64_t hash) const;
  std::shared_ptr<MemSeries> ByRef(SeriesRef ref) const;
  // Inserts a series unless one with the same labels exists; returns the one
  // that is in the head afterwards (`created` tells which happened).
  std::shared_ptr<MemSeries> Insert(SeriesRef ref, const Labels& labels, uint64_t hash,
                                    bool* created);
  // Drops `victims` from the maps and the index and marks them removed;
  // returns how many were still in the head. The caller keeps commits out
  // (a commit must never apply samples to a removed series).
  size_t Remove(const std::vector<std::shared_ptr<MemSeries>>& victims);
  // Closes the open chunk of `s` into its unflushed list. Caller holds s.mu.
  static void CutOpenChunk(MemSeries& s);
  // Oldest sample of `s` still in memory; kMaxTime when none. Caller holds s.mu.
  static int64_t OldestInMemory(const MemSeries& s);

  // Checks whether a sample could be appended (no state change). Caller holds s.mu.
  static AppendOutcome Check(const MemSeries& s, int64_t t, double v);
  // Appends under s.mu, cutting the open chunk at kMaxChunkSamples or at a
  // partition boundary; returns true in *cut when a chunk was closed.
  AppendOutcome Append(MemSeries& s, int64_t t, double v, bool* cut) const;

  // Sorted refs of head series that may match: the intersection of the
  // postings of every matcher that rejects the empty string. Callers still
  // check all matchers against the labels.
  std::vector<SeriesRef> Candidates(const LabelMatchers& matchers) const;
  // All series (snapshot of the pointers), in no particular order.
  std::vector<std::shared_ptr<MemSeries>> AllSeries() const;
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
    std::unordered_map<uint64_t, std::vector<std::shared_ptr<MemSeries>>> by_hash;
  };
  struct RefShard {
    mutable std::shared_mutex mu;
    std::unordered_map<SeriesRef, std::shared_ptr<MemSeries>> by_ref;
  };

  void AddToIndex(const MemSeries& s);
  // Takes the refs of removed series out of the index, except refs that a
  // re-created series (same labels, same ref) holds again.
  void RemoveFromIndex(const std::vector<const MemSeries*>& removed);
  // Sorted refs whose label satisfies `m`; caller holds index_mu_.
  std::vector<SeriesRef> Postings(const LabelMatcher& m) const;

  const int64_t partition_ms_;
  std::array<HashShard, kShards> hash_shards_;
  std::array<RefShard, kShards> ref_shards_;
  std::atomic<size_t> num_series_{0};

  mutable std::shared_mutex index_mu_;
  // label name -> value -> sorted refs
  std::map<std::string, std::map<std::string, std::vector<SeriesRef>, std::less<>>, std::less<>>
      index_;
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
