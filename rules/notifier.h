// Notifier: sends alerts to the Alertmanagers of the config's `alerting`
// section, as Prometheus 2.42's notifier does: external labels are added (an
// alert's own labels win), alert_relabel_configs apply, and the batch is POSTed
// as JSON to <scheme>://<address><path_prefix>/api/v2/alerts of every
// Alertmanager. A bounded queue decouples rule evaluation from slow
// Alertmanagers; the oldest alerts are dropped when it is full.
//
// The Alertmanagers of each alertmanagers[] entry come from its target
// groups (static_configs, and whatever its file_sd / Kubernetes discovery
// reports through SetTargetGroups; rules/ does not run discovery itself)
// after the entry's relabel_configs, as Prometheus 2.48's notifier builds
// them: each target starts with its discovered labels (__meta_* included),
// __address__, __scheme__ (the entry's scheme) and __alerts_path__
// (path_prefix joined with /api/<api_version>/alerts); a target relabeling
// drops is listed as dropped, with the URL of its labels before relabeling.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/labels.h"
#include "base/metrics_registry.h"
#include "config/config.h"

namespace vigil::rules {

// One alert as Alertmanager's API v2 receives it.
struct NotifiedAlert {
  Labels labels;
  std::vector<Label> annotations;
  int64_t starts_at_ms = 0;
  int64_t ends_at_ms = 0;
  std::string generator_url;
};

class Notifier {
 public:
  explicit Notifier(size_t queue_capacity = 10'000);
  ~Notifier();  // Stop()
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Takes the Alertmanagers, relabeling and external labels of a (re)loaded
  // config. Each alertmanagers[] entry starts with its static_configs as its
  // target groups, except one equal to the entry at the same index before,
  // which keeps the groups last set for it (its discovery keeps running).
  void ApplyConfig(const config::AlertingConfig& config, Labels external_labels);
  // The complete current target groups of alertmanagers[index] (its
  // static_configs and everything its discovery found): they replace that
  // entry's Alertmanagers. An index the config does not have is ignored.
  void SetTargetGroups(size_t index, std::vector<config::TargetGroup> groups);
  // Queues alerts for sending.
  void Send(std::vector<NotifiedAlert> alerts);
  void Start();
  void Stop();

  // The alert endpoints currently sent to (for /api/v1/alertmanagers), in
  // config order, each entry's deduplicated by URL.
  std::vector<std::string> AlertmanagerUrls() const;
  // The URLs of the targets relabel_configs dropped (droppedAlertmanagers).
  std::vector<std::string> DroppedAlertmanagerUrls() const;
  uint64_t sent() const;     // alerts delivered (summed over Alertmanagers)
  uint64_t errors() const;   // failed deliveries
  uint64_t dropped() const;  // alerts dropped (queue full, or no Alertmanager)

  // The JSON document POSTed to Alertmanager for `alerts`.
  static std::string EncodeV2(const std::vector<NotifiedAlert>& alerts);

 private:
  struct Endpoint {
    std::string url;  // full URL of the alerts endpoint
    std::shared_ptr<const config::AlertmanagerConfig> config;
  };
  // One alertmanagers[] entry: its target groups and what they became.
  struct AlertmanagerSet {
    std::shared_ptr<const config::AlertmanagerConfig> config;
    std::vector<config::TargetGroup> groups;
    std::vector<std::string> active;  // alerts URLs, deduplicated
    std::vector<std::string> dropped;
  };
  static void Sync(AlertmanagerSet& set);  // groups -> active, dropped
  void RebuildEndpointsLocked();           // sets_ -> endpoints_
  void Run();
  void Deliver(const std::vector<NotifiedAlert>& batch);
  std::vector<NotifiedAlert> Relabeled(std::vector<NotifiedAlert> alerts) const;
  void Collect(MetricsWriter& w) const;  // prometheus_notifications_* on /metrics

  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<NotifiedAlert> queue_;
  config::AlertingConfig config_;
  Labels external_labels_;
  std::vector<AlertmanagerSet> sets_;  // one per alertmanagers[] entry
  std::vector<Endpoint> endpoints_;
  uint64_t sent_ = 0;
  uint64_t errors_ = 0;
  uint64_t dropped_ = 0;
  std::map<std::string, std::pair<uint64_t, uint64_t>> per_url_;  // url -> (sent, errors)
  bool stop_ = false;
  std::thread thread_;
  ScopedCollector collector_;  // last: unregisters before the fields above go away
};

}  // namespace vigil::rules
