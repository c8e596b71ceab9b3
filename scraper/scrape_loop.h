// ScrapeLoop: scrapes one target on its interval and appends the samples, the
// synthetic series (up, scrape_duration_seconds, ...) and staleness markers
// as one Appender batch per scrape. Runs on its own thread, joined by Stop().
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "scraper/config.h"
#include "scraper/exposition_parser.h"
#include "scraper/target.h"
#include "scraper/target_scraper.h"
#include "storage/clock.h"
#include "storage/storage.h"

namespace vigil::scraper {

class ScrapeLoop {
 public:
  ScrapeLoop(storage::Storage* db, std::shared_ptr<const ScrapeConfig> config, Target target,
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
  // What a raw series text from the target resolved to.
  struct CacheEntry {
    Labels labels;               // after target labels and metric relabeling
    uint64_t hash = 0;           // labels.Hash()
    storage::SeriesRef ref = 0;  // storage reference, 0 until known
    bool dropped = false;        // metric relabeling dropped it
    bool tracked = false;        // last seen without explicit timestamp (staleness applies)
    uint64_t last_seen = 0;      // scrape iteration that last appended it
  };
  struct TransparentHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  using Cache = std::unordered_map<std::string, CacheEntry, TransparentHash, std::equal_to<>>;

  // Counts of one scrape for the synthetic series.
  struct AppendStats {
    int64_t total = 0;         // samples in the body
    int64_t added = 0;         // after metric relabeling
    int64_t series_added = 0;  // series new to the cache
  };

  void Run();
  vigil::Status AppendBody(storage::Appender& app, const ScrapeResponse& response, int64_t t_ms,
                           AppendStats& stats, std::map<std::string, FamilyMetadata>& metadata);
  Result<CacheEntry> ResolveSeries(const ExpositionParser& parser) const;
  vigil::Status CheckLabelLimits(const Labels& labels) const;
  void AppendStaleMarkers(storage::Appender& app, int64_t t_ms, uint64_t iteration);
  void AppendReport(storage::Appender& app, int64_t t_ms, double duration_s, bool up,
                    const AppendStats& stats);
  void AppendReportStale(storage::Appender& app, int64_t t_ms);
  void RecordOutcome(int64_t start_ms, double duration_s, const vigil::Status& error,
                     std::map<std::string, FamilyMetadata>* metadata);

  storage::Storage* const db_;
  const std::shared_ptr<const ScrapeConfig> config_;
  const Target target_;
  const Clock* const clock_;
  TargetScraper scraper_;

  // Touched only by the scraping thread (or a test calling ScrapeOnce).
  Cache cache_;
  uint64_t iteration_ = 0;
  int64_t last_append_ms_ = 0;
  std::unordered_set<uint64_t> seen_hashes_;  // label hashes appended by the current scrape
  std::vector<std::pair<Labels, storage::SeriesRef>> report_series_;  // up, duration, ...

  mutable std::mutex mu_;  // guards the fields below
  TargetStatus status_;
  std::map<std::string, FamilyMetadata> metadata_;
  bool stop_ = false;
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace vigil::scraper
