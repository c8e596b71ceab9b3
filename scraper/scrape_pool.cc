#include "scraper/scrape_pool.h"

#include "base/logger.h"

namespace vigil::scraper {

ScrapePool::ScrapePool(storage::Storage* db, std::shared_ptr<const config::ScrapeConfig> config,
                       const Clock* clock)
    : db_(db), config_(std::move(config)), clock_(clock) {
  discoverers_ = MakeDiscoverers(config_->static_configs, config_->file_sd_configs,
                                 config_->kubernetes_sd_configs);
  groups_.resize(discoverers_.size());
}

ScrapePool::~ScrapePool() { Stop(false); }

void ScrapePool::Start() {
  for (size_t i = 0; i < discoverers_.size(); ++i) {
    discoverers_[i]->Start([this, i](std::vector<config::TargetGroup> groups) { OnGroups(i, std::move(groups)); });
  }
}

void ScrapePool::Stop(bool mark_stale) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  for (auto& d : discoverers_) d->Stop();
  std::map<uint64_t, std::unique_ptr<ScrapeLoop>> loops;
  {
    std::lock_guard<std::mutex> lock(mu_);
    loops.swap(loops_);
  }
  for (auto& [hash, loop] : loops) loop->Stop(mark_stale);
}

void ScrapePool::OnGroups(size_t provider, std::vector<config::TargetGroup> groups) {
  TargetSet set;
  std::vector<std::unique_ptr<ScrapeLoop>> removed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    groups_[provider] = std::move(groups);
    for (const auto& provider_groups : groups_) {
      for (const config::TargetGroup& g : provider_groups) TargetsFromGroup(g, *config_, set);
    }
    dropped_count_ = set.dropped.size();
    const auto keep = static_cast<size_t>(config_->keep_dropped_targets);
    if (keep > 0 && set.dropped.size() > keep) set.dropped.resize(keep);
    dropped_ = std::move(set.dropped);
    const auto limit = config_->target_limit;
    target_limit_error_.clear();
    if (limit > 0 && static_cast<int64_t>(set.targets.size()) > limit) {
      target_limit_error_ = "target_limit exceeded (number of targets: " +
                            std::to_string(set.targets.size()) +
                            ", limit: " + std::to_string(limit) + ")";
      set.targets.clear();
    }
    std::map<uint64_t, std::unique_ptr<ScrapeLoop>> next;
    for (Target& t : set.targets) {
      const uint64_t hash = t.hash();
      if (next.count(hash)) continue;  // the same target discovered twice
      auto it = loops_.find(hash);
      if (it != loops_.end()) {
        next[hash] = std::move(it->second);
        loops_.erase(it);
        continue;
      }
      auto loop = std::make_unique<ScrapeLoop>(db_, config_, std::move(t), clock_);
      loop->Start();
      next[hash] = std::move(loop);
    }
    for (auto& [hash, loop] : loops_) removed.push_back(std::move(loop));
    loops_.swap(next);
  }
  for (const std::string& err : set.errors) {
    VLOG_ERROR("Creating target failed", {{"scrape_pool", config_->job_name}, {"err", err}});
  }
  for (auto& loop : removed) loop->Stop(true);
}

std::vector<TargetStatus> ScrapePool::ActiveTargets() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<TargetStatus> out;
  out.reserve(loops_.size());
  for (const auto& [hash, loop] : loops_) out.push_back(loop->Status());
  return out;
}

std::vector<DroppedTarget> ScrapePool::DroppedTargets() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<DroppedTarget> out;
  for (const Labels& l : dropped_) out.push_back({l});
  return out;
}

size_t ScrapePool::DroppedTargetCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_count_;
}

std::vector<TargetMetadata> ScrapePool::Metadata(const std::string& metric) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<TargetMetadata> out;
  for (const auto& [hash, loop] : loops_) {
    for (MetricMetadata& md : loop->Metadata()) {
      if (metric.empty() || md.metric == metric) out.push_back({loop->target().labels(), std::move(md)});
    }
  }
  return out;
}

}  // namespace vigil::scraper
