// KubernetesDiscoverer: kubernetes_sd_configs. Lists, then watches, the API
// server and turns objects into target groups with Prometheus 2.48's
// __meta_kubernetes_* labels (kubernetes_targets.h). Roles: pod, service,
// node, endpoints, endpointslice, ingress. One list+watch loop per resource
// and namespace: endpoints and endpointslice also watch the services and
// pods they are joined with, and attach_metadata: {node: true} the nodes.
// Nothing is reported before every loop has listed once (Prometheus waits
// for its informers' caches to sync). Without api_server it uses the
// in-cluster service account (KUBERNETES_SERVICE_HOST/PORT, token and CA
// under /var/run/secrets/kubernetes.io/serviceaccount).
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "scraper/discovery.h"
#include "scraper/kubernetes_targets.h"

namespace vigil::scraper {

class KubernetesDiscoverer final : public Discoverer {
 public:
  explicit KubernetesDiscoverer(config::KubernetesSdConfig config);
  ~KubernetesDiscoverer() override;
  void Start(GroupsCallback on_update) override;
  void Stop() override;

  // One API resource a Watcher lists and watches (internal; public for the
  // resource table in the .cc).
  struct Resource {
    const char* name;           // "pods": the path segment and the store's key
    const char* selector_role;  // the selectors[].role that filters it
    const char* api;            // "/api/v1", "/apis/discovery.k8s.io/v1", ...
    const char* fallback_api;   // tried when `api` answers 404 (v1beta1), or nullptr
    bool cluster_scoped;        // nodes
  };

 private:
  class Watcher;
  class Lookup;
  // A Watcher listed `resource` in namespace `ns` ("" = all): replaces what
  // the store holds for it. `first_list`: that watcher's first.
  void Replace(const Resource& resource, const std::string& ns, std::vector<nlohmann::json> items,
               bool first_list);
  // Applies one watch event.
  void Update(const Resource& resource, nlohmann::json object, bool deleted);
  // Rebuilds the groups of the role's objects in `ns` ("" = all) and
  // publishes when one changed (or `force`), once every watcher has listed.
  void RebuildLocked(const std::string& ns, bool force);  // with mu_ held
  void RebuildOneLocked(const std::string& key, bool& changed);
  // A node changed (`node`), or the nodes were relisted (nullptr): rebuilds
  // the groups whose node index names it (any node), as Prometheus does.
  void RebuildIndexedByNodeLocked(const std::string* node);
  void PublishLocked();  // with mu_ held

  config::KubernetesSdConfig config_;
  const Resource* primary_ = nullptr;  // the resource whose objects become groups
  GroupsCallback on_update_;
  std::mutex mu_;  // guards everything below and serializes callbacks
  // Objects by resource name, then "<namespace>/<name>" ("/<name>" for nodes).
  std::map<std::string, std::map<std::string, nlohmann::json>> objects_;
  std::map<std::string, config::TargetGroup> groups_;  // by the primary object's key
  size_t listed_ = 0;                                  // watchers that have listed at least once
  size_t watcher_count_ = 0;
  std::vector<std::unique_ptr<Watcher>> watchers_;
};

}  // namespace vigil::scraper
