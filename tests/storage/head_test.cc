#include "storage/head.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

namespace vigil::storage {
namespace {

Labels SeriesLabels(int i) { return Labels({{"__name__", "m"}, {"i", std::to_string(i)}}); }

std::shared_ptr<MemSeries> NewSeries(int i) {
  return std::make_shared<MemSeries>(static_cast<SeriesRef>(i + 1), SeriesLabels(i));
}

TEST(SeriesHashMap, FindsEverySeriesAfterGrowing) {
  SeriesHashMap map;
  std::vector<std::shared_ptr<MemSeries>> all;
  for (int i = 0; i < 5000; ++i) {
    all.push_back(NewSeries(i));
    map.Insert(SeriesLabels(i).Hash(), all.back());
  }
  EXPECT_EQ(map.size(), 5000u);
  for (int i = 0; i < 5000; ++i) {
    const auto* found = map.Find(SeriesLabels(i).Hash(), SeriesLabels(i));
    ASSERT_NE(found, nullptr) << i;
    EXPECT_EQ(found->get(), all[i].get());
  }
  EXPECT_EQ(map.Find(SeriesLabels(5000).Hash(), SeriesLabels(5000)), nullptr);
}

TEST(SeriesHashMap, KeepsSeriesWithEqualHashesApartByTheirLabels) {
  SeriesHashMap map;
  constexpr uint64_t kSameHash = 42;
  const auto a = NewSeries(1), b = NewSeries(2), c = NewSeries(3);
  map.Insert(kSameHash, a);
  map.Insert(kSameHash, b);
  map.Insert(kSameHash, c);
  EXPECT_EQ(map.Find(kSameHash, SeriesLabels(2))->get(), b.get());
  EXPECT_EQ(map.Erase(kSameHash, b.get()).get(), b.get());
  EXPECT_EQ(map.Find(kSameHash, SeriesLabels(2)), nullptr);
  EXPECT_EQ(map.Find(kSameHash, SeriesLabels(1))->get(), a.get());
  EXPECT_EQ(map.Find(kSameHash, SeriesLabels(3))->get(), c.get());
  EXPECT_EQ(map.Erase(kSameHash, b.get()), nullptr);  // already gone
  EXPECT_EQ(map.size(), 2u);
}

// Random inserts and erases against a std::map: the backward shift after an
// erase must keep every remaining series reachable from its home slot, also
// where probe runs wrap around the end of the array. Few distinct hashes
// make long runs and many equal hashes.
TEST(SeriesHashMap, StaysConsistentUnderRandomInsertsAndErases) {
  SeriesHashMap map;
  std::map<int, std::shared_ptr<MemSeries>> want;
  std::mt19937 rng(7);
  auto hash_of = [](int i) { return static_cast<uint64_t>(i % 97) * 0x100000001ULL; };
  for (int step = 0; step < 20000; ++step) {
    const int i = static_cast<int>(rng() % 400);
    if (const auto it = want.find(i); it != want.end()) {
      ASSERT_EQ(map.Erase(hash_of(i), it->second.get()).get(), it->second.get());
      want.erase(it);
    } else {
      want[i] = NewSeries(i);
      map.Insert(hash_of(i), want[i]);
    }
    if (step % 500 != 0) continue;
    for (int j = 0; j < 400; ++j) {
      const auto* found = map.Find(hash_of(j), SeriesLabels(j));
      const auto it = want.find(j);
      ASSERT_EQ(found != nullptr, it != want.end()) << "step " << step << " series " << j;
      if (found) {
        ASSERT_EQ(found->get(), it->second.get());
      }
    }
  }
  EXPECT_EQ(map.size(), want.size());
}

}  // namespace
}  // namespace vigil::storage
