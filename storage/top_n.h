// TopN: the largest counts of a name -> count map, for the cardinality
// statistics of /api/v1/status/tsdb (tsdb_stats.cc) and `vigil tsdb analyze`
// (tsdb_inspect.cc). Internal to storage.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "storage/storage.h"

namespace vigil::storage {

// The `limit` entries of `counts` with the highest counts, highest first;
// equal counts in ascending name order.
inline std::vector<CountByName> TopN(const std::map<std::string, uint64_t>& counts, size_t limit) {
  std::vector<CountByName> out;
  out.reserve(counts.size());
  for (const auto& [name, count] : counts) out.push_back({name, count});
  const size_t n = std::min(limit, out.size());
  std::partial_sort(out.begin(), out.begin() + static_cast<ptrdiff_t>(n), out.end(),
                    [](const CountByName& a, const CountByName& b) {
                      return a.count != b.count ? a.count > b.count : a.name < b.name;
                    });
  out.resize(n);
  return out;
}

}  // namespace vigil::storage
