#include "scraper/kubernetes_discovery.h"

namespace vigil::scraper {

KubernetesDiscoverer::KubernetesDiscoverer(KubernetesSdConfig config) : config_(std::move(config)) {}
KubernetesDiscoverer::~KubernetesDiscoverer() { Stop(); }
void KubernetesDiscoverer::Start(GroupsCallback on_update) { on_update({}); }
void KubernetesDiscoverer::Stop() {}

}  // namespace vigil::scraper
