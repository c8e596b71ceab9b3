// Prometheus 2.43-2.47 configuration features end to end with the real
// binary: scrape_config_files picked up again on SIGHUP (2.43), global scrape
// limits as every job's defaults (2.45), keep_dropped_targets and
// droppedTargetCounts in /api/v1/targets (2.47). No Debian reference exists
// for these versions; expectations follow Prometheus 2.48's
// docs/configuration/configuration.md and web/api/v1/api.go.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "tests/e2e/metrics_target.h"
#include "tests/e2e/vigil_process.h"

namespace vigil::e2e {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const std::string kGlobal = "global:\n  scrape_interval: 1s\n  scrape_timeout: 500ms\n";

std::string StaticJob(const std::string& job, const std::string& target,
                      const std::string& extra = "") {
  return "  - job_name: " + job + "\n" + extra + "    static_configs:\n      - targets: ['" +
         target + "']\n";
}

json GetJson(const VigilProcess& vigil, const std::string& path) {
  const json j = json::parse(vigil.Get(path).body, nullptr, false);
  return j.is_discarded() ? json() : j;
}

std::string QueryValue(const VigilProcess& vigil, const std::string& query) {
  const json j =
      GetJson(vigil, "/api/v1/query?query=" + httplib::detail::encode_query_param(query));
  if (!j.is_object() || j["status"] != "success" || j["data"]["result"].size() != 1) return "";
  return j["data"]["result"][0]["value"][1].get<std::string>();
}

TEST(ScrapeConfigFilesE2E, SighupReadsNewAndChangedFiles) {
  MetricsTarget a("a_metric 1\n");
  MetricsTarget b("b_metric 2\n");
  VigilProcess vigil(kGlobal + "scrape_config_files: [jobs/*.yml]\n");
  const auto jobs = vigil.config_path().parent_path() / "jobs";
  ASSERT_TRUE(vigil.WaitReady()) << vigil.Logs();
  // The files are read at (re)load: the first load saw no directory at all.
  std::filesystem::create_directories(jobs);
  WriteFileAtomically(jobs / "a.yml", "scrape_configs:\n" + StaticJob("a", a.address()));
  vigil.Signal(SIGHUP);
  ASSERT_TRUE(vigil.WaitFor([&] { return QueryValue(vigil, "a_metric{job=\"a\"}") == "1"; }, 10s))
      << vigil.Logs();

  WriteFileAtomically(jobs / "a.yml", "scrape_configs:\n" +
                                          StaticJob("a", a.address(), "    params: {v: ['2']}\n"));
  WriteFileAtomically(jobs / "b.yml", "scrape_configs:\n" + StaticJob("b", b.address()));
  vigil.Signal(SIGHUP);
  EXPECT_TRUE(vigil.WaitFor([&] { return QueryValue(vigil, "b_metric{job=\"b\"}") == "2"; }, 10s))
      << vigil.Logs();
  EXPECT_TRUE(vigil.WaitFor(
      [&] {
        const json t = GetJson(vigil, "/api/v1/targets?state=active");
        if (!t.is_object()) return false;
        for (const json& target : t["data"]["activeTargets"]) {
          if (target["scrapePool"] == "a") {
            return target["scrapeUrl"].get<std::string>().find("?v=2") != std::string::npos;
          }
        }
        return false;
      },
      10s))
      << vigil.Logs();

  // A duplicate job across files fails the reload and keeps the running config.
  WriteFileAtomically(jobs / "c.yml", "scrape_configs:\n" + StaticJob("b", b.address()));
  vigil.Signal(SIGHUP);
  EXPECT_TRUE(vigil.WaitFor(
      [&] {
        return vigil.Get("/metrics").body.find("prometheus_config_last_reload_successful 0") !=
               std::string::npos;
      },
      10s))
      << vigil.Logs();
  EXPECT_NE(vigil.Logs().find("found multiple scrape configs with job name"), std::string::npos)
      << vigil.Logs();
  const int before = b.scrapes();
  EXPECT_TRUE(vigil.WaitFor([&] { return b.scrapes() >= before + 2; }, 10s));
}

TEST(GlobalScrapeLimitsE2E, JobsInheritGlobalSampleLimitUnlessTheyOverrideIt) {
  MetricsTarget target("m1 1\nm2 2\nm3 3\n");
  VigilProcess vigil(
      "global:\n  scrape_interval: 1s\n  scrape_timeout: 500ms\n"
      "  sample_limit: 2\n"
      "scrape_configs:\n" +
      StaticJob("inherits", target.address()) +
      StaticJob("overrides", target.address(), "    sample_limit: 10\n"));
  ASSERT_TRUE(vigil.WaitReady()) << vigil.Logs();
  EXPECT_TRUE(vigil.WaitFor([&] { return QueryValue(vigil, "up{job=\"inherits\"}") == "0"; }, 10s))
      << vigil.Logs();
  EXPECT_TRUE(vigil.WaitFor([&] { return QueryValue(vigil, "up{job=\"overrides\"}") == "1"; }, 10s))
      << vigil.Logs();
  EXPECT_EQ(QueryValue(vigil, "m3{job=\"overrides\"}"), "3");
  EXPECT_EQ(QueryValue(vigil, "count(m3{job=\"inherits\"})"), "");
  const json t = GetJson(vigil, "/api/v1/targets?state=active");
  bool saw_error = false;
  for (const json& target_json : t["data"]["activeTargets"]) {
    if (target_json["scrapePool"] == "inherits") {
      saw_error = target_json["lastError"].get<std::string>().find("sample limit exceeded") !=
                  std::string::npos;
    }
  }
  EXPECT_TRUE(saw_error) << t.dump();
}

TEST(KeepDroppedTargetsE2E, ListIsCutButEveryDroppedTargetIsCounted) {
  // Relabeling keeps port 1 only: four targets of each job are dropped.
  const std::string keep_one =
      "    relabel_configs: [{source_labels: [__address__], regex: '.*:1', action: keep}]\n";
  const std::string targets = "['h:1', 'h:2', 'h:3', 'h:4', 'h:5']";
  const auto job = [&](const std::string& name, const std::string& extra) {
    return "  - job_name: " + name + "\n" + keep_one + extra +
           "    static_configs:\n      - targets: " + targets + "\n";
  };
  VigilProcess vigil(
      "global:\n  scrape_interval: 1m\n  keep_dropped_targets: 1\n"
      "scrape_configs:\n" +
      job("global_default", "") + job("own_limit", "    keep_dropped_targets: 3\n") +
      job("unlimited_by_global", "    keep_dropped_targets: 0\n"));
  ASSERT_TRUE(vigil.WaitReady()) << vigil.Logs();
  json t;
  ASSERT_TRUE(vigil.WaitFor(
      [&] {
        t = GetJson(vigil, "/api/v1/targets?state=dropped");
        return t.is_object() && t["data"]["droppedTargetCounts"].size() == 3;
      },
      10s))
      << vigil.Logs();
  std::map<std::string, int> listed;
  for (const json& d : t["data"]["droppedTargets"]) ++listed[d["discoveredLabels"]["job"]];
  EXPECT_EQ(listed["global_default"], 1) << t.dump();
  EXPECT_EQ(listed["own_limit"], 3) << t.dump();
  // 0 means "unset" as in Prometheus: the job inherits the global 1.
  EXPECT_EQ(listed["unlimited_by_global"], 1) << t.dump();
  for (const char* name : {"global_default", "own_limit", "unlimited_by_global"}) {
    EXPECT_EQ(t["data"]["droppedTargetCounts"][name], 4) << name << ": " << t.dump();
  }
  EXPECT_TRUE(t["data"]["activeTargets"].empty());
  const json active = GetJson(vigil, "/api/v1/targets?state=active");
  EXPECT_TRUE(active["data"]["droppedTargetCounts"].is_null()) << active.dump();
}

}  // namespace
}  // namespace vigil::e2e
