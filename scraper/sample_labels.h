// How a scraped series gets its target's labels (Prometheus's mutateSampleLabels).
#pragma once

#include <span>

#include "base/labels.h"

namespace vigil::scraper {

// Adds the target labels to a scraped series' exposed labels (sorted by name,
// empty values included, as ExpositionParser::exposed_labels returns them).
// With `honor_labels` the exposed labels win, an exposed empty value too: the
// label is then absent from the result. Otherwise the target's win and each
// clashing non-empty exposed label is kept as exported_<name>
// (exported_exported_<name> if that is taken).
Labels ApplyTargetLabels(std::span<const Label> exposed, const Labels& target, bool honor_labels);

}  // namespace vigil::scraper
