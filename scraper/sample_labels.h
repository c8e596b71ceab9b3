// How a scraped series gets its target's labels (Prometheus's mutateSampleLabels).
#pragma once

#include "storage/labels.h"

namespace vigil::scraper {

// Adds the target labels to a scraped label set. With `honor_labels` the
// scraped values win; otherwise the target's win and each clashing scraped
// label is kept as exported_<name> (exported_exported_<name> if that is taken).
Labels ApplyTargetLabels(const Labels& scraped, const Labels& target, bool honor_labels);

}  // namespace vigil::scraper
