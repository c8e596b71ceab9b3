// libFuzzer target: any prometheus.yml text must load or fail with an error
// (never crash, hang or run out of memory: yaml bombs, deep nesting and
// out-of-range numbers included).
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string yaml(reinterpret_cast<const char*>(data), size);
  (void)vigil::config::LoadConfigString(yaml, "fuzz/prometheus.yml");
  return 0;
}
