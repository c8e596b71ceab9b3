// libFuzzer target: both exposition parsers must never crash on any input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "scraper/exposition_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  for (auto format : {vigil::scraper::ExpositionFormat::kPrometheusText,
                      vigil::scraper::ExpositionFormat::kOpenMetrics}) {
    vigil::scraper::ExpositionParser parser(body, format);
    while (true) {
      auto more = parser.Next();
      if (!more.ok() || !*more) break;
      (void)parser.labels();
    }
  }
  return 0;
}
