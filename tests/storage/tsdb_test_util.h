// Helpers for the Tsdb tests: open a store, append, read everything back.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "storage/tsdb.h"

namespace vigil::storage::testing {

inline LabelMatcher Eq(const std::string& name, const std::string& value) {
  return LabelMatcher::Make(MatchType::kEqual, name, value).value();
}
inline LabelMatcher Re(const std::string& name, const std::string& value) {
  return LabelMatcher::Make(MatchType::kRegexMatch, name, value).value();
}

inline TsdbTuning SmallTuning() {
  TsdbTuning t;
  t.partition_ms = 3600 * 1000;  // hourly partitions, so tests cross many
  t.maintenance_interval_ms = 20;
  return t;
}

inline std::unique_ptr<Tsdb> OpenTsdb(const std::string& path, const TsdbTuning& tuning = SmallTuning(),
                                      const Clock* clock = SystemClock::Get()) {
  StorageOptions o;
  o.path = path;
  o.clock = clock;
  auto db = Tsdb::Open(o, tuning);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return db.ok() ? std::move(db.value()) : nullptr;
}

using SeriesData = std::map<Labels, std::vector<Sample>>;

// Every sample of every series matching `matchers` in [mint, maxt].
inline SeriesData ReadAll(Storage& db, const LabelMatchers& matchers, int64_t mint = kMinTime,
                          int64_t maxt = kMaxTime) {
  SeriesData out;
  auto q = db.NewQuerier();
  EXPECT_TRUE(q.ok());
  auto list = (*q)->Select(mint, maxt, matchers);
  EXPECT_TRUE(list.ok()) << list.status().ToString();
  if (!list.ok()) return out;
  for (const auto& s : *list) {
    auto it = s->Iterator();
    auto& samples = out[s->labels()];
    while (it->Next()) samples.push_back(it->At());
    EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  }
  return out;
}

inline bool SameSamples(const std::vector<Sample>& a, const std::vector<Sample>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].t != b[i].t || std::bit_cast<uint64_t>(a[i].v) != std::bit_cast<uint64_t>(b[i].v)) return false;
  }
  return true;
}

}  // namespace vigil::storage::testing
