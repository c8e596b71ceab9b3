// libFuzzer target: whatever JSON the Kubernetes API server (or something
// in its place) sends as an object, turning it into a target group for each
// role (and indexing it by node) must not crash or throw.
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "scraper/kubernetes_discovery.h"

namespace {

// Every lookup finds the input itself: the pod, service and node joins of
// endpoints and endpointslice run on hostile JSON too.
class SelfLookup final : public vigil::scraper::KubernetesObjectLookup {
 public:
  explicit SelfLookup(const nlohmann::json& object) : object_(object) {}
  const nlohmann::json* Find(std::string_view, std::string_view, std::string_view) const override {
    return &object_;
  }

 private:
  const nlohmann::json& object_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nlohmann::json object = nlohmann::json::parse(data, data + size, nullptr, false);
  if (object.is_discarded()) return 0;
  for (const char* role : {"pod", "service", "node", "endpoints", "endpointslice", "ingress"}) {
    (void)vigil::scraper::KubernetesObjectToGroup(role, object);
    const SelfLookup lookup(object);
    (void)vigil::scraper::KubernetesObjectToGroup(role, object, &lookup, true);
    (void)vigil::scraper::KubernetesIndexedNodes(role, object);
  }
  return 0;
}
