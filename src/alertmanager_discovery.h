// AlertmanagerDiscovery: runs the scraper's service discovery (static_configs,
// file_sd_configs, kubernetes_sd_configs) for every alerting.alertmanagers[]
// entry and hands each entry's current target groups to the notifier, which
// relabels them into Alertmanagers. It lives in the wiring layer because
// rules/ may not use scraper/. A reload restarts the discovery of the entries
// that changed and leaves the others running, as Prometheus 2.48 does.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "base/labels.h"
#include "config/config.h"
#include "rules/notifier.h"

namespace vigil {

class AlertmanagerDiscovery {
 public:
  explicit AlertmanagerDiscovery(rules::Notifier* notifier);
  ~AlertmanagerDiscovery();  // Stop()
  AlertmanagerDiscovery(const AlertmanagerDiscovery&) = delete;
  AlertmanagerDiscovery& operator=(const AlertmanagerDiscovery&) = delete;

  // Applies `alerting` to the notifier (with `external_labels`) and starts or
  // keeps the discovery of every alertmanagers[] entry.
  void ApplyConfig(const config::AlertingConfig& alerting, const Labels& external_labels);
  // Stops all discovery; no group reaches the notifier afterwards. Idempotent.
  void Stop();

 private:
  class Entry;  // one alertmanagers[] entry's discoverers and their groups

  rules::Notifier* const notifier_;
  std::mutex mu_;  // serializes ApplyConfig and Stop; never taken by discovery callbacks
  std::vector<std::unique_ptr<Entry>> entries_;
};

}  // namespace vigil
