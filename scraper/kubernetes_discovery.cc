#include "scraper/kubernetes_discovery.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>

#include "base/logger.h"
#include "base/url_escape.h"
#include "config/http_client.h"

namespace vigil::scraper {
namespace {

using json = nlohmann::json;

constexpr char kServiceAccountDir[] = "/var/run/secrets/kubernetes.io/serviceaccount";
constexpr int kWatchReadTimeoutSec = 2;  // how often an idle watch checks for Stop()
constexpr int kRetryMs = 1000;         // after a failed list or watch
constexpr int kRewatchPauseMs = 100;   // between two watch requests

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

const json& Field(const json& j, const char* key) {
  static const json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

std::string JoinHostPort(const std::string& host, const std::string& port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + port;
  return host + ":" + port;
}

using Resource = KubernetesDiscoverer::Resource;
constexpr Resource kPods{"pods", "pod", "/api/v1", nullptr, false};
constexpr Resource kServices{"services", "service", "/api/v1", nullptr, false};
constexpr Resource kNodes{"nodes", "node", "/api/v1", nullptr, true};
constexpr Resource kEndpoints{"endpoints", "endpoints", "/api/v1", nullptr, false};
constexpr Resource kEndpointSlices{"endpointslices", "endpointslice", "/apis/discovery.k8s.io/v1",
                                   "/apis/discovery.k8s.io/v1beta1", false};
constexpr Resource kIngresses{"ingresses", "ingress", "/apis/networking.k8s.io/v1",
                              "/apis/networking.k8s.io/v1beta1", false};

// The resource whose objects become the role's groups.
const Resource* PrimaryResource(const std::string& role) {
  for (const Resource* r :
       {&kPods, &kServices, &kNodes, &kEndpoints, &kEndpointSlices, &kIngresses}) {
    if (role == r->selector_role) return r;
  }
  return nullptr;
}

// What a role watches besides its own resource (Prometheus's informers).
std::vector<const Resource*> JoinedResources(const config::KubernetesSdConfig& config) {
  std::vector<const Resource*> out;
  const bool endpoints = config.role == "endpoints" || config.role == "endpointslice";
  if (endpoints) out = {&kServices, &kPods};
  if (config.attach_metadata_node && (endpoints || config.role == "pod")) out.push_back(&kNodes);
  return out;
}

std::string ResourcePath(const char* api, const Resource& resource, const std::string& ns) {
  if (resource.cluster_scoped || ns.empty()) return std::string(api) + "/" + resource.name;
  return std::string(api) + "/namespaces/" + ns + "/" + resource.name;
}

std::string ObjectKey(const json& object) {
  const json& md = Field(object, "metadata");
  return Str(md, "namespace") + "/" + Str(md, "name");
}

}  // namespace

// The store, as the group builders see it (mu_ held by the caller).
class KubernetesDiscoverer::Lookup final : public KubernetesObjectLookup {
 public:
  explicit Lookup(const std::map<std::string, std::map<std::string, json>>& objects)
      : objects_(objects) {}
  const json* Find(std::string_view resource, std::string_view ns,
                   std::string_view name) const override {
    auto r = objects_.find(std::string(resource));
    if (r == objects_.end()) return nullptr;
    auto it = r->second.find(std::string(ns) + "/" + std::string(name));
    return it == r->second.end() ? nullptr : &it->second;
  }

 private:
  const std::map<std::string, std::map<std::string, json>>& objects_;
};

// One list+watch loop for one namespace ("" = all).
class KubernetesDiscoverer::Watcher {
 public:
  Watcher(KubernetesDiscoverer* owner, const Resource& resource, std::string ns)
      : owner_(owner), resource_(resource), ns_(std::move(ns)) {}
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
        VLOG_ERROR(
            "Kubernetes discovery failed",
            {{"role", owner_->config_.role}, {"resource", resource_.name}, {"err", st.message()}});
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
    http_ = http;
    std::lock_guard<std::mutex> lock(mu_);
    client_ = config::NewHttpClient(base, http);
    client_->set_connection_timeout(10);
    client_->set_read_timeout(kWatchReadTimeoutSec);
    return Status::OK();
  }

  // The headers of one request, built per request so a rotated token file,
  // password file or an expiring oauth2 token applies to the next list or
  // watch (the in-cluster service account token rotates hourly).
  Status Headers(httplib::Headers* headers) const {
    *headers = {{"Accept", "application/json"}};
    return config::AddAuthHeaders(http_, *headers);
  }

  std::string Query(bool watch, const std::string& resource_version) const {
    std::string q;
    for (const auto& s : owner_->config_.selectors) {
      if (s.role != resource_.selector_role) continue;
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
    const std::string path = prefix_ + ResourcePath(api_, resource_, ns_);
    httplib::Headers headers;
    VIGIL_RETURN_IF_ERROR(Headers(&headers));
    auto res = client_->Get((path + Query(false, "")).c_str(), headers);
    if (!res) return Status::Unavailable("list " + path + ": " + httplib::to_string(res.error()));
    // An API server from before discovery.k8s.io/v1 (1.21) or networking.k8s.io/v1 (1.19).
    if (res->status == 404 && resource_.fallback_api && api_ != resource_.fallback_api) {
      api_ = resource_.fallback_api;
      return ListAndWatch();
    }
    if (res->status != 200) return Status::Unavailable("list " + path + ": HTTP " + std::to_string(res->status));
    std::string rv;
    {
      json list = json::parse(res->body, nullptr, false);
      if (list.is_discarded() || !list.is_object()) {
        return Status::InvalidArgument("list " + path + ": invalid JSON");
      }
      rv = Str(Field(list, "metadata"), "resourceVersion");
      std::vector<json> items;
      if (json& all = list["items"]; all.is_array()) {
        for (json& item : all) items.push_back(std::move(item));
      }
      owner_->Replace(resource_, ns_, std::move(items), !listed_);
      listed_ = true;
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
    httplib::Headers headers;
    VIGIL_RETURN_IF_ERROR(Headers(&headers));
    auto res = client_->Get((path + Query(true, rv)).c_str(), headers, receiver);
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
    if (!obj.is_object()) return Status::InvalidArgument("watch: event without an object");
    if (type == "ERROR") return Status::Unavailable("watch: " + Str(obj, "message") + " (relisting)");
    if (type != "ADDED" && type != "MODIFIED" && type != "DELETED" && type != "BOOKMARK") {
      return Status::InvalidArgument("watch: unexpected event type \"" + type + "\" (relisting)");
    }
    const std::string new_rv = Str(Field(obj, "metadata"), "resourceVersion");
    if (!new_rv.empty()) rv = new_rv;
    if (type == "BOOKMARK") return Status::OK();
    owner_->Update(resource_, obj, type == "DELETED");
    return Status::OK();
  }

  KubernetesDiscoverer* owner_;
  const Resource& resource_;
  const std::string ns_;
  const char* api_ = resource_.api;
  bool listed_ = false;
  std::string prefix_;
  config::HttpClientConfig http_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::unique_ptr<httplib::Client> client_;
  std::thread thread_;
};
KubernetesDiscoverer::KubernetesDiscoverer(config::KubernetesSdConfig config)
    : config_(std::move(config)), primary_(PrimaryResource(config_.role)) {}

KubernetesDiscoverer::~KubernetesDiscoverer() { Stop(); }

void KubernetesDiscoverer::Start(GroupsCallback on_update) {
  on_update_ = std::move(on_update);
  if (!primary_) {
    VLOG_ERROR("unknown Kubernetes SD role; it discovers no targets", {{"role", config_.role}});
    return;
  }
  std::vector<std::string> namespaces = config_.namespaces;
  if (config_.own_namespace) {
    auto ns = config::ReadSecretFile(std::string(kServiceAccountDir) + "/namespace");
    if (ns.ok()) namespaces.push_back(*ns);
  }
  if (namespaces.empty()) namespaces = {""};
  std::vector<const Resource*> resources = {primary_};
  for (const Resource* r : JoinedResources(config_)) resources.push_back(r);
  for (const Resource* r : resources) {
    for (const std::string& ns : namespaces) {
      watchers_.push_back(std::make_unique<Watcher>(this, *r, r->cluster_scoped ? "" : ns));
      if (r->cluster_scoped) break;
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    watcher_count_ = watchers_.size();
  }
  for (auto& w : watchers_) w->Start();
}

void KubernetesDiscoverer::Stop() {
  for (auto& w : watchers_) w->Stop();
  watchers_.clear();
}

void KubernetesDiscoverer::Replace(const Resource& resource, const std::string& ns,
                                   std::vector<json> items, bool first_list) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& store = objects_[resource.name];
  for (auto it = store.begin(); it != store.end();) {
    it = ns.empty() || it->first.starts_with(ns + "/") ? store.erase(it) : std::next(it);
  }
  for (json& item : items) {
    std::string key = ObjectKey(item);
    store[std::move(key)] = std::move(item);
  }
  if (first_list) ++listed_;
  if (&resource == &kNodes && primary_ != &kNodes && !first_list) {
    RebuildIndexedByNodeLocked(nullptr);
    return;
  }
  // A node's labels reach every namespace's targets.
  RebuildLocked(resource.cluster_scoped ? "" : ns, first_list && listed_ == watcher_count_);
}

void KubernetesDiscoverer::Update(const Resource& resource, json object, bool deleted) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string key = ObjectKey(object);
  const std::string ns = Str(Field(object, "metadata"), "namespace");
  const std::string name = Str(Field(object, "metadata"), "name");
  auto& store = objects_[resource.name];
  if (deleted) {
    store.erase(key);
  } else {
    store[key] = std::move(object);
  }
  if (&resource == &kNodes && primary_ != &kNodes) {
    RebuildIndexedByNodeLocked(&name);
    return;
  }
  if (&resource != primary_) {
    // A service or pod changed: rebuild whatever may join it.
    RebuildLocked(resource.cluster_scoped ? "" : ns, false);
    return;
  }
  bool changed = false;
  RebuildOneLocked(key, changed);
  if (changed && listed_ == watcher_count_) PublishLocked();
}

void KubernetesDiscoverer::RebuildOneLocked(const std::string& key, bool& changed) {
  const auto& store = objects_[primary_->name];
  auto obj = store.find(key);
  if (obj == store.end()) {
    changed |= groups_.erase(key) > 0;
    return;
  }
  const Lookup lookup(objects_);
  config::TargetGroup g =
      KubernetesObjectToGroup(config_.role, obj->second, &lookup, config_.attach_metadata_node);
  auto [it, inserted] = groups_.try_emplace(key);
  if (inserted || it->second != g) {
    it->second = std::move(g);
    changed = true;
  }
}

void KubernetesDiscoverer::RebuildIndexedByNodeLocked(const std::string* node) {
  bool changed = false;
  for (const auto& [key, obj] : objects_[primary_->name]) {
    const std::vector<std::string> nodes = KubernetesIndexedNodes(config_.role, obj);
    const bool indexed =
        node ? std::find(nodes.begin(), nodes.end(), *node) != nodes.end() : !nodes.empty();
    if (indexed) RebuildOneLocked(key, changed);
  }
  if (changed && listed_ == watcher_count_) PublishLocked();
}

void KubernetesDiscoverer::RebuildLocked(const std::string& ns, bool force) {
  const std::string prefix = ns.empty() ? "" : ns + "/";
  std::vector<std::string> keys;  // every stored or grouped object of the role in `ns`
  for (const auto& [key, obj] : objects_[primary_->name]) {
    if (key.starts_with(prefix)) keys.push_back(key);
  }
  for (const auto& [key, g] : groups_) {
    if (key.starts_with(prefix) && !objects_[primary_->name].count(key)) keys.push_back(key);
  }
  bool changed = force;
  for (const std::string& key : keys) RebuildOneLocked(key, changed);
  if (changed && listed_ == watcher_count_) PublishLocked();
}

void KubernetesDiscoverer::PublishLocked() {
  std::vector<config::TargetGroup> all;
  all.reserve(groups_.size());
  for (const auto& [key, g] : groups_) all.push_back(g);
  on_update_(std::move(all));
}

}  // namespace vigil::scraper
