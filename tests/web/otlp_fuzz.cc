// libFuzzer target: the OTLP metrics decoder and translator must never crash,
// hang or blow up memory on any input (deeply nested attribute values, points
// multiplying attributes by buckets), and what it returns must be series with
// labels sorted by name and at least one sample. Seeds: fuzz_corpus/otlp_fuzz/.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "web/otlp_translate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto t = vigil::web::TranslateOtlpMetrics(input);
  if (!t.ok()) return 0;
  for (const auto& series : t->series) {
    if (series.samples.empty()) std::abort();
    for (size_t i = 1; i < series.labels.size(); ++i) {
      if (!(series.labels[i - 1].name < series.labels[i].name)) std::abort();
    }
  }
  return 0;
}
