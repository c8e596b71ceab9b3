// The prometheus.yml configuration model: yaml-cpp in, typed structs out. No
// YAML node passes beyond the loader.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "storage/labels.h"
#include "storage/status.h"

namespace vigil::scraper {

struct GlobalConfig {
  int64_t scrape_interval_ms = 60'000;
  int64_t scrape_timeout_ms = 10'000;
  int64_t evaluation_interval_ms = 60'000;
  Labels external_labels;
  std::string query_log_file;
  int64_t body_size_limit = 0;  // bytes, 0 = unlimited
  int64_t sample_limit = 0;
  int64_t label_limit = 0;
  int64_t label_name_length_limit = 0;
  int64_t label_value_length_limit = 0;
  int64_t target_limit = 0;
};

// One static_configs / file_sd entry: targets plus common labels.
struct TargetGroup {
  std::vector<std::string> targets;  // host:port
  Labels labels;
  std::string source;
};

// The scrape_configs entry (fields beyond these are added by the scraping issue).
struct ScrapeConfig {
  std::string job_name;
  int64_t scrape_interval_ms = 0;  // 0: inherit from global
  int64_t scrape_timeout_ms = 0;   // 0: inherit from global
  std::string metrics_path = "/metrics";
  std::string scheme = "http";
  bool honor_labels = false;
  bool honor_timestamps = true;
  std::vector<TargetGroup> static_configs;
};

struct Config {
  GlobalConfig global;
  std::vector<ScrapeConfig> scrape_configs;
  std::vector<std::string> rule_files;
  std::string source_file;  // path the config was read from
  std::string original;     // the file's text, as read
};

// Loads and validates a config file. Errors name the file, line and problem.
Result<Config> LoadConfigFile(const std::string& path);
// Same for text already in memory; `filename` is used in error messages.
Result<Config> LoadConfigString(const std::string& yaml, const std::string& filename);

// The effective configuration (defaults filled in) as YAML, for /api/v1/status/config.
std::string ConfigToYaml(const Config& config);

}  // namespace vigil::scraper
