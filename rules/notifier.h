// Notifier: sends alerts to the Alertmanagers of the config's `alerting`
// section, as Prometheus 2.42's notifier does: external labels are added (an
// alert's own labels win), alert_relabel_configs apply, and the batch is POSTed
// as JSON to <scheme>://<address><path_prefix>/api/v2/alerts of every
// Alertmanager (static_configs after their relabel_configs). A bounded queue
// decouples rule evaluation from slow Alertmanagers; the oldest alerts are
// dropped when it is full. Alertmanagers found by file_sd or Kubernetes SD
// are not supported yet (logged).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "base/labels.h"
#include "base/metrics_registry.h"

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

  // Takes the Alertmanagers, relabeling and external labels of a (re)loaded config.
  void ApplyConfig(const config::AlertingConfig& config, Labels external_labels);
  // Queues alerts for sending.
  void Send(std::vector<NotifiedAlert> alerts);
  void Start();
  void Stop();

  // The alert endpoints currently sent to (for /api/v1/alertmanagers).
  std::vector<std::string> AlertmanagerUrls() const;
  uint64_t sent() const;     // alerts delivered (summed over Alertmanagers)
  uint64_t errors() const;   // failed deliveries
  uint64_t dropped() const;  // alerts dropped (queue full, or no Alertmanager)

  // The JSON document POSTed to Alertmanager for `alerts`.
  static std::string EncodeV2(const std::vector<NotifiedAlert>& alerts);

 private:
  struct Endpoint {
    std::string url;  // full URL of the alerts endpoint
    const config::AlertmanagerConfig* config;
  };
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
