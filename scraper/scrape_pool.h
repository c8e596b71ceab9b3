// ScrapePool: the targets and scrape loops of one scrape config (one job).
// Discovery updates arrive from discoverer threads; each update rebuilds the
// target list, starts loops for new targets and stops (with staleness
// markers) the loops of targets that went away. Unchanged targets keep
// their loop and so their schedule.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "config/config.h"
#include "scraper/discovery.h"
#include "scraper/scrape_loop.h"
#include "scraper/target.h"
#include "base/clock.h"
#include "storage/storage.h"

namespace vigil::scraper {

class ScrapePool {
 public:
  ScrapePool(storage::Storage* db, std::shared_ptr<const config::ScrapeConfig> config, const Clock* clock);
  ~ScrapePool();  // Stop(false)
  ScrapePool(const ScrapePool&) = delete;
  ScrapePool& operator=(const ScrapePool&) = delete;

  // Starts the discoverers; loops start as targets appear.
  void Start();
  // Stops discovery and every loop; `mark_stale` writes end-of-run staleness
  // markers (the job was removed from the config).
  void Stop(bool mark_stale);

  const config::ScrapeConfig& config() const { return *config_; }
  std::vector<TargetStatus> ActiveTargets() const;
  // At most keep_dropped_targets of them (all when 0).
  std::vector<DroppedTarget> DroppedTargets() const;
  // Every target relabeling dropped, kept or not.
  size_t DroppedTargetCount() const;
  std::vector<TargetMetadata> Metadata(const std::string& metric) const;

 private:
  void OnGroups(size_t provider, std::vector<config::TargetGroup> groups);
  void Sync();  // with mu_ held

  storage::Storage* const db_;
  const std::shared_ptr<const config::ScrapeConfig> config_;
  const Clock* const clock_;
  std::vector<std::unique_ptr<Discoverer>> discoverers_;

  mutable std::mutex mu_;
  bool stopped_ = false;
  std::vector<std::vector<config::TargetGroup>> groups_;  // per discoverer
  std::map<uint64_t, std::unique_ptr<ScrapeLoop>> loops_;  // by target hash
  std::vector<Labels> dropped_;                            // the first keep_dropped_targets of them
  size_t dropped_count_ = 0;
  std::string target_limit_error_;
};

}  // namespace vigil::scraper
