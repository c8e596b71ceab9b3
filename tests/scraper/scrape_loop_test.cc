// Scrape loops against real loopback HTTP targets, appending into MemoryStorage.
#include "scraper/scrape_loop.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <atomic>
#include <cmath>
#include <map>

#include "tests/support/memory_storage.h"
#include "tests/scraper/loopback_server.h"

namespace vigil::scraper {
namespace {

// Samples of one series, by its label string.
std::vector<vigil::Sample> SamplesOf(storage::Storage& db, const std::string& metric,
                                       const std::string& extra_name = "",
                                       const std::string& extra_value = "") {
  auto q = db.NewQuerier();
  LabelMatchers m = {LabelMatcher::Make(MatchType::kEqual, "__name__", metric).value()};
  if (!extra_name.empty()) m.push_back(LabelMatcher::Make(MatchType::kEqual, extra_name, extra_value).value());
  auto series = (*q)->Select(storage::kMinTime, storage::kMaxTime, m);
  std::vector<vigil::Sample> out;
  if (!series.ok()) return out;
  for (const auto& s : *series) {
    auto it = s->Iterator();
    while (it->Next()) out.push_back(it->At());
  }
  return out;
}

// A MemoryStorage whose appenders treat refs as the TSDB does: a ref they
// handed out takes samples without labels until Forget() (the head dropped
// the series), after which such an append fails with kNotFound.
class RefStorage : public storage::MemoryStorage {
 public:
  std::unique_ptr<storage::Appender> NewAppender() override {
    return std::make_unique<RefAppender>(this, MemoryStorage::NewAppender());
  }
  void Forget() { known_.clear(); }
  int by_ref = 0;     // appends that came with a ref and no labels
  int by_labels = 0;  // appends that came with labels

 private:
  class RefAppender final : public storage::Appender {
   public:
    RefAppender(RefStorage* db, std::unique_ptr<storage::Appender> inner)
        : db_(db), inner_(std::move(inner)) {}
    Result<vigil::SeriesRef> Append(vigil::SeriesRef ref, const Labels& labels, int64_t t,
                                      double v) override {
      if (labels.empty()) {
        const auto it = db_->known_.find(ref);
        if (it == db_->known_.end()) return vigil::Status::NotFound("unknown ref");
        ++db_->by_ref;
        return inner_->Append(ref, it->second, t, v);
      }
      ++db_->by_labels;
      auto got = inner_->Append(ref, labels, t, v);
      if (got.ok()) db_->known_[*got] = labels;
      return got;
    }
    vigil::Status Commit() override { return inner_->Commit(); }
    void Rollback() override { inner_->Rollback(); }

   private:
    RefStorage* db_;
    std::unique_ptr<storage::Appender> inner_;
  };

  std::map<vigil::SeriesRef, Labels> known_;
};

// Values of one series, in time order.
std::vector<double> ValuesOf(storage::Storage& db, const std::string& metric) {
  std::vector<double> out;
  for (const auto& s : SamplesOf(db, metric)) out.push_back(s.v);
  return out;
}

class ScrapeLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.server().Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
      last_accept_ = req.get_header_value("Accept");
      last_timeout_header_ = req.get_header_value("X-Prometheus-Scrape-Timeout-Seconds");
      if (hang_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(hang_ms_));
      last_accept_encoding_ = req.get_header_value("Accept-Encoding");
      std::lock_guard<std::mutex> lock(mu_);
      // Debian's cpp-httplib gzips text bodies itself when the client accepts gzip.
      res.set_content(body_, content_type_);
    });
    server_.Start();
  }
  // The handler reads body_ and friends, declared after server_: stop the server
  // (joining a handler still sleeping in hang_ms_) before they are destroyed.
  void TearDown() override { server_.Stop(); }

  // A loop over the fixture's target (or `address`) appending into `db` (db_ when null).
  std::unique_ptr<ScrapeLoop> MakeLoop(const std::string& extra = "", std::string address = "",
                                       storage::Storage* db = nullptr) {
    auto c = config::LoadConfigString("scrape_configs:\n  - job_name: test\n    scrape_interval: 1s\n"
                              "    scrape_timeout: 500ms\n" + extra, "t.yml");
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    config_ = std::make_shared<const config::ScrapeConfig>(c->scrape_configs[0]);
    TargetSet set;
    if (address.empty()) address = server_.address();
    TargetsFromGroup({{address}, {}, "0", {}}, *config_, set);
    EXPECT_EQ(set.targets.size(), 1u);
    return std::make_unique<ScrapeLoop>(db ? db : &db_, config_, set.targets[0], &clock_);
  }

  void SetBody(std::string body) {
    std::lock_guard<std::mutex> lock(mu_);
    body_ = std::move(body);
  }

  storage::MemoryStorage db_;
  ManualClock clock_{1'000'000};
  LoopbackServer server_;
  std::shared_ptr<const config::ScrapeConfig> config_;
  std::mutex mu_;
  std::string body_ = "a 1\nb{x=\"y\"} 2\n";
  std::string content_type_ = "text/plain; version=0.0.4";
  std::atomic<int> hang_ms_{0};
  std::string last_accept_, last_timeout_header_, last_accept_encoding_;
};

TEST_F(ScrapeLoopTest, Scrape_AppendsSamplesWithTargetLabelsAndSyntheticSeries) {
  auto loop = MakeLoop();
  loop->ScrapeOnce(1'000'000);
  const auto b = SamplesOf(db_, "b", "instance", server_.address());
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].t, 1'000'000);
  EXPECT_EQ(b[0].v, 2);
  EXPECT_EQ(SamplesOf(db_, "b", "job", "test").size(), 1u);
  EXPECT_EQ(SamplesOf(db_, "up")[0].v, 1);
  EXPECT_EQ(SamplesOf(db_, "scrape_samples_scraped")[0].v, 2);
  EXPECT_EQ(SamplesOf(db_, "scrape_samples_post_metric_relabeling")[0].v, 2);
  EXPECT_EQ(SamplesOf(db_, "scrape_series_added")[0].v, 2);
  EXPECT_EQ(SamplesOf(db_, "scrape_duration_seconds").size(), 1u);
  EXPECT_EQ(loop->Status().health, "up");
  EXPECT_NE(last_accept_.find("application/openmetrics-text;version=1.0.0"), std::string::npos);
  EXPECT_EQ(last_timeout_header_, "0.5");
}

TEST_F(ScrapeLoopTest, SecondScrape_AddsNoNewSeries) {
  auto loop = MakeLoop();
  loop->ScrapeOnce(1'000'000);
  loop->ScrapeOnce(1'001'000);
  const auto added = SamplesOf(db_, "scrape_series_added");
  ASSERT_EQ(added.size(), 2u);
  EXPECT_EQ(added[1].v, 0);
}

TEST_F(ScrapeLoopTest, VanishedSeries_GetsStalenessMarker) {
  auto loop = MakeLoop();
  loop->ScrapeOnce(1'000'000);
  SetBody("a 1\n");
  loop->ScrapeOnce(1'001'000);
  const auto b = SamplesOf(db_, "b");
  ASSERT_EQ(b.size(), 2u);
  EXPECT_TRUE(vigil::IsStaleNaN(b[1].v));
  EXPECT_EQ(b[1].t, 1'001'000);
  // Marked once only.
  loop->ScrapeOnce(1'002'000);
  EXPECT_EQ(SamplesOf(db_, "b").size(), 2u);
  EXPECT_FALSE(vigil::IsStaleNaN(SamplesOf(db_, "a").back().v));
}

// Two empty bodies forget every cached series; the first line of the next
// body must not be looked up through the forgotten entry.
TEST_F(ScrapeLoopTest, SeriesBackAfterEmptyBodies_IsAppendedAgain) {
  auto loop = MakeLoop();
  loop->ScrapeOnce(1'000'000);
  SetBody("");
  loop->ScrapeOnce(1'001'000);
  loop->ScrapeOnce(1'002'000);
  SetBody("a 1\nb{x=\"y\"} 2\n");
  loop->ScrapeOnce(1'003'000);
  const auto a = SamplesOf(db_, "a");
  ASSERT_EQ(a.size(), 3u);  // sample, staleness marker, sample
  EXPECT_TRUE(vigil::IsStaleNaN(a[1].v));
  EXPECT_EQ(a[2].t, 1'003'000);
  EXPECT_EQ(SamplesOf(db_, "scrape_series_added").back().v, 2);
}

TEST_F(ScrapeLoopTest, StoppedTarget_MarksEverythingStale) {
  auto loop = MakeLoop();
  loop->ScrapeOnce(1'000'000);
  clock_.Set(1'000'500);
  loop->Stop(true);
  EXPECT_TRUE(vigil::IsStaleNaN(SamplesOf(db_, "a").back().v));
  EXPECT_TRUE(vigil::IsStaleNaN(SamplesOf(db_, "up").back().v));
}

TEST_F(ScrapeLoopTest, HangingTarget_TimesOutAndReportsDown) {
  auto loop = MakeLoop();
  hang_ms_ = 1500;
  loop->ScrapeOnce(1'000'000);
  hang_ms_ = 0;
  const TargetStatus st = loop->Status();
  EXPECT_EQ(st.health, "down");
  EXPECT_NE(st.last_error.find("context deadline exceeded"), std::string::npos) << st.last_error;
  EXPECT_EQ(SamplesOf(db_, "up")[0].v, 0);
  EXPECT_TRUE(SamplesOf(db_, "a").empty());
}

TEST_F(ScrapeLoopTest, ParseError_AppendsNothingAndMarksStale) {
  auto loop = MakeLoop();
  loop->ScrapeOnce(1'000'000);
  SetBody("a 1\nb{x=\"y\"} 2\nbroken line here\n");
  loop->ScrapeOnce(1'001'000);
  EXPECT_EQ(loop->Status().health, "down");
  EXPECT_NE(loop->Status().last_error.find("line 3"), std::string::npos);
  const auto a = SamplesOf(db_, "a");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_TRUE(vigil::IsStaleNaN(a[1].v));
  EXPECT_EQ(SamplesOf(db_, "up").back().v, 0);
}

TEST_F(ScrapeLoopTest, MalformedLineWithACachedSeriesPrefix_FailsTheScrape) {
  auto loop = MakeLoop();
  loop->ScrapeOnce(1'000'000);
  SetBody("a 1\nb{x=\"y\"}z 2\n");
  loop->ScrapeOnce(1'001'000);
  EXPECT_EQ(loop->Status().health, "down");
  EXPECT_NE(loop->Status().last_error.find("line 2: expected value after metric"),
            std::string::npos)
      << loop->Status().last_error;
  SetBody("a 1\nb{x=\"y\",w} 2\n");  // a new text: its labels are checked
  loop->ScrapeOnce(1'002'000);
  EXPECT_NE(loop->Status().last_error.find("line 2: expected equal"), std::string::npos)
      << loop->Status().last_error;
  EXPECT_EQ(ValuesOf(db_, "scrape_samples_scraped"), (std::vector<double>{2, 1, 1}));
}

TEST_F(ScrapeLoopTest, BodySizeLimit_FailsTheScrape) {
  auto loop = MakeLoop("    body_size_limit: 10B\n");
  loop->ScrapeOnce(1'000'000);
  EXPECT_EQ(loop->Status().last_error, "body size limit exceeded");
  EXPECT_TRUE(SamplesOf(db_, "a").empty());
}

TEST_F(ScrapeLoopTest, GzipBody_IsDecoded) {
  auto loop = MakeLoop();
  loop->ScrapeOnce(1'000'000);
  EXPECT_EQ(last_accept_encoding_, "gzip");
  EXPECT_EQ(loop->Status().health, "up") << loop->Status().last_error;
  EXPECT_EQ(SamplesOf(db_, "b").size(), 1u);
}

TEST_F(ScrapeLoopTest, GzipBomb_IsStoppedByBodyLimit) {
  SetBody("a 1\n" + std::string(1 << 20, '#') + "\n");
  auto loop = MakeLoop("    body_size_limit: 64KiB\n");
  loop->ScrapeOnce(1'000'000);
  EXPECT_EQ(loop->Status().last_error, "body size limit exceeded");
}

TEST_F(ScrapeLoopTest, SampleLimit_FailsTheScrape) {
  auto loop = MakeLoop("    sample_limit: 1\n");
  loop->ScrapeOnce(1'000'000);
  EXPECT_EQ(loop->Status().last_error, "sample limit exceeded");
  EXPECT_TRUE(SamplesOf(db_, "a").empty());
  EXPECT_EQ(SamplesOf(db_, "scrape_samples_post_metric_relabeling")[0].v, 2);
}

TEST_F(ScrapeLoopTest, LabelLimit_FailsTheScrape) {
  auto loop = MakeLoop("    label_limit: 3\n");
  loop->ScrapeOnce(1'000'000);
  EXPECT_NE(loop->Status().last_error.find("label_limit exceeded (metric: b, number of labels: 4, limit: 3)"),
            std::string::npos) << loop->Status().last_error;
}

TEST_F(ScrapeLoopTest, MetricRelabeling_DropsAndRewrites) {
  auto loop = MakeLoop(
      "    metric_relabel_configs:\n"
      "      - {source_labels: [__name__], regex: a, action: drop}\n"
      "      - {source_labels: [x], target_label: z, replacement: 'got-$1'}\n");
  loop->ScrapeOnce(1'000'000);
  EXPECT_TRUE(SamplesOf(db_, "a").empty());
  EXPECT_EQ(SamplesOf(db_, "b", "z", "got-y").size(), 1u);
  EXPECT_EQ(SamplesOf(db_, "scrape_samples_scraped")[0].v, 2);
  EXPECT_EQ(SamplesOf(db_, "scrape_samples_post_metric_relabeling")[0].v, 1);
}

TEST_F(ScrapeLoopTest, HonorTimestamps_UsesExposedTimestampsAndSkipsStaleness) {
  SetBody("a 1 999000\n");
  auto loop = MakeLoop();
  loop->ScrapeOnce(1'000'000);
  EXPECT_EQ(SamplesOf(db_, "a")[0].t, 999'000);
  SetBody("");
  loop->ScrapeOnce(1'001'000);
  EXPECT_EQ(SamplesOf(db_, "a").size(), 1u);  // no staleness marker for explicit timestamps
}

// Prometheus 2.48 docs/configuration/configuration.md (track_timestamps_staleness) and
// scrape.go (a series is tracked for staleness when it has no timestamp of its own or the
// option is on): with it on, a series with its own timestamp gets a staleness marker at
// the scrape's time when it vanishes. Off (the default), 2.48's
// TestScrapeLoopAppendNoStalenessIfTimestamp: none (HonorTimestamps_... above).
TEST_F(ScrapeLoopTest, TrackTimestampsStaleness_VanishedTimestampedSeries_GetsStalenessMarker) {
  SetBody("a 1 999000\nb 2\n");
  auto loop = MakeLoop("    track_timestamps_staleness: true\n");
  loop->ScrapeOnce(1'000'000);
  SetBody("b 2\n");
  loop->ScrapeOnce(1'001'000);
  const auto a = SamplesOf(db_, "a");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].t, 999'000);
  EXPECT_TRUE(vigil::IsStaleNaN(a[1].v));
  EXPECT_EQ(a[1].t, 1'001'000);
  loop->ScrapeOnce(1'002'000);
  EXPECT_EQ(SamplesOf(db_, "a").size(), 2u);  // marked once only
}

// 2.48 TestScrapeLoopRunCreatesStaleMarkersOnFailedScrapeForTimestampedMetrics: a failed
// scrape ("the target is down") marks timestamped series stale when tracking is on.
TEST_F(ScrapeLoopTest, TrackTimestampsStaleness_FailedScrape_MarksTimestampedSeriesStale) {
  SetBody("a 1 999000\n");
  auto loop = MakeLoop("    track_timestamps_staleness: true\n");
  loop->ScrapeOnce(1'000'000);
  SetBody("a 1 999500\nbroken line here\n");
  loop->ScrapeOnce(1'001'000);
  EXPECT_EQ(loop->Status().health, "down");
  const auto a = SamplesOf(db_, "a");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_TRUE(vigil::IsStaleNaN(a[1].v));
  EXPECT_EQ(a[1].t, 1'001'000);
}

// The default (false) keeps the pre-2.48 behaviour: no marker on a failed scrape or at
// the end of the loop either.
TEST_F(ScrapeLoopTest, TimestampedSeries_WithoutTracking_GetsNoMarkerOnFailureOrStop) {
  SetBody("a 1 999000\n");
  auto loop = MakeLoop();
  EXPECT_FALSE(config_->track_timestamps_staleness);
  loop->ScrapeOnce(1'000'000);
  SetBody("broken line here\n");
  loop->ScrapeOnce(1'001'000);
  clock_.Set(1'001'500);
  loop->Stop(true);
  EXPECT_EQ(SamplesOf(db_, "a").size(), 1u);
  EXPECT_TRUE(vigil::IsStaleNaN(SamplesOf(db_, "up").back().v));
}

TEST_F(ScrapeLoopTest, TrackTimestampsStaleness_StoppedTarget_MarksTimestampedSeriesStale) {
  SetBody("a 1 999000\n");
  auto loop = MakeLoop("    track_timestamps_staleness: true\n");
  loop->ScrapeOnce(1'000'000);
  clock_.Set(1'000'500);
  loop->Stop(true);
  const auto a = SamplesOf(db_, "a");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_TRUE(vigil::IsStaleNaN(a[1].v));
}

TEST_F(ScrapeLoopTest, DuplicateSeries_KeepsTheFirstSample) {
  SetBody("a 1\na 2\n");
  auto loop = MakeLoop();
  loop->ScrapeOnce(1'000'000);
  EXPECT_EQ(loop->Status().health, "up");
  const auto a = SamplesOf(db_, "a");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].v, 1);
}

// Prometheus counts every sample metric relabeling keeps, the repeats its
// storage rejects included.
TEST_F(ScrapeLoopTest, DuplicateSeries_IsStoredOnceButCountedAsScraped) {
  SetBody("a 1\na 2\n");
  auto loop = MakeLoop();
  loop->ScrapeOnce(1'000'000);
  loop->ScrapeOnce(1'001'000);
  EXPECT_EQ(ValuesOf(db_, "a"), (std::vector<double>{1, 1}));
  EXPECT_EQ(ValuesOf(db_, "scrape_samples_scraped"), (std::vector<double>{2, 2}));
  EXPECT_EQ(ValuesOf(db_, "scrape_samples_post_metric_relabeling"), (std::vector<double>{2, 2}));
}

TEST_F(ScrapeLoopTest, LabelsCollapsedByMetricRelabeling_CountedPostRelabeling) {
  SetBody("m{tmp=\"a\",k=\"1\"} 1\nm{tmp=\"b\",k=\"1\"} 2\nm{tmp=\"c\",k=\"2\"} 3\n");
  auto loop = MakeLoop("    metric_relabel_configs:\n      - {regex: tmp, action: labeldrop}\n");
  loop->ScrapeOnce(1'000'000);
  EXPECT_EQ(ValuesOf(db_, "m"), (std::vector<double>{1, 3}));
  EXPECT_EQ(ValuesOf(db_, "scrape_samples_post_metric_relabeling"), (std::vector<double>{3}));
}

// As Prometheus, which appends each and rejects on commit what is not newer.
TEST_F(ScrapeLoopTest, RepeatedSeriesWithOwnTimestamps_KeepsEachNewerSample) {
  SetBody("a 1 999000\na 2 999500\na 3 999200\nm{x=\"1\",y=\"2\"} 4 999000\nm{y=\"2\",x=\"1\"} 5 999100\n");
  auto loop = MakeLoop();
  loop->ScrapeOnce(1'000'000);
  EXPECT_EQ(loop->Status().health, "up");
  EXPECT_EQ(ValuesOf(db_, "a"), (std::vector<double>{1, 2}));
  EXPECT_EQ(ValuesOf(db_, "m"), (std::vector<double>{4, 5}));
  EXPECT_EQ(ValuesOf(db_, "scrape_samples_post_metric_relabeling"), (std::vector<double>{5}));
}

TEST_F(ScrapeLoopTest, DuplicatesCountTowardsTheSampleLimit) {
  SetBody("a 1\na 2\n");
  auto loop = MakeLoop("    sample_limit: 1\n");
  loop->ScrapeOnce(1'000'000);
  EXPECT_EQ(loop->Status().last_error, "sample limit exceeded");
}

TEST_F(ScrapeLoopTest, ReorderedLabelSpelling_KeepsTheFirstSample) {
  SetBody("m{x=\"1\",y=\"2\"} 1\nm{y=\"2\",x=\"1\"} 2\n");
  auto loop = MakeLoop();
  loop->ScrapeOnce(1'000'000);
  loop->ScrapeOnce(1'001'000);
  EXPECT_EQ(ValuesOf(db_, "m"), (std::vector<double>{1, 1}));
  EXPECT_EQ(ValuesOf(db_, "scrape_samples_post_metric_relabeling"), (std::vector<double>{2, 2}));
}

TEST_F(ScrapeLoopTest, NewSpellingOfACachedSeries_IsNotAppendedAgain) {
  SetBody("m{x=\"1\",y=\"2\"} 1\n");
  auto loop = MakeLoop();
  loop->ScrapeOnce(1'000'000);
  SetBody("m{x=\"1\",y=\"2\"} 3\nm{y=\"2\",x=\"1\"} 4\n");
  loop->ScrapeOnce(1'001'000);
  EXPECT_EQ(ValuesOf(db_, "m"), (std::vector<double>{1, 3}));
  EXPECT_EQ(ValuesOf(db_, "scrape_samples_post_metric_relabeling"), (std::vector<double>{1, 2}));
}

TEST_F(ScrapeLoopTest, OneSpellingGone_OtherSpellingKeepsTheSeriesFresh) {
  SetBody("m{x=\"1\",y=\"2\"} 1\nm{y=\"2\",x=\"1\"} 2\n");
  auto loop = MakeLoop();
  loop->ScrapeOnce(1'000'000);
  SetBody("m{y=\"2\",x=\"1\"} 5\n");
  loop->ScrapeOnce(1'001'000);
  SetBody("a 1\n");
  loop->ScrapeOnce(1'002'000);
  const auto m = SamplesOf(db_, "m");
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].v, 1);
  EXPECT_EQ(m[1].v, 5);
  EXPECT_TRUE(vigil::IsStaleNaN(m[2].v));
  EXPECT_EQ(m[2].t, 1'002'000);
}

TEST_F(ScrapeLoopTest, ReorderedBody_AppendsEverySeriesToItsOwnSeries) {
  SetBody("a 1\nb 2\nc 3\n");
  auto loop = MakeLoop();
  loop->ScrapeOnce(1'000'000);
  SetBody("c 4\nn 5\na 6\n");
  loop->ScrapeOnce(1'001'000);
  SetBody("a 7\nb 8\nc 9\n");
  loop->ScrapeOnce(1'002'000);
  EXPECT_EQ(ValuesOf(db_, "a"), (std::vector<double>{1, 6, 7}));
  EXPECT_EQ(ValuesOf(db_, "c"), (std::vector<double>{3, 4, 9}));
  const auto b = ValuesOf(db_, "b");
  ASSERT_EQ(b.size(), 3u);
  EXPECT_TRUE(vigil::IsStaleNaN(b[1]));
  EXPECT_EQ(b[2], 8);
  const auto n = ValuesOf(db_, "n");
  ASSERT_EQ(n.size(), 2u);
  EXPECT_TRUE(vigil::IsStaleNaN(n[1]));
}

TEST_F(ScrapeLoopTest, FailedScrapeWithNewSeries_NextScrapesStillAppendEverySeries) {
  SetBody("a 1\nb 2\n");
  auto loop = MakeLoop();
  loop->ScrapeOnce(1'000'000);
  SetBody("a 3\nz 4\nb 5\nbroken line here\n");
  loop->ScrapeOnce(1'001'000);
  SetBody("z 6\na 7\nb 8\n");
  loop->ScrapeOnce(1'002'000);
  loop->ScrapeOnce(1'003'000);
  EXPECT_EQ(loop->Status().health, "up");
  EXPECT_EQ(ValuesOf(db_, "z"), (std::vector<double>{6, 6}));
  const auto a = ValuesOf(db_, "a");
  ASSERT_EQ(a.size(), 4u);  // 1, stale (failed scrape), 7, 7
  EXPECT_TRUE(vigil::IsStaleNaN(a[1]));
  EXPECT_EQ(a[3], 7);
}

TEST_F(ScrapeLoopTest, CachedSeries_AppendByRefWithoutLabels) {
  RefStorage db;
  auto loop = MakeLoop("", "", &db);
  loop->ScrapeOnce(1'000'000);
  EXPECT_EQ(db.by_ref, 0);
  loop->ScrapeOnce(1'001'000);
  EXPECT_EQ(db.by_ref, 2);  // a and b; the report series come with their labels
  EXPECT_EQ(SamplesOf(db, "b", "instance", server_.address()).size(), 2u);
}

TEST_F(ScrapeLoopTest, ForgottenRef_ResolvesTheLabelsAgainFromTheRawText) {
  RefStorage db;
  auto loop = MakeLoop(
      "    metric_relabel_configs:\n"
      "      - {source_labels: [x], target_label: z, replacement: 'got-$1'}\n",
      "", &db);
  loop->ScrapeOnce(1'000'000);
  db.Forget();
  loop->ScrapeOnce(1'001'000);
  EXPECT_EQ(loop->Status().health, "up") << loop->Status().last_error;
  EXPECT_EQ(SamplesOf(db, "b", "z", "got-y").size(), 2u);
  EXPECT_EQ(SamplesOf(db, "a", "instance", server_.address()).size(), 2u);
  loop->ScrapeOnce(1'002'000);  // by ref again: the fallback handed out new refs
  EXPECT_EQ(db.by_ref, 2);
}

TEST_F(ScrapeLoopTest, ForgottenRef_StillGetsItsStalenessMarker) {
  RefStorage db;
  auto loop = MakeLoop("", "", &db);
  loop->ScrapeOnce(1'000'000);
  db.Forget();
  SetBody("a 1\n");
  loop->ScrapeOnce(1'001'000);
  const auto b = SamplesOf(db, "b", "x", "y");
  ASSERT_EQ(b.size(), 2u);
  EXPECT_TRUE(vigil::IsStaleNaN(b[1].v));
}

TEST_F(ScrapeLoopTest, OpenMetrics_IsNegotiatedByContentType) {
  content_type_ = "application/openmetrics-text; version=1.0.0; charset=utf-8";
  SetBody("# TYPE c counter\n# HELP c Things.\nc_total 5 # {id=\"1\"} 1\n# EOF\n");
  auto loop = MakeLoop();
  loop->ScrapeOnce(1'000'000);
  EXPECT_EQ(loop->Status().health, "up") << loop->Status().last_error;
  EXPECT_EQ(SamplesOf(db_, "c_total")[0].v, 5);
  const auto md = loop->Metadata();
  ASSERT_EQ(md.size(), 1u);
  EXPECT_EQ(md[0].type, "counter");
  EXPECT_EQ(md[0].help, "Things.");
}

TEST_F(ScrapeLoopTest, UnreachableTarget_ReportsConnectionRefused) {
  auto loop = MakeLoop("", "127.0.0.1:1");
  loop->ScrapeOnce(1'000'000);
  EXPECT_EQ(loop->Status().health, "down");
  EXPECT_NE(loop->Status().last_error.find("connection refused"), std::string::npos)
      << loop->Status().last_error;
}

TEST_F(ScrapeLoopTest, Phase_IsStableForTheSameTarget) {
  auto a = MakeLoop();
  auto b = MakeLoop();
  EXPECT_EQ(a->PhaseMs(), b->PhaseMs());
  EXPECT_LT(a->PhaseMs(), 1000);
}

}  // namespace
}  // namespace vigil::scraper
