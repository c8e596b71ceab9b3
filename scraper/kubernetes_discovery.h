// KubernetesDiscoverer: kubernetes_sd_configs. Lists and watches the API
// server and turns objects into target groups with Prometheus 2.42's
// __meta_kubernetes_* labels.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "scraper/discovery.h"

namespace vigil::scraper {

class KubernetesDiscoverer final : public Discoverer {
 public:
  explicit KubernetesDiscoverer(KubernetesSdConfig config);
  ~KubernetesDiscoverer() override;
  void Start(GroupsCallback on_update) override;
  void Stop() override;

 private:
  const KubernetesSdConfig config_;
};

}  // namespace vigil::scraper
