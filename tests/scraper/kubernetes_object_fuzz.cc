// libFuzzer target: whatever JSON the Kubernetes API server (or something
// in its place) sends as an object, turning it into a target group for each
// role must not crash or throw.
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "scraper/kubernetes_discovery.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nlohmann::json object = nlohmann::json::parse(data, data + size, nullptr, false);
  if (object.is_discarded()) return 0;
  for (const char* role : {"pod", "service", "node"}) {
    (void)vigil::scraper::KubernetesObjectToGroup(role, object);
  }
  return 0;
}
