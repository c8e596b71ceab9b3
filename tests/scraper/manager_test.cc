// Manager: reload semantics and file_sd picked up without reload, against
// real loopback targets.
#include "scraper/manager.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/support/memory_storage.h"
#include "tests/scraper/loopback_server.h"

namespace vigil::scraper {
namespace {

using namespace std::chrono_literals;

// Polls `pred` for up to `limit`; scrape loops run on real threads here.
template <typename Pred>
bool Eventually(Pred pred, std::chrono::milliseconds limit = 5000ms) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

class ManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto* s : {&a_, &b_}) {
      s->server().Get("/metrics", [](const httplib::Request&, httplib::Response& res) {
        res.set_content("m 1\n", "text/plain");
      });
      s->Start();
    }
    dir_ = std::filesystem::temp_directory_path() / ("vigil-mgr-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  config::Config Load(const std::string& yaml) {
    auto c = config::LoadConfigString(yaml, (dir_ / "prometheus.yml").string());
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return *c;
  }
  std::string StaticJob(const std::string& job, const LoopbackServer& s) {
    return "  - job_name: " + job + "\n    scrape_interval: 1s\n    scrape_timeout: 500ms\n"
           "    static_configs: [{targets: [\"" + s.address() + "\"]}]\n";
  }
  size_t UpTargets(const Manager& m) {
    size_t n = 0;
    for (const auto& t : m.ActiveTargets()) n += t.health == "up";
    return n;
  }

  storage::MemoryStorage db_;
  LoopbackServer a_, b_;
  std::filesystem::path dir_;
};

TEST_F(ManagerTest, ApplyConfig_StartsScrapingStaticTargets) {
  Manager m(&db_, {});
  ASSERT_TRUE(m.ApplyConfig(Load("scrape_configs:\n" + StaticJob("a", a_))).ok());
  ASSERT_TRUE(Eventually([&] { return UpTargets(m) == 1; }));
  const auto targets = m.ActiveTargets();
  EXPECT_EQ(targets[0].scrape_pool, "a");
  EXPECT_EQ(targets[0].labels.Get("instance"), a_.address());
  EXPECT_EQ(targets[0].scrape_url, "http://" + a_.address() + "/metrics");
  EXPECT_GT(targets[0].last_scrape_ms, 0);
}

TEST_F(ManagerTest, Reload_KeepsUnchangedLoopsAndStopsRemovedJobs) {
  Manager m(&db_, {});
  ASSERT_TRUE(m.ApplyConfig(Load("scrape_configs:\n" + StaticJob("a", a_))).ok());
  ASSERT_TRUE(Eventually([&] { return UpTargets(m) == 1; }));
  const int64_t first_scrape = m.ActiveTargets()[0].last_scrape_ms;
  ASSERT_TRUE(m.ApplyConfig(Load("scrape_configs:\n" + StaticJob("a", a_) + StaticJob("b", b_))).ok());
  // The unchanged job kept its loop: its status survived the reload.
  EXPECT_GE(m.ActiveTargets()[0].last_scrape_ms, first_scrape);
  EXPECT_EQ(m.ActiveTargets()[0].health, "up");
  ASSERT_TRUE(Eventually([&] { return UpTargets(m) == 2; }));
  ASSERT_TRUE(m.ApplyConfig(Load("scrape_configs:\n" + StaticJob("b", b_))).ok());
  ASSERT_EQ(m.ActiveTargets().size(), 1u);
  EXPECT_EQ(m.ActiveTargets()[0].scrape_pool, "b");
}

TEST_F(ManagerTest, FileSd_ChangesArePickedUpWithoutReload) {
  const auto sd = dir_ / "targets.json";
  std::ofstream(sd) << "[{\"targets\": [\"" << a_.address() << "\"], \"labels\": {\"team\": \"x\"}}]";
  Manager m(&db_, {});
  ASSERT_TRUE(m.ApplyConfig(Load("scrape_configs:\n  - job_name: f\n    scrape_interval: 1s\n"
                                 "    scrape_timeout: 500ms\n    file_sd_configs: [{files: [\"*.json\"]}]\n"))
                  .ok());
  ASSERT_TRUE(Eventually([&] { return m.ActiveTargets().size() == 1; }));
  EXPECT_EQ(m.ActiveTargets()[0].labels.Get("team"), "x");
  EXPECT_EQ(m.ActiveTargets()[0].discovered_labels.Get("__meta_filepath"), sd.string());
  std::ofstream(sd) << "[{\"targets\": [\"" << a_.address() << "\", \"" << b_.address() << "\"]}]";
  ASSERT_TRUE(Eventually([&] { return UpTargets(m) == 2; }));
}

TEST_F(ManagerTest, DroppedTargets_AreReported) {
  Manager m(&db_, {});
  ASSERT_TRUE(m.ApplyConfig(Load("scrape_configs:\n" + StaticJob("a", a_) +
                                 "    relabel_configs: [{action: drop, source_labels: [job], regex: a}]\n"))
                  .ok());
  ASSERT_TRUE(Eventually([&] { return m.DroppedTargets().size() == 1; }));
  EXPECT_TRUE(m.ActiveTargets().empty());
  EXPECT_EQ(m.DroppedTargets()[0].discovered_labels.Get("__address__"), a_.address());
}

}  // namespace
}  // namespace vigil::scraper
