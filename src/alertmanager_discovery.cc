#include "src/alertmanager_discovery.h"

#include <algorithm>

#include "scraper/discovery.h"

namespace vigil {

// The discoverers of alertmanagers[index] and the latest groups of each; every
// update hands the notifier the concatenation, in provider order.
class AlertmanagerDiscovery::Entry {
 public:
  Entry(rules::Notifier* notifier, size_t index, const config::AlertmanagerConfig& config)
      : notifier_(notifier),
        index_(index),
        config_(config),
        discoverers_(scraper::MakeDiscoverers(config.static_configs, config.file_sd_configs,
                                              config.kubernetes_sd_configs)),
        groups_(discoverers_.size()) {}
  ~Entry() { Stop(); }

  const config::AlertmanagerConfig& config() const { return config_; }

  void Start() {
    for (size_t i = 0; i < discoverers_.size(); ++i) {
      discoverers_[i]->Start(
          [this, i](std::vector<config::TargetGroup> groups) { OnGroups(i, std::move(groups)); });
    }
  }
  void Stop() {
    for (auto& d : discoverers_) d->Stop();
  }

 private:
  void OnGroups(size_t provider, std::vector<config::TargetGroup> groups) {
    std::lock_guard lock(mu_);
    groups_[provider] = std::move(groups);
    std::vector<config::TargetGroup> all;
    for (const auto& provider_groups : groups_) {
      all.insert(all.end(), provider_groups.begin(), provider_groups.end());
    }
    notifier_->SetTargetGroups(index_, std::move(all));
  }

  rules::Notifier* const notifier_;
  const size_t index_;
  const config::AlertmanagerConfig config_;
  std::vector<std::unique_ptr<scraper::Discoverer>> discoverers_;
  std::mutex mu_;  // guards groups_ and orders the updates handed to the notifier
  std::vector<std::vector<config::TargetGroup>> groups_;
};

AlertmanagerDiscovery::AlertmanagerDiscovery(rules::Notifier* notifier) : notifier_(notifier) {}

AlertmanagerDiscovery::~AlertmanagerDiscovery() { Stop(); }

void AlertmanagerDiscovery::ApplyConfig(const config::AlertingConfig& alerting,
                                        const Labels& external_labels) {
  std::lock_guard lock(mu_);
  const auto& ams = alerting.alertmanagers;
  // Changed and removed entries stop before the notifier takes the new
  // config, so none of their groups lands on the new entry at their index.
  std::vector<bool> keep(ams.size(), false);
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (i < ams.size() && entries_[i]->config() == ams[i]) {
      keep[i] = true;
    } else {
      entries_[i]->Stop();
    }
  }
  notifier_->ApplyConfig(alerting, external_labels);
  entries_.resize(std::min(entries_.size(), ams.size()));
  for (size_t i = 0; i < ams.size(); ++i) {
    if (keep[i]) continue;
    auto entry = std::make_unique<Entry>(notifier_, i, ams[i]);
    entry->Start();
    if (i < entries_.size()) {
      entries_[i] = std::move(entry);
    } else {
      entries_.push_back(std::move(entry));
    }
  }
}

void AlertmanagerDiscovery::Stop() {
  std::lock_guard lock(mu_);
  for (auto& entry : entries_) entry->Stop();
  entries_.clear();
}

}  // namespace vigil
