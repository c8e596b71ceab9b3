// libFuzzer target: any input must parse or fail cleanly, and whatever parses
// must print (format_query) to text that parses again. (Printing is not
// idempotent, as in Prometheus: `2 ^ +Inf ^ 2` prints as `2 ^ +Inf ^ 2` and
// then as `2 ^ ++Inf ^ 2`.)
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "promql/engine.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view query(reinterpret_cast<const char*>(data), size);
  auto formatted = vigil::promql::FormatQuery(query);
  if (!formatted.ok()) return 0;
  auto again = vigil::promql::FormatQuery(*formatted);
  if (!again.ok()) std::abort();
  return 0;
}
