// libFuzzer target: both exposition parsers must never crash on any input,
// and reading a body as the scrape loop does (label syntax checked only for a
// series text not checked before) must give what Next() gives.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "scraper/exposition_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  for (auto format : {vigil::scraper::ExpositionFormat::kPrometheusText,
                      vigil::scraper::ExpositionFormat::kOpenMetrics}) {
    vigil::scraper::ExpositionParser parser(body, format);
    vigil::scraper::ExpositionParser lazy(body, format);
    std::set<std::string, std::less<>> checked;
    std::string guess;  // the previous line's series, as the scrape cache guesses
    while (true) {
      auto more = parser.Next();
      auto lazy_more = lazy.NextSeries(guess);
      if (lazy_more.ok() && *lazy_more && !checked.count(lazy.series())) {
        const vigil::Status st = lazy.CheckLabels();
        if (!st.ok()) lazy_more = st;
        else checked.emplace(lazy.series());
      }
      if (more.ok() != lazy_more.ok()) std::abort();
      if (!more.ok()) {
        if (more.status().ToString() != lazy_more.status().ToString()) std::abort();
        break;
      }
      if (*more != *lazy_more) std::abort();
      if (!*more) break;
      if (parser.series() != lazy.series() || parser.timestamp_ms() != lazy.timestamp_ms()) {
        std::abort();
      }
      guess = lazy.series();
      (void)parser.labels();
    }
  }
  return 0;
}
