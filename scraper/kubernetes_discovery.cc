#include "scraper/kubernetes_discovery.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <limits>

#include "config/http_client.h"
#include "base/logger.h"
#include "base/url_escape.h"

namespace vigil::scraper {
namespace {

using json = nlohmann::json;

constexpr std::string_view kMeta = "__meta_kubernetes_";
constexpr char kServiceAccountDir[] = "/var/run/secrets/kubernetes.io/serviceaccount";
constexpr int kWatchReadTimeoutSec = 2;  // how often an idle watch checks for Stop()
constexpr int kRetryMs = 1000;         // after a failed list or watch
constexpr int kRewatchPauseMs = 100;   // between two watch requests

// strutil.SanitizeLabelName: every character outside [a-zA-Z0-9_] becomes '_'.
std::string Sanitize(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
  }
  return out;
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

const json& Field(const json& j, const char* key) {
  static const json kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

// An int32 field (ports), as its decimal text; `fallback` when it is absent,
// not an integer or out of int32 range. The API server's JSON is input: a
// string, 1e300 or a nested object there must not throw or overflow.
std::string Int32Field(const json& j, const char* key, int fallback) {
  const json& v = Field(j, key);
  int64_t n = fallback;
  if (v.is_number_unsigned()) {
    if (v.get<uint64_t>() <= std::numeric_limits<int32_t>::max()) n = v.get<int64_t>();
  } else if (v.is_number_integer()) {
    const int64_t i = v.get<int64_t>();
    if (i >= std::numeric_limits<int32_t>::min() && i <= std::numeric_limits<int32_t>::max()) n = i;
  }
  return std::to_string(n);
}

bool BoolField(const json& j, const char* key) {
  const json& v = Field(j, key);
  return v.is_boolean() && v.get<bool>();
}

std::string Meta(std::string_view suffix) { return std::string(kMeta) + std::string(suffix); }

// <prefix>label_<name>, <prefix>labelpresent_<name>, and the same for annotations.
void AddObjectMeta(const json& metadata, std::string_view role, std::vector<Label>& out) {
  const std::string prefix = Meta(role) + "_";
  for (const auto& [kind, field] : {std::pair{"label", "labels"}, std::pair{"annotation", "annotations"}}) {
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

std::string PodReady(const json& status) {
  for (const json& cond : Field(status, "conditions")) {
    if (Str(cond, "type") == "Ready") {
      std::string v = Str(cond, "status");
      for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return v;
    }
  }
  return "unknown";
}

void AddContainerTargets(const json& containers, bool init, const std::string& ip, config::TargetGroup& g) {
  if (!containers.is_array()) return;
  for (const json& c : containers) {
    const Labels base = {{Meta("pod_container_name"), Str(c, "name")},
                         {Meta("pod_container_image"), Str(c, "image")},
                         {Meta("pod_container_init"), init ? "true" : "false"}};
    const json& ports = Field(c, "ports");
    if (!ports.is_array() || ports.empty()) {
      g.targets.push_back(ip);
      g.target_labels.push_back(base);
      continue;
    }
    for (const json& p : ports) {
      const std::string number = Int32Field(p, "containerPort", 0);
      LabelsBuilder lb(base);
      lb.Set(Meta("pod_container_port_number"), number);
      lb.Set(Meta("pod_container_port_name"), Str(p, "name"));
      lb.Set(Meta("pod_container_port_protocol"), Str(p, "protocol"));
      g.targets.push_back(JoinHostPort(ip, number));
      g.target_labels.push_back(lb.Build());
    }
  }
}

config::TargetGroup PodGroup(const json& pod) {
  const json& md = Field(pod, "metadata");
  const json& spec = Field(pod, "spec");
  const json& status = Field(pod, "status");
  config::TargetGroup g;
  g.source = "pod/" + Str(md, "namespace") + "/" + Str(md, "name");
  const std::string ip = Str(status, "podIP");
  if (ip.empty()) return g;  // starting or evicted: no targets yet
  std::vector<Label> labels = {
      {Meta("namespace"), Str(md, "namespace")},   {Meta("pod_name"), Str(md, "name")},
      {Meta("pod_ip"), ip},                        {Meta("pod_ready"), PodReady(status)},
      {Meta("pod_phase"), Str(status, "phase")},   {Meta("pod_node_name"), Str(spec, "nodeName")},
      {Meta("pod_host_ip"), Str(status, "hostIP")}, {Meta("pod_uid"), Str(md, "uid")},
  };
  for (const json& ref : Field(md, "ownerReferences")) {
    if (!BoolField(ref, "controller")) continue;
    labels.push_back({Meta("pod_controller_kind"), Str(ref, "kind")});
    labels.push_back({Meta("pod_controller_name"), Str(ref, "name")});
    break;
  }
  AddObjectMeta(md, "pod", labels);
  g.labels = Labels(std::move(labels));
  AddContainerTargets(Field(spec, "containers"), false, ip, g);
  AddContainerTargets(Field(spec, "initContainers"), true, ip, g);
  return g;
}

config::TargetGroup ServiceGroup(const json& svc) {
  const json& md = Field(svc, "metadata");
  const json& spec = Field(svc, "spec");
  config::TargetGroup g;
  const std::string ns = Str(md, "namespace");
  const std::string name = Str(md, "name");
  g.source = "svc/" + ns + "/" + name;
  std::vector<Label> labels = {{Meta("namespace"), ns},
                               {Meta("service_name"), name},
                               {Meta("service_type"), Str(spec, "type")}};
  if (Str(spec, "type") == "ExternalName") {
    labels.push_back({Meta("service_external_name"), Str(spec, "externalName")});
  } else {
    labels.push_back({Meta("service_cluster_ip"), Str(spec, "clusterIP")});
  }
  AddObjectMeta(md, "service", labels);
  g.labels = Labels(std::move(labels));
  for (const json& p : Field(spec, "ports")) {
    const std::string port = Int32Field(p, "port", 0);
    g.targets.push_back(name + "." + ns + ".svc:" + port);
    g.target_labels.push_back(Labels{{Meta("service_port_name"), Str(p, "name")},
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
  std::vector<Label> labels = {{Meta("node_name"), name},
                               {Meta("node_provider_id"), Str(Field(node, "spec"), "providerID")}};
  AddObjectMeta(md, "node", labels);
  std::map<std::string, std::string> first_by_type;
  for (const json& a : Field(status, "addresses")) first_by_type.emplace(Str(a, "type"), Str(a, "address"));
  for (const auto& [type, addr] : first_by_type) labels.push_back({Meta("node_address_" + Sanitize(type)), addr});
  std::string addr;
  for (const char* type : {"InternalIP", "InternalDNS", "ExternalIP", "ExternalDNS", "LegacyHostIP", "Hostname"}) {
    if (auto it = first_by_type.find(type); it != first_by_type.end()) {
      addr = it->second;
      break;
    }
  }
  g.labels = Labels(std::move(labels));
  if (addr.empty()) return g;
  const std::string port =
      Int32Field(Field(Field(status, "daemonEndpoints"), "kubeletEndpoint"), "Port", 10250);
  g.targets.push_back(JoinHostPort(addr, port));
  g.target_labels.push_back(Labels{{"instance", name}});
  return g;
}

std::string ResourcePath(const std::string& role, const std::string& ns) {
  const std::string kind = role == "service" ? "services" : role == "node" ? "nodes" : "pods";
  if (role == "node" || ns.empty()) return "/api/v1/" + kind;
  return "/api/v1/namespaces/" + ns + "/" + kind;
}

}  // namespace

config::TargetGroup KubernetesObjectToGroup(const std::string& role, const nlohmann::json& object) {
  if (role == "service") return ServiceGroup(object);
  if (role == "node") return NodeGroup(object);
  return PodGroup(object);
}

// One list+watch loop for one namespace ("" = all).
class KubernetesDiscoverer::Watcher {
 public:
  Watcher(KubernetesDiscoverer* owner, std::string ns) : owner_(owner), ns_(std::move(ns)) {}
  ~Watcher() { Stop(); }

  void Start() { thread_ = std::thread([this] { Run(); }); }
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      if (client_) client_->stop();
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  bool Stopped() {
    std::lock_guard<std::mutex> lock(mu_);
    return stop_;
  }

  void Run() {
    while (!Stopped()) {
      const Status st = ListAndWatch();
      if (!st.ok() && !Stopped()) {
        VLOG_ERROR("Kubernetes discovery failed", {{"role", owner_->config_.role}, {"err", st.message()}});
      }
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(kRetryMs), [this] { return stop_; });
    }
  }

  Status Connect() {
    std::string server = owner_->config_.api_server;
    config::HttpClientConfig http = owner_->config_.http;
    if (server.empty()) {
      const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
      const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
      if (!host || !port) {
        return Status::Unavailable("no api_server configured and not running in a cluster "
                                   "(KUBERNETES_SERVICE_HOST/PORT unset)");
      }
      server = "https://" + JoinHostPort(host, port);
      http.authorization = config::Authorization{"Bearer", "", std::string(kServiceAccountDir) + "/token"};
      http.tls_config.ca_file = std::string(kServiceAccountDir) + "/ca.crt";
    }
    auto [base, prefix] = config::SplitUrl(server);
    prefix_ = prefix == "/" ? "" : prefix;
    headers_ = {{"Accept", "application/json"}};
    VIGIL_RETURN_IF_ERROR(config::AddAuthHeaders(http, headers_));
    std::lock_guard<std::mutex> lock(mu_);
    client_ = config::NewHttpClient(base, http);
    client_->set_connection_timeout(10);
    client_->set_read_timeout(kWatchReadTimeoutSec);
    return Status::OK();
  }

  std::string Query(bool watch, const std::string& resource_version) const {
    std::string q;
    for (const auto& s : owner_->config_.selectors) {
      if (s.role != owner_->config_.role) continue;
      if (!s.label.empty()) q += "&labelSelector=" + QueryEscape(s.label);
      if (!s.field.empty()) q += "&fieldSelector=" + QueryEscape(s.field);
    }
    if (watch) q += "&watch=true&allowWatchBookmarks=true&resourceVersion=" + resource_version;
    if (q.empty()) return "";
    q[0] = '?';
    return q;
  }

  Status ListAndWatch() {
    VIGIL_RETURN_IF_ERROR(Connect());
    const std::string path = prefix_ + ResourcePath(owner_->config_.role, ns_);
    auto res = client_->Get((path + Query(false, "")).c_str(), headers_);
    if (!res) return Status::Unavailable("list " + path + ": " + httplib::to_string(res.error()));
    if (res->status != 200) return Status::Unavailable("list " + path + ": HTTP " + std::to_string(res->status));
    std::string rv;
    {
      const json list = json::parse(res->body, nullptr, false);
      if (list.is_discarded()) return Status::InvalidArgument("list " + path + ": invalid JSON");
      rv = Str(Field(list, "metadata"), "resourceVersion");
      std::map<std::string, config::TargetGroup> groups;
      for (const json& item : Field(list, "items")) {
        config::TargetGroup g = KubernetesObjectToGroup(owner_->config_.role, item);
        groups[g.source] = std::move(g);
      }
      owner_->Replace(ns_, std::move(groups));
    }
    while (!Stopped()) {
      VIGIL_RETURN_IF_ERROR(Watch(path, rv));
      // A server that ends watches at once must not make us spin.
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(kRewatchPauseMs), [this] { return stop_; });
    }
    return Status::OK();
  }

  // Streams watch events until the server closes the stream or the read
  // times out (then the caller re-watches from `rv`).
  Status Watch(const std::string& path, std::string& rv) {
    std::string buffer;
    Status failure;
    auto receiver = [&](const char* data, size_t len) {
      buffer.append(data, len);
      size_t nl;
      while ((nl = buffer.find('\n')) != std::string::npos) {
        failure = HandleEvent(buffer.substr(0, nl), rv);
        buffer.erase(0, nl + 1);
        if (!failure.ok()) return false;
      }
      return !Stopped();
    };
    auto res = client_->Get((path + Query(true, rv)).c_str(), headers_, receiver);
    if (!failure.ok()) return failure;
    if (!res && res.error() != httplib::Error::Read) {
      return Status::Unavailable("watch " + path + ": " + httplib::to_string(res.error()));
    }
    if (res && res->status != 200) return Status::Unavailable("watch " + path + ": HTTP " + std::to_string(res->status));
    return Status::OK();
  }

  Status HandleEvent(const std::string& line, std::string& rv) {
    if (line.empty()) return Status::OK();
    const json ev = json::parse(line, nullptr, false);
    if (ev.is_discarded()) return Status::InvalidArgument("watch: invalid JSON event");
    const std::string type = Str(ev, "type");
    const json& obj = Field(ev, "object");
    if (type == "ERROR") return Status::Unavailable("watch: " + Str(obj, "message") + " (relisting)");
    if (type != "ADDED" && type != "MODIFIED" && type != "DELETED" && type != "BOOKMARK") {
      return Status::InvalidArgument("watch: unexpected event type \"" + type + "\" (relisting)");
    }
    const std::string new_rv = Str(Field(obj, "metadata"), "resourceVersion");
    if (!new_rv.empty()) rv = new_rv;
    if (type == "BOOKMARK") return Status::OK();
    config::TargetGroup g = KubernetesObjectToGroup(owner_->config_.role, obj);
    owner_->Update(std::move(g), type == "DELETED");
    return Status::OK();
  }

  KubernetesDiscoverer* owner_;
  const std::string ns_;
  std::string prefix_;
  httplib::Headers headers_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::unique_ptr<httplib::Client> client_;
  std::thread thread_;
};

KubernetesDiscoverer::KubernetesDiscoverer(config::KubernetesSdConfig config) : config_(std::move(config)) {}

KubernetesDiscoverer::~KubernetesDiscoverer() { Stop(); }

void KubernetesDiscoverer::Start(GroupsCallback on_update) {
  on_update_ = std::move(on_update);
  if (config_.role != "pod" && config_.role != "service" && config_.role != "node") {
    VLOG_ERROR("Kubernetes SD role not supported by Vigil yet; it discovers no targets",
               {{"role", config_.role}});
    return;
  }
  std::vector<std::string> namespaces = config_.namespaces;
  if (config_.own_namespace) {
    auto ns = config::ReadSecretFile(std::string(kServiceAccountDir) + "/namespace");
    if (ns.ok()) namespaces.push_back(*ns);
  }
  if (namespaces.empty() || config_.role == "node") namespaces = {""};
  for (const std::string& ns : namespaces) {
    watchers_.push_back(std::make_unique<Watcher>(this, ns));
    watchers_.back()->Start();
  }
}

void KubernetesDiscoverer::Stop() {
  for (auto& w : watchers_) w->Stop();
  watchers_.clear();
}

void KubernetesDiscoverer::Replace(const std::string& ns, std::map<std::string, config::TargetGroup> groups) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = groups_.begin(); it != groups_.end();) {
    const bool in_ns = ns.empty() || it->first.find("/" + ns + "/") != std::string::npos;
    it = in_ns ? groups_.erase(it) : std::next(it);
  }
  groups_.merge(groups);
  PublishLocked();
}

void KubernetesDiscoverer::Update(config::TargetGroup group, bool deleted) {
  std::lock_guard<std::mutex> lock(mu_);
  if (deleted) {
    groups_.erase(group.source);
  } else {
    groups_[group.source] = std::move(group);
  }
  PublishLocked();
}

void KubernetesDiscoverer::PublishLocked() {
  std::vector<config::TargetGroup> all;
  all.reserve(groups_.size());
  for (const auto& [source, g] : groups_) all.push_back(g);
  on_update_(std::move(all));
}

}  // namespace vigil::scraper
