// The read path: candidates from the head index and the per-partition
// postings in RocksDB, then chunk copies from both, merged per series.
#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/snapshot.h>

#include <algorithm>
#include <map>
#include <set>

#include "storage/chunk_series.h"
#include "base/coding.h"
#include "storage/db_layout.h"
#include "storage/tsdb.h"
#include "storage/tsdb_internal.h"

namespace vigil::storage {

// Disk candidates unknown to the head and the result, at most this many,
// are filtered by their labels (a RocksDB read each) instead of scanning
// another label's postings.
inline constexpr size_t kDiskLabelCheckThreshold = 1 << 16;

class TsdbQuerier final : public Querier {
 public:
  explicit TsdbQuerier(const TsdbReadView& view) : view_(view) {}

  Result<SeriesList> Select(int64_t mint, int64_t maxt, const LabelMatchers& matchers) const override {
    VIGIL_RETURN_IF_ERROR(ValidateSelectorMatchers(matchers));
    auto found = Collect(mint, maxt, matchers);
    if (!found.ok()) return found.status();
    SeriesList out;
    out.reserve(found->size());
    for (auto& f : *found) {
      out.push_back(std::make_shared<ChunkSeries>(std::move(f.labels), std::move(f.chunks), mint, maxt));
    }
    return out;
  }

  Result<std::vector<std::string>> LabelNames(int64_t mint, int64_t maxt,
                                              const LabelMatchers& matchers) const override {
    if (matchers.empty()) return IndexEntries(mint, maxt, "");
    auto found = Collect(mint, maxt, matchers);
    if (!found.ok()) return found.status();
    std::set<std::string> names;
    for (const auto& f : *found) {
      for (const auto& l : f.labels) names.insert(l.name);
    }
    return std::vector<std::string>(names.begin(), names.end());
  }

  Result<std::vector<std::string>> LabelValues(std::string_view name, int64_t mint, int64_t maxt,
                                               const LabelMatchers& matchers) const override {
    if (name.empty()) return std::vector<std::string>();
    if (matchers.empty()) return IndexEntries(mint, maxt, name);
    // Only series that have the label can contribute a value.
    LabelMatchers with_name = matchers;
    auto has_name = LabelMatcher::Make(MatchType::kRegexMatch, std::string(name), ".+");
    if (!has_name.ok()) return has_name.status();
    with_name.push_back(std::move(has_name.value()));
    auto found = Collect(mint, maxt, with_name);
    if (!found.ok()) return found.status();
    std::set<std::string> values;
    for (const auto& f : *found) values.insert(std::string(f.labels.Get(name)));
    return std::vector<std::string>(values.begin(), values.end());
  }

 // Refs and labels of the series with samples in range (no empty-matcher check).
  Result<std::vector<std::pair<SeriesRef, Labels>>> Matching(int64_t mint, int64_t maxt,
                                                             const LabelMatchers& matchers) const {
    auto found = Collect(mint, maxt, matchers);
    if (!found.ok()) return found.status();
    std::vector<std::pair<SeriesRef, Labels>> out;
    for (auto& f : *found) out.emplace_back(f.ref, std::move(f.labels));
    return out;
  }

 private:
  struct Found {
    SeriesRef ref = 0;
    Labels labels;
    std::vector<ChunkCopy> chunks;
    bool check_disk = true;
  };

  Result<std::vector<Found>> Collect(int64_t mint, int64_t maxt, const LabelMatchers& matchers) const;
  // Label names (`name` empty) or values of `name` without matchers, from
  // the indexes: O(distinct entries), not O(series). As Prometheus does per
  // block, the head counts when its samples overlap [mint, maxt] and a
  // partition's postings count when the partition does, so a series may be
  // counted without a sample inside the range itself.
  Result<std::vector<std::string>> IndexEntries(int64_t mint, int64_t maxt, std::string_view name) const;
  // Adds one partition's distinct names or values of `name`: one seek each.
  void PartitionIndexEntries(rocksdb::Iterator* it, int64_t partition, std::string_view name,
                             std::set<std::string>* out) const;
  // Partitions with chunks on disk that overlap [mint, maxt], ascending.
  std::vector<int64_t> PartitionsIn(int64_t mint, int64_t maxt) const;
  // Adds the series of `partition` that match; the caller holds a Head::ReadGuard.
  Status AddDiskCandidates(const rocksdb::ReadOptions& ro, int64_t partition,
                           const LabelMatchers& matchers, std::map<SeriesRef, Found>* found) const;
  Status ReadDiskChunks(rocksdb::Iterator* it, const std::vector<int64_t>& partitions, SeriesRef ref,
                        int64_t mint, int64_t maxt, std::vector<ChunkCopy>* out) const;
  std::vector<SeriesRef> PartitionPostings(const rocksdb::ReadOptions& ro, int64_t partition,
                                           const LabelMatcher* m) const;
  size_t CountUnknown(const std::vector<SeriesRef>& refs, const std::map<SeriesRef, Found>& found,
                      size_t limit) const;

  const TsdbReadView view_;
};

// Postings of one partition for one matcher (all series of the partition
// when `m` is null), sorted. A non-equality matcher is evaluated once per
// distinct value, and the postings of a rejected value are skipped in one seek.
std::vector<SeriesRef> TsdbQuerier::PartitionPostings(const rocksdb::ReadOptions& ro,
                                                      int64_t partition, const LabelMatcher* m) const {
  const bool per_value = m != nullptr && m->type() != MatchType::kEqual;
  const std::string prefix = m == nullptr ? PartitionPrefix(partition)
                             : per_value  ? PostingNamePrefix(partition, m->name())
                                          : PostingValuePrefix(partition, m->name(), m->value());
  std::vector<SeriesRef> refs;
  std::unique_ptr<rocksdb::Iterator> it(view_.db->NewIterator(ro, view_.postings));
  it->Seek(prefix);
  while (it->Valid() && it->key().starts_with(prefix)) {
    ParsedPosting p;
    const bool parsed = ParsePostingKey(it->key().ToStringView(), &p);
    if (!parsed || !per_value) {
      if (parsed) refs.push_back(p.ref);
      it->Next();
      continue;
    }
    const std::string value_prefix = PostingValuePrefix(partition, p.name, p.value);
    if (!m->Matches(p.value)) {
      it->Seek(PrefixEnd(value_prefix));
      continue;
    }
    for (; it->Valid() && it->key().starts_with(value_prefix); it->Next()) {
      if (ParsePostingKey(it->key().ToStringView(), &p)) refs.push_back(p.ref);
    }
  }
  std::sort(refs.begin(), refs.end());
  refs.erase(std::unique(refs.begin(), refs.end()), refs.end());
  return refs;
}

// How many of `refs` neither the result nor the head knows (each costs a
// RocksDB read to check); stops counting past `limit`.
size_t TsdbQuerier::CountUnknown(const std::vector<SeriesRef>& refs,
                                 const std::map<SeriesRef, Found>& found, size_t limit) const {
  size_t unknown = 0;
  for (const SeriesRef ref : refs) {
    if (found.contains(ref) || view_.head->Find(ref) != nullptr) continue;  // not dereferenced
    if (++unknown > limit) break;
  }
  return unknown;
}

Status TsdbQuerier::AddDiskCandidates(const rocksdb::ReadOptions& ro, int64_t partition,
                                      const LabelMatchers& matchers,
                                      std::map<SeriesRef, Found>* found) const {
  const auto restricting = RestrictingMatchers(matchers);
  std::vector<SeriesRef> refs = PartitionPostings(ro, partition, restricting.empty() ? nullptr : restricting[0]);
  for (size_t i = 1; i < restricting.size() && !refs.empty(); ++i) {
    // Candidates in memory (head series, results) are checked by their labels
    // cheaply; while few others remain, that beats scanning another label's
    // postings.
    if (refs.size() <= kDiskLabelCheckThreshold ||
        CountUnknown(refs, *found, kDiskLabelCheckThreshold) <= kDiskLabelCheckThreshold) {
      break;
    }
    refs = IntersectSorted(refs, PartitionPostings(ro, partition, restricting[i]));
  }
  for (const SeriesRef ref : refs) {
    if (const auto it = found->find(ref); it != found->end()) {
      it->second.check_disk = true;  // in this partition's postings: it has chunks on disk
      continue;
    }
    if (const MemSeries* s = view_.head->Find(ref)) {  // Collect holds a ReadGuard
      if (MatchesAll(matchers, s->labels))
        (*found)[ref] = Found{ref, s->labels.ToLabels(), {}, true};
      continue;
    }
    std::string v;
    const rocksdb::Status st = view_.db->Get(ro, view_.series, SeriesKey(ref), &v);
    if (st.IsNotFound()) continue;
    VIGIL_RETURN_IF_ERROR(FromRocks(st, "reading series " + std::to_string(ref)));
    Decoder d(v);
    Labels labels;
    if (!d.LabelSet(&labels)) return Status::Corruption("series entry " + std::to_string(ref));
    if (!MatchesAll(matchers, labels)) continue;
    (*found)[ref] = Found{ref, std::move(labels), {}, true};
  }
  return Status::OK();
}

Status TsdbQuerier::ReadDiskChunks(rocksdb::Iterator* it, const std::vector<int64_t>& partitions,
                                   SeriesRef ref, int64_t mint, int64_t maxt,
                                   std::vector<ChunkCopy>* out) const {
  for (const int64_t p : partitions) {
    const std::string prefix = ChunkSeriesPrefix(p, ref);
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      const int64_t chunk_min = DecodeOrderedInt64(it->key().ToStringView().substr(16));
      if (chunk_min > maxt) break;
      ChunkValue cv;
      if (!DecodeChunkValue(it->value().ToStringView(), chunk_min, &cv)) {
        return Status::Corruption("chunk value of series " + std::to_string(ref));
      }
      if (cv.max_time < mint) continue;
      out->push_back({p, chunk_min, cv.max_time, std::string(cv.chunk)});
    }
  }
  return FromRocks(it->status(), "reading chunks");
}

Result<std::vector<TsdbQuerier::Found>> TsdbQuerier::Collect(int64_t mint, int64_t maxt,
                                                             const LabelMatchers& matchers) const {
  std::map<SeriesRef, Found> found;
  // Head series are used only within this call: looked up without a lock.
  const Head::ReadGuard guard(*view_.head);
  // Head first, then the RocksDB snapshot: a chunk flushed in between shows
  // up in both and the merge iterator reads it once; it can never be missed.
  for (const SeriesRef ref : view_.head->Candidates(matchers)) {
    const MemSeries* s = view_.head->Find(ref);
    if (!s || !MatchesAll(matchers, s->labels)) continue;
    bool persisted = false;
    {
      std::lock_guard lock(s->mu);
      persisted = s->persisted;
    }
    found[ref] = Found{ref, s->labels.ToLabels(), CopyHeadChunks(*s, mint, maxt), persisted};
  }
  const std::vector<int64_t> partitions = PartitionsIn(mint, maxt);
  if (!partitions.empty()) {
    rocksdb::ManagedSnapshot snapshot(view_.db);
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshot.snapshot();
    for (const int64_t p : partitions) VIGIL_RETURN_IF_ERROR(AddDiskCandidates(ro, p, matchers, &found));
    const std::unique_ptr<rocksdb::Iterator> chunks(view_.db->NewIterator(ro, view_.chunks));
    for (auto& [ref, f] : found) {
      if (f.check_disk) VIGIL_RETURN_IF_ERROR(ReadDiskChunks(chunks.get(), partitions, ref, mint, maxt, &f.chunks));
    }
  }
  std::vector<Found> out;
  for (auto& [ref, f] : found) {
    if (f.chunks.empty()) continue;
    std::sort(f.chunks.begin(), f.chunks.end(),
              [](const ChunkCopy& a, const ChunkCopy& b) { return a.min_time < b.min_time; });
    out.push_back(std::move(f));
  }
  std::sort(out.begin(), out.end(), [](const Found& a, const Found& b) { return a.labels < b.labels; });
  return out;
}

std::vector<int64_t> TsdbQuerier::PartitionsIn(int64_t mint, int64_t maxt) const {
  std::vector<int64_t> partitions;
  const int64_t pmin = PartitionOf(mint, view_.partition_ms);
  const int64_t pmax = PartitionOf(maxt, view_.partition_ms);
  for (const int64_t p : view_.partitions->List()) {
    if (p >= pmin && p <= pmax) partitions.push_back(p);
  }
  return partitions;
}

void TsdbQuerier::PartitionIndexEntries(rocksdb::Iterator* it, int64_t partition, std::string_view name,
                                        std::set<std::string>* out) const {
  const std::string prefix = name.empty() ? PartitionPrefix(partition) : PostingNamePrefix(partition, name);
  it->Seek(prefix);
  while (it->Valid() && it->key().starts_with(prefix)) {
    ParsedPosting p;
    if (!ParsePostingKey(it->key().ToStringView(), &p)) {
      it->Next();
      continue;
    }
    out->emplace(name.empty() ? p.name : p.value);
    // Skip the other postings of this name (or value) in one seek.
    it->Seek(PrefixEnd(name.empty() ? PostingNamePrefix(partition, p.name)
                                    : PostingValuePrefix(partition, p.name, p.value)));
  }
}

Result<std::vector<std::string>> TsdbQuerier::IndexEntries(int64_t mint, int64_t maxt,
                                                           std::string_view name) const {
  std::set<std::string> out;
  if (maxt >= view_.head_min_time->load() && mint <= view_.max_time->load()) {
    for (auto& e : name.empty() ? view_.head->LabelNames() : view_.head->LabelValues(name)) {
      out.insert(std::move(e));
    }
  }
  const std::vector<int64_t> partitions = PartitionsIn(mint, maxt);
  if (!partitions.empty()) {
    const std::unique_ptr<rocksdb::Iterator> it(
        view_.db->NewIterator(rocksdb::ReadOptions(), view_.postings));
    for (const int64_t p : partitions) PartitionIndexEntries(it.get(), p, name, &out);
    VIGIL_RETURN_IF_ERROR(FromRocks(it->status(), "reading postings"));
  }
  return std::vector<std::string>(out.begin(), out.end());
}

TsdbReadView Tsdb::ReadView() const {
  return {&head_,          db_.get(),    cf(kCfSeries),   cf(kCfPostings),     cf(kCfChunks),
          tuning_.partition_ms, &partitions_, &head_min_time_, &counters_.max_time};
}

Result<std::vector<std::pair<SeriesRef, Labels>>> Tsdb::MatchingSeries(
    int64_t mint, int64_t maxt, const LabelMatchers& matchers) {
  return TsdbQuerier(ReadView()).Matching(mint, maxt, matchers);
}

Result<std::unique_ptr<Querier>> Tsdb::NewQuerier() {
  if (closed_) return Status::Unavailable("the store is closed");
  return std::unique_ptr<Querier>(std::make_unique<TsdbQuerier>(ReadView()));
}

}  // namespace vigil::storage
