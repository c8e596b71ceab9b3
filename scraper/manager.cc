#include "scraper/manager.h"

#include <algorithm>
#include <map>
#include <mutex>

#include "scraper/scrape_pool.h"
#include "base/metrics_registry.h"

namespace vigil::scraper {

struct Manager::Impl {
  storage::Storage* db;
  ManagerOptions options;
  mutable std::mutex mu;  // guards pools; held while (re)configuring
  std::map<std::string, std::unique_ptr<ScrapePool>> pools;
  std::unique_ptr<ScopedCollector> collector;

  void Collect(MetricsWriter& w) const {
    w.Family("prometheus_target_scrape_pool_targets", "gauge",
             "Current number of targets in this scrape pool.");
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& [job, pool] : pools) {
      w.Sample("prometheus_target_scrape_pool_targets", Labels{{"scrape_job", job}},
               static_cast<double>(pool->ActiveTargets().size()));
    }
  }
};

Manager::Manager(storage::Storage* db, ManagerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->db = db;
  impl_->options = options;
  impl_->collector = std::make_unique<ScopedCollector>([impl = impl_.get()](MetricsWriter& w) {
    impl->Collect(w);
  });
}

Manager::~Manager() {
  impl_->collector.reset();
  Stop();
}

Status Manager::ApplyConfig(const config::Config& config) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::map<std::string, std::unique_ptr<ScrapePool>> next;
  for (const config::ScrapeConfig& sc : config.scrape_configs) {
    auto it = impl_->pools.find(sc.job_name);
    if (it != impl_->pools.end() && it->second->config() == sc) {
      next[sc.job_name] = std::move(it->second);
      impl_->pools.erase(it);
      continue;
    }
    auto pool = std::make_unique<ScrapePool>(impl_->db, std::make_shared<const config::ScrapeConfig>(sc),
                                             impl_->options.clock);
    next[sc.job_name] = std::move(pool);
  }
  // Changed jobs stop without staleness markers (their successors take
  // over the same series); removed jobs mark their series stale.
  for (auto& [job, pool] : impl_->pools) pool->Stop(next.count(job) == 0);
  impl_->pools.swap(next);
  for (auto& [job, pool] : impl_->pools) pool->Start();
  return Status::OK();
}

void Manager::Stop() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  for (auto& [job, pool] : impl_->pools) pool->Stop(false);
  impl_->pools.clear();
}

std::vector<TargetStatus> Manager::ActiveTargets() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::vector<TargetStatus> out;
  for (const auto& [job, pool] : impl_->pools) {
    auto targets = pool->ActiveTargets();
    std::sort(targets.begin(), targets.end(),
              [](const TargetStatus& a, const TargetStatus& b) { return a.labels < b.labels; });
    out.insert(out.end(), targets.begin(), targets.end());
  }
  return out;
}

std::vector<DroppedTarget> Manager::DroppedTargets() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::vector<DroppedTarget> out;
  for (const auto& [job, pool] : impl_->pools) {
    auto dropped = pool->DroppedTargets();
    out.insert(out.end(), dropped.begin(), dropped.end());
  }
  return out;
}

std::map<std::string, size_t> Manager::DroppedTargetCounts() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::map<std::string, size_t> out;
  for (const auto& [job, pool] : impl_->pools) out[job] = pool->DroppedTargetCount();
  return out;
}

std::vector<TargetMetadata> Manager::Metadata(const std::string& metric) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::vector<TargetMetadata> out;
  for (const auto& [job, pool] : impl_->pools) {
    auto md = pool->Metadata(metric);
    out.insert(out.end(), md.begin(), md.end());
  }
  return out;
}

}  // namespace vigil::scraper
