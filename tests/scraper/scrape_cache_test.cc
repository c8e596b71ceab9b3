// ScrapeCache on its own: lookups, holds, staleness reports and forgetting,
// driven scrape by scrape as ScrapeLoop drives it.
#include "scraper/scrape_cache.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace vigil::scraper {
namespace {

using Texts = std::vector<std::string>;

// What one scrape did, each list in line order (stale: sorted).
struct Outcome {
  Texts added;     // lines new to the cache
  Texts appended;  // lines whose sample the loop would append
  Texts stale;     // series EndScrape reported for a staleness marker
};

class ScrapeCacheTest : public ::testing::Test {
 protected:
  // One scrape of `lines` as ScrapeLoop runs it, ending `ok`. Each new series
  // gets the next ref; its labels hash to its own text unless SameLabels()
  // said otherwise.
  Outcome Scrape(const Texts& lines, bool ok = true) {
    Outcome out;
    cache_.BeginScrape();
    for (const std::string& s : lines) {
      ScrapeCache::Entry* e = cache_.Find(s);
      if (!e) {
        e = cache_.Add(s, dropped_.count(s) ? std::nullopt : std::optional<uint64_t>(HashOf(s)));
        out.added.push_back(s);
      }
      if (!cache_.Hold(*e)) continue;
      if (e->ref() == 0) e->set_ref(++next_ref_);
      e->set_staleness_tracked(!own_timestamp_.count(s));
      out.appended.push_back(s);
    }
    cache_.EndScrape(ok, [&](std::string_view s, ScrapeCache::Entry& e) {
      EXPECT_NE(e.ref(), 0u) << s;
      out.stale.emplace_back(s);
    });
    std::sort(out.stale.begin(), out.stale.end());
    return out;
  }

  // The two texts are spellings of one label set (e.g. labels reordered).
  void SameLabels(const std::string& a, const std::string& b) { hashes_[b] = HashOf(a); }
  uint64_t HashOf(const std::string& s) const {
    const auto it = hashes_.find(s);
    return it != hashes_.end() ? it->second : std::hash<std::string>()(s);
  }
  // Looks `series` up between scrapes (no effect on the cache).
  ScrapeCache::Entry* Lookup(const std::string& series) { return cache_.Find(series); }

  ScrapeCache cache_;
  SeriesRef next_ref_ = 0;
  std::map<std::string, uint64_t> hashes_;
  std::set<std::string> dropped_;        // metric relabeling drops these
  std::set<std::string> own_timestamp_;  // exposed with their own timestamps
};

TEST_F(ScrapeCacheTest, UnknownSeries_MissesThenHitsAfterItsScrape) {
  EXPECT_EQ(Scrape({"a", "b{x=\"1\"}"}).added, (Texts{"a", "b{x=\"1\"}"}));
  const Outcome second = Scrape({"a", "b{x=\"1\"}"});
  EXPECT_TRUE(second.added.empty());
  EXPECT_EQ(second.appended, (Texts{"a", "b{x=\"1\"}"}));
  EXPECT_EQ(cache_.size(), 2u);
}

TEST_F(ScrapeCacheTest, Guess_IsTheNextLineOfTheLastSuccessfulScrape) {
  cache_.BeginScrape();
  EXPECT_EQ(cache_.Guess(), "");  // nothing cached yet
  cache_.EndScrape(true, [](std::string_view, ScrapeCache::Entry&) {});
  Scrape({"a", "b{x=\"1\"}", "c"});
  cache_.BeginScrape();
  EXPECT_EQ(cache_.Guess(), "a");
  cache_.Hold(*cache_.Find("a"));
  EXPECT_EQ(cache_.Guess(), "b{x=\"1\"}");
  // The guess's own text (as ExpositionParser::NextSeries hands it back) is a
  // hit; so is an equal text elsewhere, and another text is looked up.
  ScrapeCache::Entry* b = cache_.Find(cache_.Guess());
  ASSERT_NE(b, nullptr);
  cache_.Hold(*b);
  EXPECT_EQ(cache_.Guess(), "c");
  const std::string a = "a";
  EXPECT_EQ(cache_.Find(a), Lookup("a"));
  EXPECT_EQ(cache_.Find(std::string_view(cache_.Guess().data(), 0)), nullptr);
  cache_.EndScrape(false, [](std::string_view, ScrapeCache::Entry&) {});
}

TEST_F(ScrapeCacheTest, ReorderedBody_FindsEverySeriesItsOwnEntry) {
  Scrape({"a", "b", "c", "d"});
  const SeriesRef ref_c = Lookup("c")->ref();
  const Outcome reordered = Scrape({"d", "c", "a", "b"});
  EXPECT_TRUE(reordered.added.empty());
  EXPECT_EQ(Lookup("c")->ref(), ref_c);
  EXPECT_EQ(Lookup("d")->ref(), 4u);
}

TEST_F(ScrapeCacheTest, RefSetByTheCaller_IsKeptAcrossScrapes) {
  Scrape({"a"});
  Lookup("a")->set_ref(77);
  Scrape({"a"});
  EXPECT_EQ(Lookup("a")->ref(), 77u);
}

TEST_F(ScrapeCacheTest, VanishedSeries_IsReportedStaleOnceThenForgotten) {
  Scrape({"a", "b"});
  EXPECT_EQ(Scrape({"a"}).stale, (Texts{"b"}));
  EXPECT_EQ(cache_.size(), 2u);  // kept for the scrape after its marker
  EXPECT_TRUE(Scrape({"a"}).stale.empty());
  EXPECT_EQ(cache_.size(), 1u);
  EXPECT_EQ(Lookup("b"), nullptr);
}

TEST_F(ScrapeCacheTest, VanishedSeries_AfterScrapesThatHeldEverything_IsStillReportedStale) {
  // Scrapes holding every cached series skip the sweep.
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(Scrape({"a", "b"}).stale.empty());
  EXPECT_EQ(Scrape({"b"}).stale, (Texts{"a"}));
}

TEST_F(ScrapeCacheTest, ReappearingSeries_KeepsItsEntryAndIsNotReportedAgain) {
  Scrape({"a", "b"});
  const SeriesRef ref_b = Lookup("b")->ref();
  EXPECT_EQ(Scrape({"a"}).stale, (Texts{"b"}));
  const Outcome back = Scrape({"a", "b"});
  EXPECT_TRUE(back.added.empty());
  EXPECT_TRUE(back.stale.empty());
  EXPECT_EQ(Lookup("b")->ref(), ref_b);
}

TEST_F(ScrapeCacheTest, ForgottenSeries_ComesBackAsNew) {
  Scrape({"a", "b"});
  Scrape({"a"});
  Scrape({"a"});
  EXPECT_EQ(Scrape({"a", "b"}).added, (Texts{"b"}));
}

TEST_F(ScrapeCacheTest, FailedScrape_ReportsEverySeriesOfTheLastSuccessfulScrape) {
  Scrape({"a", "b"});
  EXPECT_EQ(Scrape({"a"}, false).stale, (Texts{"a", "b"}));
  EXPECT_TRUE(Scrape({"a"}, false).stale.empty());  // reported once
}

// As a scrape over its sample limit: every line held, then the scrape fails.
TEST_F(ScrapeCacheTest, FailedScrape_ForgetsTheSeriesItAddedWithoutMarkers) {
  Scrape({"a", "b"});
  const Outcome over_limit = Scrape({"a", "new", "b"}, false);
  EXPECT_EQ(over_limit.stale, (Texts{"a", "b"}));
  EXPECT_EQ(cache_.size(), 2u);
  // The links the failed scrape made through "new" are gone with it.
  const Outcome next = Scrape({"a", "b"});
  EXPECT_TRUE(next.added.empty());
  EXPECT_TRUE(next.stale.empty());
}

TEST_F(ScrapeCacheTest, FirstScrapeFailing_LeavesNothingCached) {
  EXPECT_TRUE(Scrape({"a", "b"}, false).stale.empty());
  EXPECT_EQ(cache_.size(), 0u);
}

TEST_F(ScrapeCacheTest, EmptyScrapes_ThenTheSeriesAgain_IsANewSeries) {
  Scrape({"a"});
  EXPECT_EQ(Scrape({}).stale, (Texts{"a"}));
  Scrape({});
  EXPECT_EQ(cache_.size(), 0u);
  // The first-line guess must not point at the forgotten entry.
  EXPECT_EQ(Scrape({"a"}).added, (Texts{"a"}));
}

TEST_F(ScrapeCacheTest, RepeatedLine_IsHeldButAppendedOnce) {
  const Outcome first = Scrape({"a", "a", "b"});
  EXPECT_EQ(first.appended, (Texts{"a", "b"}));
  EXPECT_EQ(Scrape({"a", "b", "a"}).appended, (Texts{"a", "b"}));
}

TEST_F(ScrapeCacheTest, DroppedSeries_IsCachedButNeverAppendedOrMarkedStale) {
  dropped_ = {"dropped"};
  const Outcome first = Scrape({"a", "dropped"});
  EXPECT_EQ(first.added, (Texts{"a", "dropped"}));
  EXPECT_EQ(first.appended, (Texts{"a"}));
  EXPECT_TRUE(Lookup("dropped")->dropped());
  EXPECT_TRUE(Scrape({"a"}).stale.empty());
}

TEST_F(ScrapeCacheTest, SeriesWithItsOwnTimestamp_IsNotMarkedStale) {
  own_timestamp_ = {"t"};
  Scrape({"a", "t"});
  EXPECT_TRUE(Scrape({"a"}).stale.empty());
}

TEST_F(ScrapeCacheTest, TwoSpellingsOfOneLabelSet_AppendOncePerScrape) {
  SameLabels("a{x=\"1\",y=\"2\"}", "a{y=\"2\",x=\"1\"}");
  EXPECT_EQ(Scrape({"a{x=\"1\",y=\"2\"}", "a{y=\"2\",x=\"1\"}"}).appended,
            (Texts{"a{x=\"1\",y=\"2\"}"}));
  EXPECT_EQ(Scrape({"a{y=\"2\",x=\"1\"}", "a{x=\"1\",y=\"2\"}"}).appended,
            (Texts{"a{y=\"2\",x=\"1\"}"}));
}

TEST_F(ScrapeCacheTest, OneSpellingGone_IsNotStaleWhileTheOtherIsScraped) {
  SameLabels("a{x=\"1\",y=\"2\"}", "a{y=\"2\",x=\"1\"}");
  Scrape({"a{x=\"1\",y=\"2\"}", "a{y=\"2\",x=\"1\"}"});
  EXPECT_TRUE(Scrape({"a{y=\"2\",x=\"1\"}"}).stale.empty());
  EXPECT_EQ(Scrape({}).stale, (Texts{"a{y=\"2\",x=\"1\"}"}));
}

}  // namespace
}  // namespace vigil::scraper
