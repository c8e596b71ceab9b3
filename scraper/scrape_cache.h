// ScrapeCache: what the series of one target's scrapes resolved to, so that a
// steady target costs one string compare per sample instead of parsing the
// labels, relabeling and hashing them again (Prometheus's scrapeCache).
//
// Maps: the series text exactly as scraped (`name{labels}` before any
// relabeling, one key per spelling) -> an Entry: the storage ref the loop
// appends by, whether metric relabeling dropped the series, and the
// bookkeeping the cache needs for staleness.
//
// One scrape is BeginScrape(), then for every line Find() (or Add() on a miss)
// and Hold(), then EndScrape(). EndScrape() reports each series the previous
// successful scrape held and this one did not (or all of them, when this one
// failed) to the caller for a staleness marker, and forgets entries no
// successful scrape held in the last two scrapes.
//
// Lookups follow the order of the last successful scrape: each entry links to
// the entry of the line that followed it, and Find() tries that link before
// the hash table, so a body in the same order as last time costs no hashing.
// Entry pointers stay valid until the EndScrape() that forgets them.
//
// No memory accounting: the cache holds one hash node (~100 bytes, plus the
// text when longer than 15 bytes) per distinct series text of the last two
// scrapes, and during a scrape with new series an index of label hashes. Not thread-safe: one
// scrape loop owns it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "base/sample.h"

namespace vigil::scraper {

class ScrapeCache {
 public:
  // What one series text resolved to. The stored labels are not kept (the
  // head holds them): the loop appends by ref, and resolves them again from
  // the text in the rare case the store no longer knows the ref.
  class Entry {
   public:
    // Storage reference to append by; 0 until the store handed one out.
    SeriesRef ref() const { return ref_; }
    void set_ref(SeriesRef ref) { ref_ = ref; }
    // Metric relabeling dropped the series: its samples are not appended.
    bool dropped() const { return dropped_; }
    // Whether its sample in this scrape gets a staleness marker when it
    // vanishes: it went in at the scrape's time (no timestamp of its own), or
    // track_timestamps_staleness is on.
    void set_staleness_tracked(bool tracked) { tracked_ = tracked; }

   private:
    friend class ScrapeCache;
    SeriesRef ref_ = 0;
    uint64_t hash_ = 0;  // hash of the stored labels
    // Node of the line that followed this one in the last scrape: the first
    // guess for the next line. Points into the cache or is null: see Sweep.
    std::pair<const std::string, Entry>* next_ = nullptr;
    // Last successful scrape that held it (0: none), once caught up (CatchUp):
    // EndScrape skips the sweep when a scrape held every cached series.
    uint32_t last_seen_ = 0;
    uint32_t scraped_ = 0;  // last scrape (successful or not) that held it
    bool dropped_ = false;
    bool tracked_ = false;
    bool aliased_ = false;  // another spelling of the same labels is cached too
  };

  ScrapeCache() = default;
  ScrapeCache(const ScrapeCache&) = delete;
  ScrapeCache& operator=(const ScrapeCache&) = delete;

  // Starts a scrape: the following Find/Add/Hold calls are its lines, in order.
  void BeginScrape();

  // The entry of `series` (the text as scraped), or null when it is new to the
  // cache. Tries first the entry that followed the previous line in the last
  // successful scrape: no hashing while the body keeps its order. Between
  // scrapes, a plain lookup.
  Entry* Find(std::string_view series) {
    Node* guess = prev_ ? prev_->second.next_ : first_;
    // `series` may be the guess's own text (ExpositionParser::NextSeries).
    if (!guess || (series.data() != guess->first.data() && guess->first != series) ||
        series.size() != guess->first.size()) {
      const auto it = map_.find(series);
      guess = it == map_.end() ? nullptr : &*it;
    }
    current_ = guess;
    return guess ? &guess->second : nullptr;
  }

  // The series text Find() tries first for the scrape's next line (empty when
  // none): a text some earlier line had, for ExpositionParser::NextSeries.
  std::string_view Guess() const {
    const Node* guess = prev_ ? prev_->second.next_ : first_;
    return guess ? std::string_view(guess->first) : std::string_view();
  }

  // Adds `series` after Find missed it: its stored labels hash to
  // `labels_hash`, or nullopt when metric relabeling dropped it. A second
  // spelling of cached labels (e.g. labels in another order) becomes an alias:
  // one sample per label set and scrape, whichever spelling comes first.
  Entry* Add(std::string_view series, std::optional<uint64_t> labels_hash);

  // Records that the scrape's next line is `e`, the entry Find() or Add() just
  // returned for it. True when its sample is the first of its labels in this
  // scrape; false when relabeling dropped it or this scrape already held its
  // labels (the same or another spelling).
  bool Hold(Entry& e);

  // Ends the scrape begun last. `ok`: its lines were appended (a failed or
  // abandoned scrape appended nothing, so every series of the last successful
  // scrape counts as gone). Calls `mark_stale(series, entry)` for each series
  // that needs a staleness marker, then forgets entries no successful scrape
  // held in this or the previous scrape. Entries are visited in no particular
  // order; `mark_stale` may set the entry's ref and must not call the cache.
  template <typename MarkStale>
  void EndScrape(bool ok, MarkStale&& mark_stale);

  // Distinct series texts cached.
  size_t size() const { return map_.size(); }

 private:
  struct TransparentHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  using Map = std::unordered_map<std::string, Entry, TransparentHash, std::equal_to<>>;
  using Node = Map::value_type;

  // Moves last_seen up to the previous scrape when `e` was held by it and it
  // succeeded (a skipped sweep did not do it).
  void CatchUp(Entry& e) const {
    if (last_ok_ && e.scraped_ + 1 == iteration_) e.last_seen_ = e.scraped_;
  }
  // Indexes the cached entries by label hash (aliases_).
  void IndexAliases();
  // Ends the current scrape's lines: terminates the order links of a
  // successful scrape, unlinks the first line of a failed one.
  void EndLines(bool ok);
  // Updates `e` at the end of a scrape; true when it needs a staleness marker.
  // The links stay inside the cache: a successful scrape links each of its
  // entries to the entry of the following line (or null), and those are
  // forgotten no earlier than the entries linking to them; a failed scrape
  // unlinks the entries it held, as it may have linked them to entries it
  // adds and forgets again.
  bool Sweep(Entry& e, bool ok);
  bool NeedsStaleMarker(const Entry& e) const;
  bool Forgettable(const Entry& e) const {
    return e.last_seen_ == 0 || e.last_seen_ + 1 < iteration_;
  }
  void FinishScrape(bool ok);

  Map map_;
  uint32_t iteration_ = 0;   // scrapes so far (wraps after 136 years at 1 s)
  bool last_ok_ = false;     // whether the scrape before the current one succeeded
  Node* first_ = nullptr;    // node of the first line of the last successful scrape
  Node* prev_ = nullptr;     // node of the current scrape's previous line
  Node* current_ = nullptr;  // node Find() or Add() returned last
  size_t touched_ = 0;       // distinct entries the current scrape held
  // Cached entries by label hash, built on the first miss of a scrape to
  // recognise a new spelling of a label set that is already cached.
  std::optional<std::unordered_map<uint64_t, Entry*>> aliases_;
  // Label hashes of aliased entries held by the current scrape (entries
  // without another spelling are deduplicated by their `scraped_` stamp).
  std::unordered_set<uint64_t> alias_hashes_;
};

inline bool ScrapeCache::Hold(Entry& e) {
  (prev_ ? prev_->second.next_ : first_) = current_;
  prev_ = current_;
  const bool repeat = e.scraped_ == iteration_;
  if (!repeat) {
    CatchUp(e);
    ++touched_;
    e.scraped_ = iteration_;
  }
  if (e.dropped_ || repeat) return false;
  return !e.aliased_ || alias_hashes_.insert(e.hash_).second;
}

template <typename MarkStale>
void ScrapeCache::EndScrape(bool ok, MarkStale&& mark_stale) {
  // Nothing to mark stale or forget when the scrape held every cached series.
  EndLines(ok);
  if (!ok || touched_ != map_.size()) {
    for (auto it = map_.begin(); it != map_.end();) {
      if (Sweep(it->second, ok)) mark_stale(std::string_view(it->first), it->second);
      it = Forgettable(it->second) ? map_.erase(it) : std::next(it);
    }
  }
  FinishScrape(ok);
}

}  // namespace vigil::scraper
