// ScrapeLoop: scrapes one target on its interval and appends the samples, the
// synthetic series (up, scrape_duration_seconds, ...) and staleness markers
// as one Appender batch per scrape. Runs on its own thread, joined by Stop().
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "config/config.h"
#include "scraper/exposition_parser.h"
#include "scraper/target.h"
#include "scraper/target_scraper.h"
#include "base/clock.h"
#include "storage/storage.h"

namespace vigil::scraper {

class ScrapeLoop {
 public:
  ScrapeLoop(storage::Storage* db, std::shared_ptr<const config::ScrapeConfig> config, Target target,
             const Clock* clock);
  ~ScrapeLoop();  // Stop(false)
  ScrapeLoop(const ScrapeLoop&) = delete;
  ScrapeLoop& operator=(const ScrapeLoop&) = delete;

  // Starts the thread. The first scrape happens at the target's phase: the
  // interval offset given by a hash of the target, so restarts keep phase.
  void Start();
  // Stops and joins the thread; with `mark_stale`, writes staleness markers
  // for every series of the last scrape (the target went away).
  void Stop(bool mark_stale);

  // Scrapes once now and appends at time `t_ms`. The thread calls this; tests
  // call it directly to drive time.
  void ScrapeOnce(int64_t t_ms);

  const Target& target() const { return target_; }
  TargetStatus Status() const;
  std::vector<MetricMetadata> Metadata() const;

  // Milliseconds into each interval at which this target is scraped.
  int64_t PhaseMs() const;

 private:
  // What a raw series text from the target resolved to. The resolved labels
  // are not kept (the head holds them): appends go by `ref`, and the rare
  // append the store cannot take by ref alone resolves them again from the
  // raw text (AppendCached).
  struct CacheEntry {
    vigil::SeriesRef ref = 0;  // storage reference, 0 until known
    uint64_t hash = 0;           // hash of the resolved labels
    // The entry of the line that followed this one in the last scrape, the
    // first guess for the next line. Points into cache_ or is null: see SweepCache.
    std::pair<const std::string, CacheEntry>* next = nullptr;
    // Last successful scrape iteration that held it (0: none), once caught
    // up (CatchUp): a scrape that holds every cached series skips the sweep.
    uint32_t last_seen = 0;
    uint32_t scraped = 0;        // last scrape iteration (successful or not) that held it
    bool dropped = false;        // metric relabeling dropped it
    bool tracked = false;        // last seen without explicit timestamp (staleness applies)
    bool aliased = false;        // another raw spelling of the same labels is cached too
  };
  struct TransparentHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  using Cache = std::unordered_map<std::string, CacheEntry, TransparentHash, std::equal_to<>>;
  // Cached entries by label hash, built on the first cache miss of a scrape
  // to recognise a new raw spelling of a label set that is already cached.
  using AliasIndex = std::unordered_map<uint64_t, CacheEntry*>;

  // Counts of one scrape for the synthetic series.
  struct AppendStats {
    int64_t total = 0;         // samples in the body
    int64_t added = 0;         // after metric relabeling
    int64_t series_added = 0;  // series new to the cache
  };

  void Run();
  vigil::Status AppendBody(storage::Appender& app, const ScrapeResponse& response, int64_t t_ms,
                           AppendStats& stats, std::map<std::string, FamilyMetadata>& metadata);
  // The cached entry of `series`, trying first the one that followed `prev`
  // (the previous line's entry; null at the first line) in the last scrape:
  // bodies keep their order, and the guess skips hashing the text and the
  // bucket walk's cache misses. Null when the series is new to the cache.
  Cache::value_type* FindCached(std::string_view series, const Cache::value_type* prev);
  // Adds the parser's current series (new to the cache) and returns its entry
  // with the labels it resolved to (none when metric relabeling drops it).
  Result<std::pair<Cache::value_type*, Labels>> AddToCache(const ExpositionParser& parser,
                                                    std::optional<AliasIndex>& aliases);
  // Stamps `e` as held by this scrape; false when its sample is not to be
  // appended: relabeling drops it, or this scrape already had its labels.
  bool FirstInScrape(CacheEntry& e);
  // Moves last_seen up to the previous iteration when `e` was scraped in it
  // and it succeeded (a sweep skipped then did not do it).
  void CatchUp(CacheEntry& e) const;
  // The labels a scraped series (its exposed labels, empty values included)
  // is stored under: target labels, metric relabeling, label limits. Nullopt
  // when metric relabeling drops it.
  Result<std::optional<Labels>> StoredLabels(std::span<const Label> exposed) const;
  vigil::Status CheckLabelLimits(const Labels& labels) const;
  // Appends by the entry's ref; when the store cannot take it by ref alone
  // (unknown ref, e.g. the head dropped the series), by the labels resolved
  // again from the raw text.
  Result<vigil::SeriesRef> AppendCached(storage::Appender& app, std::string_view raw,
                                          CacheEntry& e, int64_t t, double v);
  // Ends an iteration over the whole cache: series the previous successful
  // scrape held and this one did not get a staleness marker, series this
  // (successful) scrape held are remembered, series neither held are forgotten.
  void SweepCache(storage::Appender& app, int64_t t_ms, bool scrape_ok);
  bool NeedsStaleMarker(const CacheEntry& e) const;
  void AppendReport(storage::Appender& app, int64_t t_ms, double duration_s, bool up,
                    const AppendStats& stats);
  void AppendReportStale(storage::Appender& app, int64_t t_ms);
  void RecordOutcome(int64_t start_ms, double duration_s, const vigil::Status& error,
                     std::map<std::string, FamilyMetadata>* metadata);

  storage::Storage* const db_;
  const std::shared_ptr<const config::ScrapeConfig> config_;
  const Target target_;
  const Clock* const clock_;
  TargetScraper scraper_;

  // Touched only by the scraping thread (or a test calling ScrapeOnce).
  Cache cache_;
  uint32_t iteration_ = 0;  // scrapes so far (wraps after 136 years at 1 s)
  Cache::value_type* first_ = nullptr;  // entry of the first line of the last successful scrape
  size_t touched_ = 0;    // distinct cache entries the current scrape held
  bool last_ok_ = false;  // whether the body of the latest finished scrape was appended
  int64_t last_append_ms_ = 0;
  // Label hashes of aliased entries appended by the current scrape (entries
  // without another spelling are deduplicated by their `scraped` stamp).
  std::unordered_set<uint64_t> alias_hashes_;
  std::vector<std::pair<Labels, vigil::SeriesRef>> report_series_;  // up, duration, ...

  mutable std::mutex mu_;  // guards the fields below
  TargetStatus status_;
  std::map<std::string, FamilyMetadata> metadata_;
  bool stop_ = false;
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace vigil::scraper
