// Kubernetes objects to target groups: the __meta_kubernetes_* labels
// Prometheus 2.48 sets for each kubernetes_sd_configs role. Pure functions
// over the API server's JSON; kubernetes_discovery.h does the list + watch.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace vigil::scraper {

// The objects an endpoints or endpointslice target is joined with (its
// service, the pod behind an address, the node with attach_metadata).
class KubernetesObjectLookup {
 public:
  virtual ~KubernetesObjectLookup() = default;
  // The stored object of `resource` ("services", "pods", "nodes") called
  // `name` in namespace `ns` ("" for nodes), or nullptr.
  virtual const nlohmann::json* Find(std::string_view resource, std::string_view ns,
                                     std::string_view name) const = 0;
};

// The target group Prometheus builds for one Kubernetes object of `role`
// (pod, service, node, endpoints, endpointslice, ingress). Its source is
// "<role>/<namespace>/<name>" ("svc/..." for services, "node/<name>" for
// nodes). `lookup` (may be null: nothing is joined) supplies services and
// pods for endpoints and endpointslice, and nodes when `attach_node`
// (attach_metadata: {node: true}; pod, endpoints and endpointslice roles).
config::TargetGroup KubernetesObjectToGroup(const std::string& role, const nlohmann::json& object,
                                            const KubernetesObjectLookup* lookup = nullptr,
                                            bool attach_node = false);

// The nodes whose add, update or delete makes Prometheus 2.48 rebuild the
// group of `object` (of `role`) under attach_metadata: {node: true}, its
// informers' node index (discovery/kubernetes/kubernetes.go, pod.go). A pod:
// spec.nodeName. An endpoints object: its ready addresses' targetRef names
// when of kind Node, their nodeName when the targetRef is a Pod (an address
// without a targetRef is not indexed). An endpointslice: the same over its
// endpoints. Other roles: none.
std::vector<std::string> KubernetesIndexedNodes(const std::string& role,
                                                const nlohmann::json& object);

}  // namespace vigil::scraper
