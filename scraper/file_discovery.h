// FileDiscoverer: file_sd_configs. Reads target groups from YAML/JSON files
// (globs allowed in the last path element), re-reads them as soon as a file
// changes (polled every second) and at least every refresh_interval.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "scraper/discovery.h"

namespace vigil::scraper {

class FileDiscoverer final : public Discoverer {
 public:
  explicit FileDiscoverer(config::FileSdConfig config);
  ~FileDiscoverer() override;
  void Start(GroupsCallback on_update) override;
  void Stop() override;

  // Reads every matching file now; files that fail to parse keep their
  // previous groups. Exposed for tests.
  std::vector<config::TargetGroup> Refresh();

 private:
  struct FileState {
    int64_t mtime_ns = 0;
    int64_t size = 0;
    std::vector<config::TargetGroup> groups;
  };
  void Run(GroupsCallback on_update);
  bool Changed() const;  // a file appeared, vanished or was modified

  const config::FileSdConfig config_;
  std::map<std::string, FileState> files_;  // touched by the discovery thread only
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

// Parses a file_sd file (a YAML or JSON list of {targets, labels}); every
// group gets __meta_filepath and the source "<path>:<index>".
Result<std::vector<config::TargetGroup>> ParseFileSdGroups(const std::string& text, const std::string& path);

}  // namespace vigil::scraper
