#include "scraper/sample_labels.h"

#include <algorithm>

namespace vigil::scraper {
namespace {

constexpr std::string_view kExportedPrefix = "exported_";

// Renames clashing scraped labels, shortest name first, as Prometheus's
// resolveConflictingExposedLabels.
void KeepConflictsAsExported(LabelsBuilder& lb, const Labels& scraped, const Labels& target,
                             std::vector<Label> conflicts) {
  std::stable_sort(conflicts.begin(), conflicts.end(),
                   [](const Label& a, const Label& b) { return a.name.size() < b.name.size(); });
  const auto taken = [&](const std::string& name) {
    return scraped.Has(name) || target.Has(name) ||
           std::any_of(conflicts.begin(), conflicts.end(),
                       [&](const Label& l) { return l.name == name; });
  };
  for (size_t i = 0; i < conflicts.size();) {
    const std::string name = std::string(kExportedPrefix) + conflicts[i].name;
    if (!taken(name)) {
      conflicts[i].name = name;
      lb.Set(name, conflicts[i].value);
      ++i;
    } else {
      conflicts[i].name = name;
    }
  }
}

}  // namespace

Labels ApplyTargetLabels(const Labels& scraped, const Labels& target, bool honor_labels) {
  LabelsBuilder lb(scraped);
  if (honor_labels) {
    for (const Label& l : target) {
      if (!scraped.Has(l.name)) lb.Set(l.name, l.value);
    }
    return lb.Build();
  }
  std::vector<Label> conflicts;
  for (const Label& l : target) {
    const std::string_view existing = scraped.Get(l.name);
    if (!existing.empty()) conflicts.push_back({l.name, std::string(existing)});
    lb.Set(l.name, l.value);
  }
  if (!conflicts.empty()) KeepConflictsAsExported(lb, scraped, target, std::move(conflicts));
  return lb.Build();
}

}  // namespace vigil::scraper
