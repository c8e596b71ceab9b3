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
#include <vector>

#include "config/config.h"
#include "scraper/exposition_parser.h"
#include "scraper/scrape_cache.h"
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
  // Counts of one scrape for the synthetic series.
  struct AppendStats {
    int64_t total = 0;         // samples in the body
    int64_t added = 0;         // after metric relabeling
    int64_t series_added = 0;  // series new to the cache
  };

  void Run();
  vigil::Status AppendBody(storage::Appender& app, const ScrapeResponse& response, int64_t t_ms,
                           AppendStats& stats, std::map<std::string, FamilyMetadata>& metadata);
  // Resolves the parser's current series (new to the cache) and adds it to
  // the cache; returns its entry with the labels it resolved to (none when
  // metric relabeling drops it).
  Result<std::pair<ScrapeCache::Entry*, Labels>> AddToCache(const ExpositionParser& parser);
  // The labels a scraped series (its exposed labels, empty values included)
  // is stored under: target labels, metric relabeling, label limits. Nullopt
  // when metric relabeling drops it.
  Result<std::optional<Labels>> StoredLabels(std::span<const Label> exposed) const;
  vigil::Status CheckLabelLimits(const Labels& labels) const;
  // Appends by the entry's ref; when the store cannot take it by ref alone
  // (unknown ref, e.g. the head dropped the series), by the labels resolved
  // again from the raw text.
  Result<vigil::SeriesRef> AppendCached(storage::Appender& app, std::string_view raw,
                                          ScrapeCache::Entry& e, int64_t t, double v);
  // Ends the cache's scrape, appending the staleness markers it reports.
  void EndCacheScrape(storage::Appender& app, int64_t t_ms, bool scrape_ok);
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
  ScrapeCache cache_;
  bool scraped_ = false;  // whether ScrapeOnce ran
  int64_t last_append_ms_ = 0;
  std::vector<std::pair<Labels, vigil::SeriesRef>> report_series_;  // up, duration, ...

  mutable std::mutex mu_;  // guards the fields below
  TargetStatus status_;
  std::map<std::string, FamilyMetadata> metadata_;
  bool stop_ = false;
  std::condition_variable cv_;
  std::thread thread_;
};

}  // namespace vigil::scraper
