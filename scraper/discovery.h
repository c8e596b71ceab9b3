// Service discovery: a Discoverer produces the target groups of one *_sd_configs
// entry and reports every change as the provider's full, current group list.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "config/config.h"
#include "base/clock.h"

namespace vigil::scraper {

// Receives the complete current group list of one provider.
using GroupsCallback = std::function<void(std::vector<config::TargetGroup>)>;

class Discoverer {
 public:
  virtual ~Discoverer() = default;
  // Begins discovery; `on_update` may be called from a discovery thread,
  // first with the initial groups. Called once.
  virtual void Start(GroupsCallback on_update) = 0;
  // Stops and joins any thread; no callback runs after it returns. Idempotent.
  virtual void Stop() = 0;
};

// The discoverers of one scrape (or alertmanager) config, in config order:
// static_configs first (as one provider), then file_sd, then Kubernetes.
std::vector<std::unique_ptr<Discoverer>> MakeDiscoverers(
    const std::vector<config::TargetGroup>& static_configs, const std::vector<config::FileSdConfig>& file_sd,
    const std::vector<config::KubernetesSdConfig>& kubernetes_sd);

// static_configs: reports its groups once.
class StaticDiscoverer final : public Discoverer {
 public:
  explicit StaticDiscoverer(std::vector<config::TargetGroup> groups) : groups_(std::move(groups)) {}
  void Start(GroupsCallback on_update) override { on_update(groups_); }
  void Stop() override {}

 private:
  std::vector<config::TargetGroup> groups_;
};

}  // namespace vigil::scraper
