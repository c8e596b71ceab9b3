#include "scraper/discovery.h"

#include "scraper/file_discovery.h"
#include "scraper/kubernetes_discovery.h"

namespace vigil::scraper {

std::vector<std::unique_ptr<Discoverer>> MakeDiscoverers(
    const std::vector<config::TargetGroup>& static_configs, const std::vector<config::FileSdConfig>& file_sd,
    const std::vector<config::KubernetesSdConfig>& kubernetes_sd) {
  std::vector<std::unique_ptr<Discoverer>> out;
  if (!static_configs.empty()) out.push_back(std::make_unique<StaticDiscoverer>(static_configs));
  for (const config::FileSdConfig& f : file_sd) out.push_back(std::make_unique<FileDiscoverer>(f));
  for (const config::KubernetesSdConfig& k : kubernetes_sd) {
    out.push_back(std::make_unique<KubernetesDiscoverer>(k));
  }
  return out;
}

}  // namespace vigil::scraper
