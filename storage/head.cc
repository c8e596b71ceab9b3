#include "storage/head.h"

#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <limits>

#include "storage/db_layout.h"

namespace vigil::storage {

size_t SeriesHashMap::Home(uint64_t hash) const {
  // The shard took the low bits; a multiplicative mix spreads the rest.
  constexpr uint64_t kMix = 0x9E3779B97F4A7C15ULL;
  return static_cast<size_t>((hash * kMix) >> 32) & (slots_.size() - 1);
}

void SeriesHashMap::Insert(uint64_t hash, std::shared_ptr<MemSeries> s) {
  if ((used_ + 1) * 4 > slots_.size() * 3) Grow();
  const size_t mask = slots_.size() - 1;
  size_t i = Home(hash);
  while (slots_[i].series) i = (i + 1) & mask;
  slots_[i] = Slot{hash, std::move(s)};
  ++used_;
}

std::shared_ptr<MemSeries> SeriesHashMap::Erase(uint64_t hash, const MemSeries* s) {
  if (slots_.empty()) return nullptr;
  const size_t mask = slots_.size() - 1;
  size_t hole = Home(hash);
  for (; slots_[hole].series.get() != s; hole = (hole + 1) & mask) {
    if (!slots_[hole].series) return nullptr;
  }
  std::shared_ptr<MemSeries> out = std::move(slots_[hole].series);
  --used_;
  // Backward shift: move each following slot of the probe run into the hole
  // unless its home lies cyclically in (hole, slot], where it must stay.
  for (size_t i = (hole + 1) & mask; slots_[i].series; i = (i + 1) & mask) {
    const size_t home = Home(slots_[i].hash);
    const bool stays = hole < i ? (home > hole && home <= i) : (home > hole || home <= i);
    if (stays) continue;
    slots_[hole] = std::move(slots_[i]);
    slots_[i].series.reset();
    hole = i;
  }
  return out;
}

void SeriesHashMap::Grow() {
  std::vector<Slot> old(std::max<size_t>(16, slots_.size() * 2));
  old.swap(slots_);
  used_ = 0;
  for (Slot& slot : old) {
    if (slot.series) Insert(slot.hash, std::move(slot.series));
  }
}

std::shared_ptr<MemSeries> Head::ByLabels(const Labels& labels, uint64_t hash) const {
  const HashShard& shard = hash_shards_[hash % kShards];
  std::shared_lock lock(shard.mu);
  const auto* s = shard.by_hash.Find(hash, labels);
  return s ? *s : nullptr;
}

namespace {

SeriesTable::Page** MapDirectory() {
  // Reserved, zero-filled and backed lazily: a data dir that has handed out
  // N refs touches about N / 2^19 of its 4 KiB pages.
  void* p = ::mmap(nullptr, SeriesTable::kMaxPages * sizeof(SeriesTable::Page*),
                   PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) std::abort();
  return static_cast<SeriesTable::Page**>(p);
}

}  // namespace

SeriesTable::SeriesTable() : dir_(MapDirectory()) {}

SeriesTable::~SeriesTable() {
  const size_t end = pages_end_.load();
  for (size_t p = 0; p < end; ++p) delete dir_[p];
  ::munmap(dir_, kMaxPages * sizeof(Page*));
}

MemSeries* SeriesTable::Find(SeriesRef ref) const {
  if (ref < kMaxPagedRef) {
    const Page* page = Dir(ref >> kPageBits).load(std::memory_order_acquire);
    return page ? page->slots[ref & (kPageSize - 1)].load(std::memory_order_acquire) : nullptr;
  }
  std::shared_lock lock(mu_);
  const auto it = overflow_.find(ref);
  return it == overflow_.end() ? nullptr : it->second.get();
}

std::shared_ptr<MemSeries> SeriesTable::Get(SeriesRef ref) const {
  std::shared_lock lock(mu_);
  if (ref < kMaxPagedRef) {
    const Page* page = Dir(ref >> kPageBits).load(std::memory_order_relaxed);
    return page ? page->owners[ref & (kPageSize - 1)] : nullptr;
  }
  const auto it = overflow_.find(ref);
  return it == overflow_.end() ? nullptr : it->second;
}

void SeriesTable::Set(SeriesRef ref, std::shared_ptr<MemSeries> s) {
  std::unique_lock lock(mu_);
  if (ref >= kMaxPagedRef) {
    overflow_[ref] = std::move(s);
    return;
  }
  const size_t index = ref >> kPageBits;
  Page* page = Dir(index).load(std::memory_order_relaxed);
  if (!page) {
    page = new Page();
    Dir(index).store(page, std::memory_order_release);
    if (index >= pages_end_.load(std::memory_order_relaxed)) {
      pages_end_.store(index + 1, std::memory_order_release);
    }
  }
  const size_t slot = ref & (kPageSize - 1);
  if (!page->owners[slot]) ++page->live;
  page->slots[slot].store(s.get(), std::memory_order_release);
  page->owners[slot] = std::move(s);
}

void SeriesTable::Erase(SeriesRef ref, const MemSeries* expected,
                        std::vector<std::shared_ptr<MemSeries>>* series,
                        std::vector<std::unique_ptr<Page>>* pages) {
  std::unique_lock lock(mu_);
  if (ref >= kMaxPagedRef) {
    const auto it = overflow_.find(ref);
    if (it == overflow_.end() || it->second.get() != expected) return;
    series->push_back(std::move(it->second));
    overflow_.erase(it);
    return;
  }
  const size_t index = ref >> kPageBits;
  Page* page = Dir(index).load(std::memory_order_relaxed);
  const size_t slot = ref & (kPageSize - 1);
  if (!page || page->owners[slot].get() != expected) return;
  page->slots[slot].store(nullptr, std::memory_order_release);
  series->push_back(std::move(page->owners[slot]));
  page->owners[slot].reset();
  if (--page->live == 0) {
    Dir(index).store(nullptr, std::memory_order_release);
    pages->emplace_back(page);
  }
}

void SeriesTable::ForEach(const std::function<bool(MemSeries&)>& fn) const {
  const size_t end = pages_end_.load(std::memory_order_acquire);
  for (size_t p = 0; p < end; ++p) {
    const Page* page = Dir(p).load(std::memory_order_acquire);
    if (!page) continue;
    for (const auto& slot : page->slots) {
      MemSeries* s = slot.load(std::memory_order_acquire);
      if (s && !fn(*s)) return;
    }
  }
  std::vector<MemSeries*> overflow;
  {
    std::shared_lock lock(mu_);
    for (const auto& [ref, s] : overflow_) overflow.push_back(s.get());
  }
  for (MemSeries* s : overflow) {
    if (!fn(*s)) return;
  }
}

std::vector<std::shared_ptr<MemSeries>> SeriesTable::All() const {
  std::vector<std::shared_ptr<MemSeries>> out;
  std::shared_lock lock(mu_);
  const size_t end = pages_end_.load(std::memory_order_relaxed);
  for (size_t p = 0; p < end; ++p) {
    const Page* page = Dir(p).load(std::memory_order_relaxed);
    if (!page) continue;
    for (const auto& s : page->owners) {
      if (s) out.push_back(s);
    }
  }
  for (const auto& [ref, s] : overflow_) out.push_back(s);
  return out;
}

uint64_t Head::EnterReader() const {
  std::lock_guard lock(epoch_mu_);
  ++readers_[epoch_];
  return epoch_;
}

void Head::ExitReader(uint64_t epoch) const {
  std::lock_guard lock(epoch_mu_);
  const auto it = readers_.find(epoch);
  if (--it->second == 0) readers_.erase(it);
}

void Head::Reclaim() {
  std::deque<Retired> freed;  // destroyed after the lock is released
  std::lock_guard lock(epoch_mu_);
  const uint64_t oldest_reader =
      readers_.empty() ? std::numeric_limits<uint64_t>::max() : readers_.begin()->first;
  while (!retired_.empty() && retired_.front().epoch < oldest_reader) {
    freed.push_back(std::move(retired_.front()));
    retired_.pop_front();
  }
}

std::shared_ptr<MemSeries> Head::Insert(SeriesRef ref, const Labels& labels, uint64_t hash,
                                        bool* created) {
  return InsertSeries(ref, labels, hash, created);
}

std::shared_ptr<MemSeries> Head::Insert(SeriesRef ref, CompactLabels&& labels, uint64_t hash,
                                        bool* created) {
  return InsertSeries(ref, std::move(labels), hash, created);
}

template <typename L>
std::shared_ptr<MemSeries> Head::InsertSeries(SeriesRef ref, L&& labels, uint64_t hash,
                                              bool* created) {
  *created = false;
  HashShard& shard = hash_shards_[hash % kShards];
  // Held until the series is in every map and the index: Remove takes the
  // same lock, so it never sees a half-inserted series.
  std::unique_lock lock(shard.mu);
  if (const auto* existing = shard.by_hash.Find(hash, labels)) return *existing;
  auto s = std::make_shared<MemSeries>(ref, std::forward<L>(labels));
  shard.by_hash.Insert(hash, s);
  table_.Set(ref, s);
  AddToIndex(*s);
  num_series_.fetch_add(1, std::memory_order_relaxed);
  *created = true;
  return s;
}

void Head::AddToIndex(const MemSeries& s) {
  std::unique_lock lock(index_mu_);
  size_t i = 0;
  for (const LabelView& l : s.labels) {
    if (i == index_hints_.size()) index_hints_.push_back({index_.end(), {}});
    IndexHint& hint = index_hints_[i++];
    const bool same_name = hint.name != index_.end() && hint.name->first == l.name;
    if (!same_name) {
      hint.name = index_.find(l.name);
      if (hint.name == index_.end()) hint.name = index_.try_emplace(std::string(l.name)).first;
    }
    ValueIndex& values = hint.name->second;
    if (!same_name || hint.value->first != l.value) {
      hint.value = values.find(l.value);
      if (hint.value == values.end()) hint.value = values.try_emplace(std::string(l.value)).first;
    }
    auto& refs = hint.value->second;
    const auto pos = std::upper_bound(refs.begin(), refs.end(), s.ref);
    // A series re-created with its old ref may find the ref still indexed.
    if (pos == refs.begin() || *(pos - 1) != s.ref) refs.insert(pos, s.ref);
  }
}

size_t Head::Remove(const std::vector<MemSeries*>& victims) {
  Reclaim();  // what the previous removal retired
  Retired retired;
  std::vector<const MemSeries*> removed;
  for (MemSeries* v : victims) {
    const uint64_t hash = v->labels.Hash();
    HashShard& shard = hash_shards_[hash % kShards];
    std::unique_lock lock(shard.mu);
    auto owner = shard.by_hash.Erase(hash, v);
    if (!owner) continue;
    retired.series.push_back(std::move(owner));
    table_.Erase(v->ref, v, &retired.series, &retired.pages);
    v->removed.store(true, std::memory_order_relaxed);
    removed.push_back(v);
  }
  RemoveFromIndex(removed);
  num_series_.fetch_sub(removed.size(), std::memory_order_relaxed);
  std::lock_guard lock(epoch_mu_);
  retired.epoch = epoch_++;
  retired_.push_back(std::move(retired));
  return removed.size();
}

void Head::RemoveFromIndex(const std::vector<const MemSeries*>& removed) {
  // name -> value -> refs to drop, so each postings list is rewritten once.
  std::map<std::string_view, std::map<std::string_view, std::vector<SeriesRef>>> drops;
  for (const MemSeries* s : removed) {
    for (const auto& l : s->labels) drops[l.name][l.value].push_back(s->ref);
  }
  std::unique_lock lock(index_mu_);
  index_hints_.clear();  // they may point at entries erased below
  for (auto& [name, values] : drops) {
    const auto name_it = index_.find(name);
    if (name_it == index_.end()) continue;
    for (auto& entry : values) {  // not a structured binding: clang 14 cannot capture those
      const auto value_it = name_it->second.find(entry.first);
      if (value_it == name_it->second.end()) continue;
      std::vector<SeriesRef>& refs = entry.second;
      std::erase_if(refs, [&](SeriesRef r) { return Find(r) != nullptr; });  // re-created since
      std::sort(refs.begin(), refs.end());
      std::erase_if(value_it->second,
                    [&](SeriesRef r) { return std::binary_search(refs.begin(), refs.end(), r); });
      if (value_it->second.empty()) name_it->second.erase(value_it);
    }
    if (name_it->second.empty()) index_.erase(name_it);
  }
}

void Head::CutOpenChunk(MemSeries& s) {
  if (!s.open) return;
  s.unflushed.push_back({s.open_partition, s.open->min_time(), s.open->max_time(), s.open->bytes()});
  s.open.reset();
}

int64_t Head::OldestInMemory(const MemSeries& s) {
  if (!s.unflushed.empty()) return s.unflushed.front().min_time;
  return s.open ? s.open->min_time() : kMaxTime;
}

AppendOutcome Head::Check(const MemSeries& s, int64_t t, double v) {
  const int64_t last = s.last_t.load(std::memory_order_relaxed);
  if (last == kMinTime || t > last) return AppendOutcome::kAppended;
  if (t < last) return AppendOutcome::kOutOfOrder;
  // Prometheus accepts an exact repeat silently and rejects a changed value.
  return std::bit_cast<uint64_t>(v) == s.last_v_bits ? AppendOutcome::kSameSample
                                                      : AppendOutcome::kDuplicate;
}

AppendOutcome Head::CheckUnlocked(const MemSeries& s, int64_t t, double v) {
  // last_t only grows: a newer t stays newer than what the relaxed load saw
  // or is caught by Append's check under s.mu; an older one stays older.
  const int64_t last = s.last_t.load(std::memory_order_relaxed);
  if (last == kMinTime || t > last) return AppendOutcome::kAppended;
  if (t < last) return AppendOutcome::kOutOfOrder;
  std::lock_guard lock(s.mu);
  return Check(s, t, v);
}

AppendOutcome Head::Append(MemSeries& s, int64_t t, double v, bool* cut) const {
  *cut = false;
  const AppendOutcome outcome = Check(s, t, v);
  if (outcome != AppendOutcome::kAppended) return outcome;
  const int64_t partition = PartitionOf(t, partition_ms_);
  if (s.open && (s.open->num_samples() >= kMaxChunkSamples || partition != s.open_partition)) {
    CutOpenChunk(s);
    *cut = true;
  }
  if (!s.open) {
    s.open = std::make_unique<XorChunkEncoder>();
    s.open_partition = partition;
  }
  s.open->Append(t, v);
  s.last_t.store(t, std::memory_order_relaxed);
  s.last_v_bits = std::bit_cast<uint64_t>(v);
  return AppendOutcome::kAppended;
}

std::vector<SeriesRef> IntersectSorted(const std::vector<SeriesRef>& a,
                                       const std::vector<SeriesRef>& b) {
  std::vector<SeriesRef> out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

std::vector<const LabelMatcher*> RestrictingMatchers(const LabelMatchers& matchers) {
  std::vector<const LabelMatcher*> out;
  for (const auto& m : matchers) {
    if (!m.MatchesEmpty()) out.push_back(&m);  // absent labels match the others
  }
  // Equality postings are exact and cheap to find: use them first.
  std::stable_sort(out.begin(), out.end(), [](const LabelMatcher* a, const LabelMatcher* b) {
    return (a->type() == MatchType::kEqual) > (b->type() == MatchType::kEqual);
  });
  return out;
}

std::vector<SeriesRef> Head::Postings(const LabelMatcher& m) const {
  std::vector<SeriesRef> refs;
  const auto name_it = index_.find(m.name());
  if (name_it == index_.end()) return refs;
  if (m.type() == MatchType::kEqual) {
    const auto it = name_it->second.find(m.value());
    if (it != name_it->second.end()) refs = it->second;
    return refs;
  }
  for (const auto& [value, postings] : name_it->second) {
    if (m.Matches(value)) refs.insert(refs.end(), postings.begin(), postings.end());
  }
  std::sort(refs.begin(), refs.end());
  return refs;
}

std::vector<SeriesRef> Head::Candidates(const LabelMatchers& matchers) const {
  const auto restricting = RestrictingMatchers(matchers);
  if (restricting.empty()) {  // no restricting matcher: every series
    std::vector<SeriesRef> all;
    all.reserve(NumSeries());
    ForEachSeries([&all](const MemSeries& s) {
      all.push_back(s.ref);
      return true;
    });
    std::sort(all.begin(), all.end());
    return all;
  }
  std::shared_lock lock(index_mu_);
  std::vector<SeriesRef> result = Postings(*restricting.front());
  for (size_t i = 1; i < restricting.size() && !result.empty(); ++i) {
    // Regex postings cost a scan of the label's values; once the candidates
    // are few, checking their labels (the caller does) is cheaper.
    if (restricting[i]->type() != MatchType::kEqual && result.size() <= kLabelCheckThreshold) break;
    result = IntersectSorted(result, Postings(*restricting[i]));
  }
  return result;
}

std::vector<std::shared_ptr<MemSeries>> Head::AllSeries() const { return table_.All(); }

void Head::ForEachSeries(const std::function<bool(MemSeries&)>& fn) const {
  const ReadGuard guard(*this);
  table_.ForEach(fn);
}

std::vector<std::string> Head::LabelNames() const {
  std::vector<std::string> names;
  std::shared_lock lock(index_mu_);
  names.reserve(index_.size());
  for (const auto& [name, values] : index_) names.push_back(name);
  return names;
}

std::vector<std::string> Head::LabelValues(std::string_view name) const {
  std::vector<std::string> values;
  std::shared_lock lock(index_mu_);
  const auto it = index_.find(name);
  if (it == index_.end()) return values;
  values.reserve(it->second.size());
  for (const auto& [value, refs] : it->second) values.push_back(value);
  return values;
}

void Head::VisitIndex(
    const std::function<void(const std::string&, const std::string&, size_t)>& fn) const {
  std::shared_lock lock(index_mu_);
  for (const auto& [name, values] : index_) {
    for (const auto& [value, refs] : values) fn(name, value, refs.size());
  }
}

std::vector<ChunkCopy> CopyHeadChunks(const MemSeries& s, int64_t mint, int64_t maxt) {
  std::vector<ChunkCopy> out;
  std::lock_guard lock(s.mu);
  for (const auto& c : s.unflushed) {
    if (c.max_time >= mint && c.min_time <= maxt) out.push_back(c);
  }
  if (s.open && s.open->max_time() >= mint && s.open->min_time() <= maxt) {
    out.push_back({s.open_partition, s.open->min_time(), s.open->max_time(), s.open->bytes()});
  }
  return out;
}

}  // namespace vigil::storage
