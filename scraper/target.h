// Target: one scrape endpoint after service discovery and relabeling, built as
// Prometheus 2.42's scrape/target.go does (PopulateLabels, URL, hashing), plus
// the status records the targets page and metadata API report.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "config/config.h"
#include "base/labels.h"
#include "base/status.h"

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

class Target {
 public:
  Target(Labels labels, Labels discovered, std::map<std::string, std::vector<std::string>> params);

  // All labels after relabeling, reserved "__" labels included.
  const Labels& all_labels() const { return labels_; }
  // The labels the target attaches to its samples (no "__" labels).
  const Labels& labels() const { return public_labels_; }
  const Labels& discovered_labels() const { return discovered_; }
  // scheme://address/path?params, with __param_* labels overriding config params.
  const std::string& url() const { return url_; }
  int64_t interval_ms() const { return interval_ms_; }
  int64_t timeout_ms() const { return timeout_ms_; }
  // Identity of the target inside its pool: labels and URL.
  uint64_t hash() const { return hash_; }

 private:
  Labels labels_;
  Labels public_labels_;
  Labels discovered_;
  std::string url_;
  int64_t interval_ms_ = 0;
  int64_t timeout_ms_ = 0;
  uint64_t hash_ = 0;
};

// The outcome of building the targets of some groups.
struct TargetSet {
  std::vector<Target> targets;
  std::vector<Labels> dropped;      // discovered labels of targets relabeling dropped
  std::vector<std::string> errors;  // targets that could not be built, with reasons
};

// Adds every target of `group` to `out`, as Prometheus's TargetsFromGroup.
void TargetsFromGroup(const config::TargetGroup& group, const config::ScrapeConfig& config, TargetSet& out);

// Relabels one discovered label set. Returns the target, or nullopt when
// relabeling dropped it; an error when the result is not a valid target.
Result<std::optional<Target>> PopulateTarget(const Labels& discovered, const config::ScrapeConfig& config);

}  // namespace vigil::scraper
