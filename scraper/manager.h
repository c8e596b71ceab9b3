// Manager: owns one ScrapePool per job (and through it one ScrapeLoop per
// target), keeps them in step with the config and reports target health for
// the targets page and API. TargetStatus, DroppedTarget, MetricMetadata and
// TargetMetadata live in scraper/target.h.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/labels.h"
#include "base/status.h"
#include "config/config.h"
#include "scraper/target.h"
#include "storage/storage.h"

namespace vigil::scraper {

struct ManagerOptions {
  const Clock* clock = SystemClock::Get();
};

class Manager {
 public:
  Manager(storage::Storage* db, ManagerOptions options);
  ~Manager();  // stops all loops
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  // Starts, stops and updates loops to match `config`. Jobs whose scrape
  // config is unchanged keep their loops (no gap in data); removed jobs and
  // targets get staleness markers; a changed job restarts its loops.
  Status ApplyConfig(const config::Config& config);
  // Stops every loop; in-flight scrapes finish first. Idempotent.
  void Stop();

  // Sorted by scrape pool, then by target labels.
  std::vector<TargetStatus> ActiveTargets() const;
  std::vector<DroppedTarget> DroppedTargets() const;
  // Per scrape pool, how many targets relabeling dropped (before
  // keep_dropped_targets trims the list): /api/v1/targets' droppedTargetCounts.
  std::map<std::string, size_t> DroppedTargetCounts() const;
  // Metadata of every target (all metrics when `metric` is empty).
  std::vector<TargetMetadata> Metadata(const std::string& metric) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::scraper
