#include "scraper/file_discovery.h"

#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "base/file_glob.h"
#include "base/logger.h"

namespace vigil::scraper {
namespace {

constexpr int64_t kPollMs = 1000;

struct FileStamp {
  int64_t mtime_ns = -1;
  int64_t size = -1;
};

FileStamp Stamp(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return {};
  return {static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
          static_cast<int64_t>(st.st_size)};
}

config::TargetGroup ParseGroup(const YAML::Node& n, const std::string& path, size_t index) {
  if (!n.IsMap())
    throw std::runtime_error("target group " + std::to_string(index) + " is not a map");
  config::TargetGroup g;
  g.source = path + ":" + std::to_string(index);
  std::vector<Label> labels = {{"__meta_filepath", path}};
  for (const auto& kv : n) {
    const std::string key = kv.first.as<std::string>();
    if (key == "targets") {
      for (const auto& t : kv.second) g.targets.push_back(t.as<std::string>());
    } else if (key == "labels") {
      for (const auto& l : kv.second) {
        const std::string name = l.first.as<std::string>();
        if (!IsValidLabelName(name))
          throw std::runtime_error("\"" + name + "\" is not a valid label name");
        labels.push_back({name, l.second.as<std::string>()});
      }
    } else {
      throw std::runtime_error("field " + key + " not found in target group");
    }
  }
  g.labels = Labels(std::move(labels));
  return g;
}

}  // namespace

Result<std::vector<config::TargetGroup>> ParseFileSdGroups(const std::string& text,
                                                   const std::string& path) {
  try {
    const YAML::Node root = YAML::Load(text);
    std::vector<config::TargetGroup> groups;
    if (root.IsNull()) return groups;
    if (!root.IsSequence())
      return Status::InvalidArgument(path + ": expected a list of target groups");
    for (size_t i = 0; i < root.size(); ++i) groups.push_back(ParseGroup(root[i], path, i));
    return groups;
  } catch (const std::exception& e) {
    return Status::InvalidArgument(path + ": " + e.what());
  }
}

FileDiscoverer::FileDiscoverer(config::FileSdConfig config) : config_(std::move(config)) {}

FileDiscoverer::~FileDiscoverer() { Stop(); }

bool FileDiscoverer::Changed() const {
  const std::vector<std::string> paths = ExpandGlobs(config_.files);
  if (paths.size() != files_.size()) return true;
  for (const std::string& p : paths) {
    auto it = files_.find(p);
    if (it == files_.end()) return true;
    const FileStamp s = Stamp(p);
    if (s.mtime_ns != it->second.mtime_ns || s.size != it->second.size) return true;
  }
  return false;
}

std::vector<config::TargetGroup> FileDiscoverer::Refresh() {
  std::map<std::string, FileState> next;
  for (const std::string& path : ExpandGlobs(config_.files)) {
    FileState state;
    const FileStamp stamp = Stamp(path);
    state.mtime_ns = stamp.mtime_ns;
    state.size = stamp.size;
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    auto groups = ParseFileSdGroups(text.str(), path);
    if (groups.ok()) {
      state.groups = std::move(*groups);
    } else {
      VLOG_ERROR("Error reading file", {{"path", path}, {"err", groups.status().message()}});
      if (auto old = files_.find(path); old != files_.end()) state.groups = old->second.groups;
    }
    next[path] = std::move(state);
  }
  files_.swap(next);
  std::vector<config::TargetGroup> all;
  for (const auto& [path, state] : files_)
    all.insert(all.end(), state.groups.begin(), state.groups.end());
  return all;
}

void FileDiscoverer::Start(GroupsCallback on_update) {
  on_update(Refresh());
  thread_ = std::thread([this, cb = std::move(on_update)] { Run(cb); });
}

void FileDiscoverer::Run(GroupsCallback on_update) {
  using std::chrono::steady_clock;
  auto last_refresh = steady_clock::now();
  std::vector<config::TargetGroup> last_groups;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(kPollMs), [this] { return stop_; });
      if (stop_) return;
    }
    const bool due = steady_clock::now() - last_refresh >=
                     std::chrono::milliseconds(config_.refresh_interval_ms);
    if (!due && !Changed()) continue;
    last_refresh = steady_clock::now();
    on_update(Refresh());
  }
}

void FileDiscoverer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace vigil::scraper
