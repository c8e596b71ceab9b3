#include "scraper/kubernetes_targets.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>
#include <vector>

namespace vigil::scraper {
namespace {

using json = nlohmann::json;
using LabelList = std::vector<Label>;  // later entries win, as Go's LabelSet.Merge

constexpr std::string_view kMeta = "__meta_kubernetes_";

// strutil.SanitizeLabelName: every character outside [a-zA-Z0-9_] becomes '_'.
std::string Sanitize(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
  }
  return out;
}

const json& Field(const json& j, const char* key) {
  static const json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

std::string Str(const json& j, const char* key) {
  const json& v = Field(j, key);
  return v.is_string() ? v.get<std::string>() : "";
}

// A string field that Kubernetes sends only when set (a Go *string).
std::optional<std::string> OptStr(const json& j, const char* key) {
  const json& v = Field(j, key);
  if (!v.is_string()) return std::nullopt;
  return v.get<std::string>();
}

// An int32 field (ports); nullopt when absent, not an integer or out of
// int32 range. The API server's JSON is input: a string, 1e300 or a nested
// object there must not throw or overflow.
std::optional<int64_t> OptInt32(const json& j, const char* key) {
  const json& v = Field(j, key);
  if (v.is_number_unsigned()) {
    if (v.get<uint64_t>() <= std::numeric_limits<int32_t>::max()) return v.get<int64_t>();
  } else if (v.is_number_integer()) {
    const int64_t i = v.get<int64_t>();
    if (i >= std::numeric_limits<int32_t>::min() && i <= std::numeric_limits<int32_t>::max()) {
      return i;
    }
  }
  return std::nullopt;
}

std::string Int32Field(const json& j, const char* key, int fallback) {
  return std::to_string(OptInt32(j, key).value_or(fallback));
}

// A bool field Kubernetes sends only when set (a Go *bool), as "true"/"false".
std::optional<std::string> OptBool(const json& j, const char* key) {
  const json& v = Field(j, key);
  if (!v.is_boolean()) return std::nullopt;
  return v.get<bool>() ? "true" : "false";
}

// Iterating a field that may be absent or of the wrong type.
const json& Array(const json& j, const char* key) {
  static const json kEmpty = json::array();
  const json& v = Field(j, key);
  return v.is_array() ? v : kEmpty;
}

std::string Meta(std::string_view suffix) { return std::string(kMeta) + std::string(suffix); }

// addObjectMetaLabels (Prometheus 2.48, discovery/kubernetes/kubernetes.go):
// <role>_name, then <role>_label_<name> and <role>_labelpresent_<name> for
// each label, and the same for annotations. Every role's object gets all
// of them (2.42 gave endpoints no annotations, endpointslice neither labels
// nor annotations, and attach_metadata's node no annotations).
void AddObjectMeta(const json& metadata, std::string_view role, LabelList& out) {
  const std::string prefix = Meta(role) + "_";
  out.push_back({prefix + "name", Str(metadata, "name")});
  for (const auto& [kind, field] :
       {std::pair{"label", "labels"}, std::pair{"annotation", "annotations"}}) {
    const json& m = Field(metadata, field);
    if (!m.is_object()) continue;
    for (const auto& [k, v] : m.items()) {
      if (v.is_structured()) continue;  // Kubernetes sends strings; dump() would recurse
      const std::string name = Sanitize(k);
      out.push_back({prefix + kind + "_" + name, v.is_string() ? v.get<std::string>() : v.dump()});
      out.push_back({prefix + kind + "present_" + name, "true"});
    }
  }
}

std::string JoinHostPort(const std::string& host, const std::string& port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + port;
  return host + ":" + port;
}

void AddTarget(config::TargetGroup& g, std::string address, LabelList labels) {
  g.targets.push_back(std::move(address));
  g.target_labels.push_back(Labels(std::move(labels)));
}

// ---- pods ----

std::string PodReady(const json& status) {
  for (const json& cond : Array(status, "conditions")) {
    if (Str(cond, "type") == "Ready") {
      std::string v = Str(cond, "status");
      for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return v;
    }
  }
  return "unknown";
}

// podLabels: what every pod-backed target carries (not the namespace).
LabelList PodLabels(const json& pod) {
  const json& md = Field(pod, "metadata");
  const json& spec = Field(pod, "spec");
  const json& status = Field(pod, "status");
  LabelList labels = {
      {Meta("pod_ip"), Str(status, "podIP")},       {Meta("pod_ready"), PodReady(status)},
      {Meta("pod_phase"), Str(status, "phase")},    {Meta("pod_node_name"), Str(spec, "nodeName")},
      {Meta("pod_host_ip"), Str(status, "hostIP")}, {Meta("pod_uid"), Str(md, "uid")},
  };
  for (const json& ref : Array(md, "ownerReferences")) {
    if (Field(ref, "controller") != json(true)) continue;
    labels.push_back({Meta("pod_controller_kind"), Str(ref, "kind")});
    labels.push_back({Meta("pod_controller_name"), Str(ref, "name")});
    break;
  }
  AddObjectMeta(md, "pod", labels);
  return labels;
}

// addNodeLabels: the node's name, labels and annotations.
void AddNodeLabels(const KubernetesObjectLookup* lookup,
                   const std::optional<std::string>& node_name, LabelList& out) {
  if (!lookup || !node_name) return;
  const json* node = lookup->Find("nodes", "", *node_name);
  if (!node) return;
  AddObjectMeta(Field(*node, "metadata"), "node", out);
}

// A targetRef of kind Node names the node behind an endpoints address or
// endpointslice endpoint (Prometheus 2.48).
std::optional<std::string> NodeOfTargetRef(const json& target_ref) {
  if (Str(target_ref, "kind") != "Node") return std::nullopt;
  return Str(target_ref, "name");
}

std::string ContainerId(const json& statuses, const std::string& name) {
  for (const json& s : statuses) {
    if (Str(s, "name") == name) return Str(s, "containerID");
  }
  return "";
}

void AddContainerTargets(const json& pod, bool init, config::TargetGroup& g) {
  const std::string ip = Str(Field(pod, "status"), "podIP");
  const json& statuses =
      Array(Field(pod, "status"), init ? "initContainerStatuses" : "containerStatuses");
  for (const json& c : Array(Field(pod, "spec"), init ? "initContainers" : "containers")) {
    const LabelList base = {{Meta("pod_container_name"), Str(c, "name")},
                            {Meta("pod_container_id"), ContainerId(statuses, Str(c, "name"))},
                            {Meta("pod_container_image"), Str(c, "image")},
                            {Meta("pod_container_init"), init ? "true" : "false"}};
    const json& ports = Array(c, "ports");
    if (ports.empty()) {
      AddTarget(g, ip, base);
      continue;
    }
    for (const json& p : ports) {
      const std::string number = Int32Field(p, "containerPort", 0);
      LabelList labels = base;
      labels.push_back({Meta("pod_container_port_number"), number});
      labels.push_back({Meta("pod_container_port_name"), Str(p, "name")});
      labels.push_back({Meta("pod_container_port_protocol"), Str(p, "protocol")});
      AddTarget(g, JoinHostPort(ip, number), std::move(labels));
    }
  }
}

config::TargetGroup PodGroup(const json& pod, const KubernetesObjectLookup* lookup,
                             bool attach_node) {
  const json& md = Field(pod, "metadata");
  config::TargetGroup g;
  g.source = "pod/" + Str(md, "namespace") + "/" + Str(md, "name");
  if (Str(Field(pod, "status"), "podIP").empty()) return g;  // starting or evicted: no targets yet
  LabelList labels = PodLabels(pod);
  labels.push_back({Meta("namespace"), Str(md, "namespace")});
  if (attach_node) AddNodeLabels(lookup, Str(Field(pod, "spec"), "nodeName"), labels);
  g.labels = Labels(std::move(labels));
  AddContainerTargets(pod, false, g);
  AddContainerTargets(pod, true, g);
  return g;
}

// ---- services and nodes ----

// serviceLabels: what a service adds to its own targets and to endpoints.
LabelList ServiceLabels(const json& svc) {
  const json& md = Field(svc, "metadata");
  LabelList labels = {{Meta("namespace"), Str(md, "namespace")}};
  AddObjectMeta(md, "service", labels);
  return labels;
}

config::TargetGroup ServiceGroup(const json& svc) {
  const json& md = Field(svc, "metadata");
  const json& spec = Field(svc, "spec");
  config::TargetGroup g;
  const std::string ns = Str(md, "namespace");
  const std::string name = Str(md, "name");
  const std::string type = Str(spec, "type");
  g.source = "svc/" + ns + "/" + name;
  LabelList labels = ServiceLabels(svc);
  labels.push_back({Meta("service_type"), type});
  if (type == "ExternalName") {
    labels.push_back({Meta("service_external_name"), Str(spec, "externalName")});
  } else {
    labels.push_back({Meta("service_cluster_ip"), Str(spec, "clusterIP")});
  }
  if (type == "LoadBalancer")
    labels.push_back({Meta("service_loadbalancer_ip"), Str(spec, "loadBalancerIP")});
  g.labels = Labels(std::move(labels));
  for (const json& p : Array(spec, "ports")) {
    const std::string port = Int32Field(p, "port", 0);
    AddTarget(g, name + "." + ns + ".svc:" + port,
              {{Meta("service_port_name"), Str(p, "name")},
               {Meta("service_port_number"), port},
               {Meta("service_port_protocol"), Str(p, "protocol")}});
  }
  return g;
}

config::TargetGroup NodeGroup(const json& node) {
  const json& md = Field(node, "metadata");
  const json& status = Field(node, "status");
  config::TargetGroup g;
  const std::string name = Str(md, "name");
  g.source = "node/" + name;
  LabelList labels = {{Meta("node_provider_id"), Str(Field(node, "spec"), "providerID")}};
  AddObjectMeta(md, "node", labels);
  std::map<std::string, std::string> first_by_type;
  for (const json& a : Array(status, "addresses"))
    first_by_type.emplace(Str(a, "type"), Str(a, "address"));
  for (const auto& [type, addr] : first_by_type)
    labels.push_back({Meta("node_address_" + Sanitize(type)), addr});
  std::string addr;
  for (const char* type :
       {"InternalIP", "InternalDNS", "ExternalIP", "ExternalDNS", "LegacyHostIP", "Hostname"}) {
    if (auto it = first_by_type.find(type); it != first_by_type.end()) {
      addr = it->second;
      break;
    }
  }
  g.labels = Labels(std::move(labels));
  if (addr.empty()) return g;
  // Prometheus uses the port as sent: a node without one gets ":0".
  const std::string port =
      Int32Field(Field(Field(status, "daemonEndpoints"), "kubeletEndpoint"), "Port", 0);
  AddTarget(g, JoinHostPort(addr, port), {{"instance", name}});
  return g;
}

// ---- endpoints and endpointslices ----

// The pods behind the addresses of one endpoints object or endpointslice:
// their labels go on the address's targets, and each of their container
// ports no address covers becomes a target of its own.
class PodBackedTargets {
 public:
  explicit PodBackedTargets(const KubernetesObjectLookup* lookup) : lookup_(lookup) {}

  // When `target_ref` names a stored pod: adds its labels (and the container
  // port matching `port`) to `target` and returns true. The container port's
  // protocol label is `endpoint_protocol` when given (endpoints), else the
  // container's own (endpointslice), as in Prometheus.
  bool Attach(const json& target_ref, std::optional<int64_t> port,
              const std::optional<std::string>& endpoint_protocol, LabelList& target) {
    if (!lookup_ || Str(target_ref, "kind") != "Pod") return false;
    const json* pod = lookup_->Find("pods", Str(target_ref, "namespace"), Str(target_ref, "name"));
    if (!pod) return false;
    const LabelList pod_labels = PodLabels(*pod);
    target.insert(target.end(), pod_labels.begin(), pod_labels.end());
    if (port) AddMatchingContainerPort(*pod, *port, endpoint_protocol, target);
    Seen(pod).push_back(port);
    return true;
  }

  // The targets for container ports not covered by any address's port.
  void AddUncoveredPorts(config::TargetGroup& g) const {
    for (const auto& [pod, ports] : seen_) {
      const std::string ip = Str(Field(*pod, "status"), "podIP");
      if (ip.empty()) continue;  // 2.48: no ":port" targets for a pod without an IP
      for (const json& c : Array(Field(*pod, "spec"), "containers")) {
        for (const json& cport : Array(c, "ports")) {
          const std::optional<int64_t> number = OptInt32(cport, "containerPort");
          if (std::find(ports.begin(), ports.end(), number.value_or(0)) != ports.end()) continue;
          const std::string n = std::to_string(number.value_or(0));
          LabelList labels = ContainerPortLabels(c, cport, n, Str(cport, "protocol"));
          const LabelList pod_labels = PodLabels(*pod);
          labels.insert(labels.end(), pod_labels.begin(), pod_labels.end());
          AddTarget(g, JoinHostPort(ip, n), std::move(labels));
        }
      }
    }
  }

 private:
  static LabelList ContainerPortLabels(const json& c, const json& cport, const std::string& number,
                                       const std::string& protocol) {
    return {{Meta("pod_container_name"), Str(c, "name")},
            {Meta("pod_container_image"), Str(c, "image")},
            {Meta("pod_container_port_name"), Str(cport, "name")},
            {Meta("pod_container_port_number"), number},
            {Meta("pod_container_port_protocol"), protocol}};
  }

  static void AddMatchingContainerPort(const json& pod, int64_t port,
                                       const std::optional<std::string>& endpoint_protocol,
                                       LabelList& target) {
    // Prometheus keeps looking after a match in one container (its break
    // leaves only the port loop): the last container with the port wins.
    for (const json& c : Array(Field(pod, "spec"), "containers")) {
      for (const json& cport : Array(c, "ports")) {
        if (OptInt32(cport, "containerPort") != port) continue;
        const LabelList l = ContainerPortLabels(c, cport, std::to_string(port),
                                                endpoint_protocol.value_or(Str(cport, "protocol")));
        target.insert(target.end(), l.begin(), l.end());
        break;
      }
    }
  }

  std::vector<std::optional<int64_t>>& Seen(const json* pod) {
    for (auto& [p, ports] : seen_) {
      if (p == pod) return ports;
    }
    return seen_.emplace_back(pod, std::vector<std::optional<int64_t>>{}).second;
  }

  const KubernetesObjectLookup* lookup_;
  // In first-seen order (Prometheus iterates a map: any order).
  std::vector<std::pair<const json*, std::vector<std::optional<int64_t>>>> seen_;
};

void AddServiceLabels(const KubernetesObjectLookup* lookup, const std::string& ns,
                      const std::optional<std::string>& name, LabelList& out) {
  if (!lookup || !name) return;
  if (const json* svc = lookup->Find("services", ns, *name)) {
    const LabelList l = ServiceLabels(*svc);
    out.insert(out.end(), l.begin(), l.end());
  }
}

config::TargetGroup EndpointsGroup(const json& eps, const KubernetesObjectLookup* lookup,
                                   bool attach_node) {
  const json& md = Field(eps, "metadata");
  const std::string ns = Str(md, "namespace");
  const std::string name = Str(md, "name");
  config::TargetGroup g;
  g.source = "endpoints/" + ns + "/" + name;
  LabelList labels = {{Meta("namespace"), ns}};
  AddServiceLabels(lookup, ns, name, labels);
  AddObjectMeta(md, "endpoints", labels);
  g.labels = Labels(std::move(labels));

  PodBackedTargets pods(lookup);
  auto add = [&](const json& addr, const json& port, const char* ready) {
    const std::optional<int64_t> number = OptInt32(port, "port");
    LabelList target = {{Meta("endpoint_port_name"), Str(port, "name")},
                        {Meta("endpoint_port_protocol"), Str(port, "protocol")},
                        {Meta("endpoint_ready"), ready}};
    const json& ref = Field(addr, "targetRef");
    if (ref.is_object()) {
      target.push_back({Meta("endpoint_address_target_kind"), Str(ref, "kind")});
      target.push_back({Meta("endpoint_address_target_name"), Str(ref, "name")});
    }
    const std::optional<std::string> node = OptStr(addr, "nodeName");
    if (node) target.push_back({Meta("endpoint_node_name"), *node});
    target.push_back({Meta("endpoint_hostname"), Str(addr, "hostname")});
    if (attach_node) AddNodeLabels(lookup, node ? node : NodeOfTargetRef(ref), target);
    pods.Attach(ref, number.value_or(0), Str(port, "protocol"), target);
    AddTarget(g, JoinHostPort(Str(addr, "ip"), std::to_string(number.value_or(0))),
              std::move(target));
  };
  for (const json& subset : Array(eps, "subsets")) {
    for (const json& port : Array(subset, "ports")) {
      for (const json& addr : Array(subset, "addresses")) add(addr, port, "true");
      for (const json& addr : Array(subset, "notReadyAddresses")) add(addr, port, "false");
    }
  }
  pods.AddUncoveredPorts(g);
  return g;
}

void AddEndpointSliceEndpointLabels(const json& ep, LabelList& target) {
  const json& conditions = Field(ep, "conditions");
  for (const char* c : {"ready", "serving", "terminating"}) {
    if (auto v = OptBool(conditions, c)) {
      target.push_back({Meta("endpointslice_endpoint_conditions_") + c, *v});
    }
  }
  if (auto hostname = OptStr(ep, "hostname"))
    target.push_back({Meta("endpointslice_endpoint_hostname"), *hostname});
  const json& ref = Field(ep, "targetRef");
  if (ref.is_object()) {
    target.push_back({Meta("endpointslice_address_target_kind"), Str(ref, "kind")});
    target.push_back({Meta("endpointslice_address_target_name"), Str(ref, "name")});
  }
  // discovery.k8s.io/v1 renamed v1beta1's "topology" to "deprecatedTopology".
  for (const char* field : {"topology", "deprecatedTopology"}) {
    const json& topology = Field(ep, field);
    if (!topology.is_object()) continue;
    for (const auto& [k, v] : topology.items()) {
      if (!v.is_string()) continue;
      const std::string name = Sanitize(k);
      target.push_back({Meta("endpointslice_endpoint_topology_") + name, v.get<std::string>()});
      target.push_back({Meta("endpointslice_endpoint_topology_present_") + name, "true"});
    }
  }
}

void AddEndpointSlicePortLabels(const json& port, LabelList& target) {
  if (auto name = OptStr(port, "name")) target.push_back({Meta("endpointslice_port_name"), *name});
  if (auto protocol = OptStr(port, "protocol"))
    target.push_back({Meta("endpointslice_port_protocol"), *protocol});
  if (auto number = OptInt32(port, "port"))
    target.push_back({Meta("endpointslice_port"), std::to_string(*number)});
  if (auto app = OptStr(port, "appProtocol"))
    target.push_back({Meta("endpointslice_port_app_protocol"), *app});
}

config::TargetGroup EndpointSliceGroup(const json& slice, const KubernetesObjectLookup* lookup,
                                       bool attach_node) {
  const json& md = Field(slice, "metadata");
  const std::string ns = Str(md, "namespace");
  config::TargetGroup g;
  g.source = "endpointslice/" + ns + "/" + Str(md, "name");
  LabelList labels = {{Meta("namespace"), ns},
                      {Meta("endpointslice_address_type"), Str(slice, "addressType")}};
  AddObjectMeta(md, "endpointslice", labels);
  // Every EndpointSlice names its service in this label.
  AddServiceLabels(lookup, ns, OptStr(Field(md, "labels"), "kubernetes.io/service-name"), labels);
  g.labels = Labels(std::move(labels));

  PodBackedTargets pods(lookup);
  for (const json& ep : Array(slice, "endpoints")) {
    for (const json& port : Array(slice, "ports")) {
      const std::optional<int64_t> number = OptInt32(port, "port");
      for (const json& addr : Array(ep, "addresses")) {
        if (!addr.is_string()) continue;
        LabelList target;
        AddEndpointSlicePortLabels(port, target);
        AddEndpointSliceEndpointLabels(ep, target);
        if (attach_node) {
          const std::optional<std::string> node = NodeOfTargetRef(Field(ep, "targetRef"));
          AddNodeLabels(lookup, node ? node : OptStr(ep, "nodeName"), target);
        }
        pods.Attach(Field(ep, "targetRef"), number, std::nullopt, target);
        const std::string ip = addr.get<std::string>();
        AddTarget(g, number ? JoinHostPort(ip, std::to_string(*number)) : ip, std::move(target));
      }
    }
  }
  pods.AddUncoveredPorts(g);
  return g;
}

// ---- ingresses ----

// A TLS host entry covers `host` when equal, or as "*.rest" when `host` has
// the same number of dot-separated parts and the same parts after the first.
bool MatchesHostnamePattern(const std::string& pattern, const std::string& host) {
  if (pattern == host) return true;
  if (pattern.rfind("*.", 0) != 0 && pattern != "*") return false;
  auto parts = [](const std::string& s) { return std::count(s.begin(), s.end(), '.') + 1; };
  if (parts(pattern) != parts(host)) return false;
  const size_t dot = host.find('.');
  const std::string host_rest = dot == std::string::npos ? "" : host.substr(dot);
  return pattern.substr(1) == host_rest;
}

config::TargetGroup IngressGroup(const json& ingress) {
  const json& md = Field(ingress, "metadata");
  const json& spec = Field(ingress, "spec");
  config::TargetGroup g;
  g.source = "ingress/" + Str(md, "namespace") + "/" + Str(md, "name");
  LabelList labels = {{Meta("namespace"), Str(md, "namespace")}};
  if (auto cls = OptStr(spec, "ingressClassName"))
    labels.push_back({Meta("ingress_class_name"), *cls});
  AddObjectMeta(md, "ingress", labels);
  g.labels = Labels(std::move(labels));

  std::vector<std::string> tls_hosts;
  for (const json& tls : Array(spec, "tls")) {
    for (const json& h : Array(tls, "hosts")) {
      if (h.is_string()) tls_hosts.push_back(h.get<std::string>());
    }
  }
  for (const json& rule : Array(spec, "rules")) {
    const std::string host = Str(rule, "host");
    const bool tls = std::any_of(tls_hosts.begin(), tls_hosts.end(), [&](const std::string& p) {
      return MatchesHostnamePattern(p, host);
    });
    // A rule without "http" stands for "/"; one with "http" has its paths.
    std::vector<std::string> paths;
    const json& http = Field(rule, "http");
    if (http.is_null()) paths.push_back("/");
    for (const json& p : Array(http, "paths"))
      paths.push_back(Str(p, "path").empty() ? "/" : Str(p, "path"));
    for (const std::string& path : paths) {
      AddTarget(g, host,
                {{Meta("ingress_scheme"), tls ? "https" : "http"},
                 {Meta("ingress_host"), host},
                 {Meta("ingress_path"), path}});
    }
  }
  return g;
}

// One endpoints address's or endpointslice endpoint's indexed node.
void AddIndexedNode(const json& address, std::vector<std::string>& out) {
  const json& ref = Field(address, "targetRef");
  const std::string kind = Str(ref, "kind");
  if (kind == "Node") out.push_back(Str(ref, "name"));
  if (kind == "Pod") {
    if (auto node = OptStr(address, "nodeName")) out.push_back(*node);
  }
}

}  // namespace

std::vector<std::string> KubernetesIndexedNodes(const std::string& role,
                                                const nlohmann::json& object) {
  std::vector<std::string> nodes;
  if (role == "pod") nodes.push_back(Str(Field(object, "spec"), "nodeName"));
  if (role == "endpoints") {
    for (const json& subset : Array(object, "subsets")) {
      for (const json& addr : Array(subset, "addresses")) AddIndexedNode(addr, nodes);
    }
  }
  if (role == "endpointslice") {
    for (const json& ep : Array(object, "endpoints")) AddIndexedNode(ep, nodes);
  }
  return nodes;
}

config::TargetGroup KubernetesObjectToGroup(const std::string& role, const nlohmann::json& object,
                                            const KubernetesObjectLookup* lookup,
                                            bool attach_node) {
  if (role == "service") return ServiceGroup(object);
  if (role == "node") return NodeGroup(object);
  if (role == "endpoints") return EndpointsGroup(object, lookup, attach_node);
  if (role == "endpointslice") return EndpointSliceGroup(object, lookup, attach_node);
  if (role == "ingress") return IngressGroup(object);
  return PodGroup(object, lookup, attach_node);
}

}  // namespace vigil::scraper
