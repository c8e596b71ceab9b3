// KubernetesDiscoverer: kubernetes_sd_configs. Lists, then watches, the API
// server (one list+watch loop per namespace) and turns objects into target
// groups with Prometheus 2.42's __meta_kubernetes_* labels. Roles: pod,
// service, node (endpoints, endpointslice and ingress are accepted by the
// config loader but discover nothing yet, with an error logged). Without api_server it uses the in-cluster service account
// (KUBERNETES_SERVICE_HOST/PORT, token and CA under
// /var/run/secrets/kubernetes.io/serviceaccount).
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "scraper/discovery.h"

namespace vigil::scraper {

// The target group Prometheus builds for one Kubernetes object of `role`
// ("pod", "service", "node"); its source is "<role>/<namespace>/<name>".
config::TargetGroup KubernetesObjectToGroup(const std::string& role, const nlohmann::json& object);

class KubernetesDiscoverer final : public Discoverer {
 public:
  explicit KubernetesDiscoverer(config::KubernetesSdConfig config);
  ~KubernetesDiscoverer() override;
  void Start(GroupsCallback on_update) override;
  void Stop() override;

 private:
  class Watcher;
  // Replaces every group of namespace `ns` ("" = all) after a list.
  void Replace(const std::string& ns, std::map<std::string, config::TargetGroup> groups);
  // Applies one watch event.
  void Update(config::TargetGroup group, bool deleted);
  void PublishLocked();  // with mu_ held

  config::KubernetesSdConfig config_;
  GroupsCallback on_update_;
  std::mutex mu_;  // guards groups_ and serializes callbacks
  std::map<std::string, config::TargetGroup> groups_;  // by source, all namespaces
  std::vector<std::unique_ptr<Watcher>> watchers_;
};

}  // namespace vigil::scraper
