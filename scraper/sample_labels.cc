#include "scraper/sample_labels.h"

#include <algorithm>

namespace vigil::scraper {
namespace {

constexpr std::string_view kExportedPrefix = "exported_";

// Whether the target exposed `name`, with any value (even empty).
bool IsExposed(std::span<const Label> exposed, std::string_view name) {
  const auto it = std::lower_bound(exposed.begin(), exposed.end(), name,
                                   [](const Label& l, std::string_view n) { return l.name < n; });
  return it != exposed.end() && it->name == name;
}

// Renames clashing scraped labels, shortest name first, as Prometheus's
// resolveConflictingExposedLabels: a name is free when the labels built so far
// have no (non-empty) value for it.
void KeepConflictsAsExported(LabelsBuilder& lb, std::vector<Label> conflicts) {
  std::stable_sort(conflicts.begin(), conflicts.end(),
                   [](const Label& a, const Label& b) { return a.name.size() < b.name.size(); });
  for (size_t i = 0; i < conflicts.size();) {
    conflicts[i].name = std::string(kExportedPrefix) + conflicts[i].name;
    if (lb.Get(conflicts[i].name).empty()) {
      lb.Set(conflicts[i].name, conflicts[i].value);
      ++i;
    }
  }
}

}  // namespace

Labels ApplyTargetLabels(std::span<const Label> exposed, const Labels& target, bool honor_labels) {
  const Labels scraped(std::vector<Label>(exposed.begin(), exposed.end()));
  LabelsBuilder lb(scraped);
  if (honor_labels) {
    for (const Label& l : target) {
      if (!IsExposed(exposed, l.name)) lb.Set(l.name, l.value);
    }
    return lb.Build();
  }
  std::vector<Label> conflicts;
  for (const Label& l : target) {
    const std::string_view existing = scraped.Get(l.name);
    if (!existing.empty()) conflicts.push_back({l.name, std::string(existing)});
    lb.Set(l.name, l.value);
  }
  if (!conflicts.empty()) KeepConflictsAsExported(lb, std::move(conflicts));
  return lb.Build();
}

}  // namespace vigil::scraper
