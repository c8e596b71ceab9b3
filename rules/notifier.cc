#include "rules/notifier.h"

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string_view>

#include "base/clock.h"
#include "base/logger.h"
#include "config/http_client.h"
#include "config/relabel.h"

namespace vigil::rules {
namespace {

constexpr size_t kMaxBatch = 64;  // Prometheus's maxBatchSize

// path.Join("/", path_prefix, "/api/<version>/alerts"), as Prometheus's postPath.
std::string AlertsPath(const config::AlertmanagerConfig& am) {
  const std::string joined = am.path_prefix + "/api/" + am.api_version + "/alerts";
  std::vector<std::string_view> parts;
  for (size_t pos = 0; pos <= joined.size();) {
    size_t slash = joined.find('/', pos);
    if (slash == std::string::npos) slash = joined.size();
    const std::string_view part(joined.data() + pos, slash - pos);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    pos = slash + 1;
  }
  std::string out;
  for (std::string_view part : parts) out.append("/").append(part);
  return out.empty() ? "/" : out;
}

// The URL of an Alertmanager target's labels, as Go's url.URL{Scheme, Host, Path}.
std::string AlertsUrl(const Labels& labels) {
  std::string path(labels.Get("__alerts_path__"));
  if (!path.empty() && path[0] != '/') path.insert(0, "/");
  return std::string(labels.Get("__scheme__")) + "://" + std::string(labels.Get("__address__")) +
         path;
}

struct GroupAlertmanagers {
  std::vector<std::string> active;
  std::vector<std::string> dropped;
};

// The Alertmanagers of one target group, as Prometheus's AlertmanagerFromGroup:
// a target's own labels, then __scheme__ and __alerts_path__, then the group's
// labels the target does not have; relabel_configs decide. An __address__
// that is a URL fails the whole group.
Result<GroupAlertmanagers> AlertmanagersFromGroup(const config::TargetGroup& group,
                                                  const config::AlertmanagerConfig& am,
                                                  const std::string& alerts_path) {
  GroupAlertmanagers out;
  const Labels none;
  for (size_t i = 0; i < group.targets.size(); ++i) {
    const Labels& own = i < group.target_labels.size() ? group.target_labels[i] : none;
    LabelsBuilder b(own);
    b.Set("__address__", group.targets[i]);
    b.Set("__scheme__", am.scheme);
    b.Set("__alerts_path__", alerts_path);
    for (const Label& l : group.labels) {
      if (l.name != "__address__" && own.Get(l.name).empty()) b.Set(l.name, l.value);
    }
    const Labels before = b.Build();
    auto relabeled = config::Relabel(before, am.relabel_configs);
    if (!relabeled) {
      out.dropped.push_back(AlertsUrl(before));
      continue;
    }
    const std::string_view address = relabeled->Get("__address__");
    if (address.find('/') != std::string_view::npos) {
      return Status::InvalidArgument("\"" + std::string(address) + "\" is not a valid hostname");
    }
    if (address.empty()) continue;  // nowhere to send to
    out.active.push_back(AlertsUrl(*relabeled));
  }
  return out;
}

}  // namespace

Notifier::Notifier(size_t queue_capacity)
    : capacity_(queue_capacity), collector_([this](MetricsWriter& w) { Collect(w); }) {}

void Notifier::Collect(MetricsWriter& w) const {
  std::lock_guard lock(mu_);
  w.Family("prometheus_notifications_queue_capacity", "gauge",
           "The capacity of the alert notifications queue.");
  w.Sample("prometheus_notifications_queue_capacity", static_cast<double>(capacity_));
  w.Family("prometheus_notifications_queue_length", "gauge",
           "The number of alert notifications in the queue.");
  w.Sample("prometheus_notifications_queue_length", static_cast<double>(queue_.size()));
  w.Family("prometheus_notifications_dropped_total", "counter",
           "Total number of alerts dropped due to errors when sending to Alertmanager.");
  w.Sample("prometheus_notifications_dropped_total", static_cast<double>(dropped_));
  w.Family("prometheus_notifications_alertmanagers_discovered", "gauge",
           "The number of alertmanagers discovered and active.");
  w.Sample("prometheus_notifications_alertmanagers_discovered",
           static_cast<double>(endpoints_.size()));
  w.Family("prometheus_notifications_sent_total", "counter", "Total number of alerts sent.");
  for (const auto& [url, counts] : per_url_) {
    w.Sample("prometheus_notifications_sent_total", Labels{{"alertmanager", url}},
             static_cast<double>(counts.first));
  }
  w.Family("prometheus_notifications_errors_total", "counter",
           "Total number of errors sending alert notifications.");
  for (const auto& [url, counts] : per_url_) {
    w.Sample("prometheus_notifications_errors_total", Labels{{"alertmanager", url}},
             static_cast<double>(counts.second));
  }
}

Notifier::~Notifier() { Stop(); }

void Notifier::ApplyConfig(const config::AlertingConfig& config, Labels external_labels) {
  std::lock_guard lock(mu_);
  config_ = config;
  external_labels_ = std::move(external_labels);
  std::vector<AlertmanagerSet> sets;
  for (size_t i = 0; i < config_.alertmanagers.size(); ++i) {
    const config::AlertmanagerConfig& am = config_.alertmanagers[i];
    if (i < sets_.size() && *sets_[i].config == am) {
      sets.push_back(std::move(sets_[i]));  // unchanged: its discovery keeps running
      continue;
    }
    AlertmanagerSet set{
        std::make_shared<const config::AlertmanagerConfig>(am), am.static_configs, {}, {}};
    Sync(set);
    sets.push_back(std::move(set));
  }
  sets_ = std::move(sets);
  RebuildEndpointsLocked();
}

void Notifier::SetTargetGroups(size_t index, std::vector<config::TargetGroup> groups) {
  std::lock_guard lock(mu_);
  if (index >= sets_.size()) return;
  sets_[index].groups = std::move(groups);
  Sync(sets_[index]);
  RebuildEndpointsLocked();
}

void Notifier::Sync(AlertmanagerSet& set) {
  const std::string alerts_path = AlertsPath(*set.config);
  set.active.clear();
  set.dropped.clear();
  std::set<std::string> seen;
  for (const config::TargetGroup& group : set.groups) {
    auto found = AlertmanagersFromGroup(group, *set.config, alerts_path);
    if (!found.ok()) {
      VLOG_ERROR("Creating discovered Alertmanagers failed", {{"err", found.status().message()}});
      continue;
    }
    for (std::string& url : found->active) {
      if (seen.insert(url).second) set.active.push_back(std::move(url));
    }
    for (std::string& url : found->dropped) set.dropped.push_back(std::move(url));
  }
}

void Notifier::RebuildEndpointsLocked() {
  endpoints_.clear();
  for (const AlertmanagerSet& set : sets_) {
    for (const std::string& url : set.active) {
      endpoints_.push_back(Endpoint{url, set.config});
      per_url_.try_emplace(url);  // sent/errors counters start at 0, as Prometheus's
    }
  }
}

void Notifier::Send(std::vector<NotifiedAlert> alerts) {
  std::lock_guard lock(mu_);
  for (auto& a : alerts) queue_.push_back(std::move(a));
  while (queue_.size() > capacity_) {
    queue_.pop_front();
    ++dropped_;
  }
  cv_.notify_all();
}

void Notifier::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void Notifier::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::vector<std::string> Notifier::AlertmanagerUrls() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& e : endpoints_) out.push_back(e.url);
  return out;
}

std::vector<std::string> Notifier::DroppedAlertmanagerUrls() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const AlertmanagerSet& set : sets_)
    out.insert(out.end(), set.dropped.begin(), set.dropped.end());
  return out;
}

uint64_t Notifier::sent() const {
  std::lock_guard lock(mu_);
  return sent_;
}
uint64_t Notifier::errors() const {
  std::lock_guard lock(mu_);
  return errors_;
}
uint64_t Notifier::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

std::string Notifier::EncodeV2(const std::vector<NotifiedAlert>& alerts) {
  nlohmann::json doc = nlohmann::json::array();
  for (const NotifiedAlert& a : alerts) {
    nlohmann::json labels = nlohmann::json::object();
    for (const auto& l : a.labels) labels[l.name] = l.value;
    nlohmann::json annotations = nlohmann::json::object();
    for (const auto& l : a.annotations) annotations[l.name] = l.value;
    nlohmann::json alert = {{"labels", std::move(labels)},
                            {"annotations", std::move(annotations)},
                            {"startsAt", FormatRfc3339Millis(a.starts_at_ms)},
                            {"generatorURL", a.generator_url}};
    if (a.ends_at_ms != 0) alert["endsAt"] = FormatRfc3339Millis(a.ends_at_ms);
    doc.push_back(std::move(alert));
  }
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// External labels are added under the alert's own; alert_relabel_configs may drop alerts.
std::vector<NotifiedAlert> Notifier::Relabeled(std::vector<NotifiedAlert> alerts) const {
  std::vector<NotifiedAlert> out;
  for (auto& a : alerts) {
    LabelsBuilder b(a.labels);
    for (const auto& l : external_labels_) {
      if (a.labels.Get(l.name).empty()) b.Set(l.name, l.value);
    }
    auto relabeled = config::Relabel(b.Build(), config_.alert_relabel_configs);
    if (!relabeled || relabeled->empty()) continue;
    a.labels = std::move(*relabeled);
    out.push_back(std::move(a));
  }
  return out;
}

void Notifier::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    std::vector<NotifiedAlert> batch;
    while (!queue_.empty() && batch.size() < kMaxBatch) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    batch = Relabeled(std::move(batch));
    if (batch.empty()) continue;
    if (endpoints_.empty()) {
      dropped_ += batch.size();
      continue;
    }
    lock.unlock();
    Deliver(batch);
    lock.lock();
  }
}

void Notifier::Deliver(const std::vector<NotifiedAlert>& batch) {
  const std::string body = EncodeV2(batch);
  std::vector<Endpoint> endpoints;
  {
    std::lock_guard lock(mu_);
    endpoints = endpoints_;
  }
  size_t delivered = 0;
  for (const auto& e : endpoints) {
    const auto [base, path] = config::SplitUrl(e.url);
    auto client = config::NewHttpClient(base, e.config->http);
    const auto timeout_s = std::max<int64_t>(1, e.config->timeout_ms / 1000);
    client->set_connection_timeout(static_cast<time_t>(timeout_s));
    client->set_read_timeout(static_cast<time_t>(timeout_s));
    httplib::Headers headers = {{"User-Agent", "Vigil"}};
    std::string error;
    if (Status auth = config::AddAuthHeaders(e.config->http, headers); !auth.ok()) {
      error = auth.message();
    } else if (auto res = client->Post(path.c_str(), headers, body, "application/json"); !res) {
      error = httplib::to_string(res.error());
    } else if (res->status / 100 != 2) {
      error = "bad response status " + std::to_string(res->status);
    }
    // As Prometheus: "sent" counts every alert of every attempt, "errors" failed requests.
    std::lock_guard lock(mu_);
    per_url_[e.url].first += batch.size();
    if (error.empty()) {
      ++delivered;
      sent_ += batch.size();
    } else {
      ++errors_;
      ++per_url_[e.url].second;
      VLOG_ERROR(
          "Error sending alert",
          {{"alertmanager", e.url}, {"count", std::to_string(batch.size())}, {"err", error}});
    }
  }
  if (delivered == 0) {
    std::lock_guard lock(mu_);
    dropped_ += batch.size();
  }
}

}  // namespace vigil::rules
