// FakeKubeApi: a loopback Kubernetes API server for discovery tests. It
// serves list and watch (JSON lines, resourceVersion, bookmarks) for any
// collection ("/api/v1" + "pods", "/apis/discovery.k8s.io/v1" +
// "endpointslices", ...), cluster-wide or under /namespaces/<ns>/, from
// objects the test adds, modifies and deletes while discovery runs.
#pragma once

#include <atomic>
#include <cctype>
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/scraper/loopback_server.h"

namespace vigil::scraper {

class FakeKubeApi {
 public:
  using json = nlohmann::json;

  FakeKubeApi() {
    server_.server().new_task_queue = [] { return new httplib::ThreadPool(48); };
    server_.server().Get(
        ".*", [this](const httplib::Request& req, httplib::Response& res) { Serve(req, res); });
    server_.Start();
  }
  ~FakeKubeApi() {
    done_ = true;
    server_.Stop();
  }

  std::string url() const { return "http://" + server_.address(); }

  // The object exists from now on: in lists, and as an ADDED event.
  void Add(const std::string& api, const std::string& resource, const json& object) {
    Emit("ADDED", api, resource, object);
  }
  void Modify(const std::string& api, const std::string& resource, const json& object) {
    Emit("MODIFIED", api, resource, object);
  }
  void Delete(const std::string& api, const std::string& resource, const json& object) {
    Emit("DELETED", api, resource, object);
  }
  // Everything under `api` answers 404 (an older API server).
  void Disable(const std::string& api) {
    std::lock_guard<std::mutex> lock(mu_);
    disabled_.insert(api);
  }
  // "path?query" of every request so far.
  std::vector<std::string> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  struct Event {
    int rv;
    std::string type, api, resource, ns;
    json object;
  };
  struct Collection {
    std::string api, resource, ns;  // ns "" = all namespaces
    bool Holds(const Event& e) const {
      return e.api == api && e.resource == resource && (ns.empty() || e.ns == ns);
    }
  };

  // The Kind of a collection's objects ("pods" -> "Pod"), for client-go's decoder.
  static std::string KindOf(const std::string& resource) {
    static const std::map<std::string, std::string> kKinds = {
        {"pods", "Pod"},   {"services", "Service"},  {"endpoints", "Endpoints"},
        {"nodes", "Node"}, {"ingresses", "Ingress"}, {"endpointslices", "EndpointSlice"}};
    auto it = kKinds.find(resource);
    return it == kKinds.end() ? "Unknown" : it->second;
  }
  // "/api/v1" -> "v1", "/apis/discovery.k8s.io/v1" -> "discovery.k8s.io/v1".
  static std::string ApiVersionOf(const std::string& api) {
    return api.starts_with("/apis/") ? api.substr(6) : api.substr(5);
  }

  void Emit(const std::string& type, const std::string& api, const std::string& resource,
            json object) {
    std::lock_guard<std::mutex> lock(mu_);
    object["kind"] = KindOf(resource);
    object["apiVersion"] = ApiVersionOf(api);
    object["metadata"]["resourceVersion"] = std::to_string(++rv_);
    const std::string ns = object["metadata"].value("namespace", "");
    events_.push_back({rv_, type, api, resource, ns, std::move(object)});
  }

  void Serve(const httplib::Request& req, httplib::Response& res) {
    static const std::regex kPath(
        R"((/api/v1|/apis/[^/]+/[^/]+)(?:/namespaces/([^/]+))?/([a-z]+))");
    std::smatch m;
    const size_t q = req.target.find('?');
    const std::string query =
        q == std::string::npos ? "" : "?" + DecodeQuery(req.target.substr(q + 1));
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(req.path + query);
      if (req.path == "/version") {  // client-go asks before picking v1 or v1beta1
        res.set_content(R"({"major": "1", "minor": "25", "gitVersion": "v1.25.0"})",
                        "application/json");
        return;
      }
      if (!std::regex_match(req.path, m, kPath) || disabled_.count(m[1].str())) {
        res.status = 404;
        return;
      }
    }
    const Collection c{m[1].str(), m[3].str(), m[2].str()};
    if (req.has_param("watch")) {
      Watch(c, std::stoi(req.get_param_value("resourceVersion")), res);
    } else {
      res.set_content(List(c).dump(), "application/json");
    }
  }

  // The raw query with each name and value percent-decoded, split at the
  // first '=' (so "labelSelector=app=a" and "labelSelector=app%3Da" read alike).
  static std::string DecodeQuery(const std::string& raw) {
    std::string out;
    for (char c : raw) out += c == '+' ? ' ' : c;
    std::string decoded;
    for (size_t i = 0; i < out.size(); ++i) {
      if (out[i] == '%' && i + 2 < out.size() &&
          std::isxdigit(static_cast<unsigned char>(out[i + 1])) &&
          std::isxdigit(static_cast<unsigned char>(out[i + 2]))) {
        decoded += static_cast<char>(std::stoi(out.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        decoded += out[i];
      }
    }
    return decoded;
  }

  // The collection's current objects: replaying its events in order.
  json List(const Collection& c) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::pair<std::string, json>> items;  // by namespace/name, in creation order
    for (const Event& e : events_) {
      if (!c.Holds(e)) continue;
      const std::string key = e.ns + "/" + e.object["metadata"].value("name", "");
      auto it =
          std::find_if(items.begin(), items.end(), [&](const auto& i) { return i.first == key; });
      if (e.type == "DELETED") {
        if (it != items.end()) items.erase(it);
      } else if (it != items.end()) {
        it->second = e.object;
      } else {
        items.emplace_back(key, e.object);
      }
    }
    json list = {{"kind", KindOf(c.resource) + "List"},
                 {"apiVersion", ApiVersionOf(c.api)},
                 {"metadata", {{"resourceVersion", std::to_string(rv_)}}},
                 {"items", json::array()}};
    for (auto& [key, obj] : items) list["items"].push_back(obj);
    return list;
  }

  // Streams the collection's events after `rv`; a BOOKMARK every 300ms
  // keeps the stream alive and ends it once the client has gone.
  void Watch(const Collection& c, int rv, httplib::Response& res) {
    auto cursor = std::make_shared<int>(rv);
    auto idle_since =
        std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
    res.set_chunked_content_provider(
        "application/json", [this, c, cursor, idle_since](size_t, httplib::DataSink& sink) {
          if (done_) {
            sink.done();
            return true;
          }
          std::string out;
          {
            std::lock_guard<std::mutex> lock(mu_);
            for (const Event& e : events_) {
              if (e.rv <= *cursor || !c.Holds(e)) continue;
              out += json{{"type", e.type}, {"object", e.object}}.dump() + "\n";
            }
            *cursor = rv_;
          }
          const auto now = std::chrono::steady_clock::now();
          if (out.empty() && now - *idle_since > std::chrono::milliseconds(300)) {
            const json object = {{"kind", KindOf(c.resource)},
                                 {"apiVersion", ApiVersionOf(c.api)},
                                 {"metadata", {{"resourceVersion", std::to_string(*cursor)}}}};
            out = json{{"type", "BOOKMARK"}, {"object", object}}.dump() + "\n";
          }
          if (!out.empty()) {
            *idle_since = now;
            if (!sink.write(out.data(), out.size())) return false;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
          return true;
        });
  }

  LoopbackServer server_;
  mutable std::mutex mu_;
  int rv_ = 100;
  std::vector<Event> events_;
  std::set<std::string> disabled_;
  std::vector<std::string> requests_;
  std::atomic<bool> done_{false};
};

}  // namespace vigil::scraper
