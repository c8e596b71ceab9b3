// Manager: owns one ScrapeLoop per target, keeps them in step with the config
// and reports target health for the targets page and API.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "scraper/config.h"
#include "storage/clock.h"
#include "storage/labels.h"
#include "storage/status.h"
#include "storage/storage.h"

namespace vigil::scraper {

// One active target as /api/v1/targets reports it.
struct TargetStatus {
  Labels discovered_labels;  // before relabeling
  Labels labels;             // after relabeling (job, instance, ...)
  std::string scrape_pool;
  std::string scrape_url;
  std::string global_url;
  std::string health = "unknown";  // "up", "down" or "unknown"
  std::string last_error;
  int64_t last_scrape_ms = 0;  // 0: never scraped
  double last_scrape_duration_seconds = 0;
  int64_t scrape_interval_ms = 0;
  int64_t scrape_timeout_ms = 0;
};

// A target that relabeling dropped.
struct DroppedTarget {
  Labels discovered_labels;
};

// Metric metadata from a target's # TYPE / # HELP / # UNIT lines.
struct MetricMetadata {
  std::string metric;
  std::string type;  // counter, gauge, histogram, summary, unknown, ...
  std::string help;
  std::string unit;
};

struct TargetMetadata {
  Labels target;  // the target's labels
  MetricMetadata metadata;
};

struct ManagerOptions {
  const Clock* clock = SystemClock::Get();
};

class Manager {
 public:
  Manager(storage::Storage* db, ManagerOptions options);
  ~Manager();  // stops all loops
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  // Starts, stops and updates loops to match `config`. Loops of unchanged
  // targets keep running (no gap in data).
  Status ApplyConfig(const Config& config);
  // Stops every loop; in-flight scrapes finish first. Idempotent.
  void Stop();

  std::vector<TargetStatus> ActiveTargets() const;
  std::vector<DroppedTarget> DroppedTargets() const;
  // Metadata of every target (all metrics when `metric` is empty).
  std::vector<TargetMetadata> Metadata(const std::string& metric) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::scraper
