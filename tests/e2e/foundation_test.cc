// The Foundation slice end to end: the real binary scrapes a loopback target,
// stores the samples and answers /api/v1/query; SIGTERM exits cleanly.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "tests/e2e/metrics_target.h"
#include "tests/e2e/vigil_process.h"
#include "tests/support/child_process.h"

namespace vigil::e2e {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string ScrapeConfig(const std::string& target) {
  return "global:\n"
         "  scrape_interval: 1s\n"
         "  scrape_timeout: 1s\n"
         "scrape_configs:\n"
         "  - job_name: app\n"
         "    static_configs:\n"
         "      - targets: ['" + target + "']\n";
}

// The single sample of an instant query's vector result, or nullopt.
std::optional<json> OnlySample(const HttpReply& reply) {
  if (reply.status != 200) return std::nullopt;
  json j = json::parse(reply.body, nullptr, false);
  if (j.is_discarded() || j["status"] != "success") return std::nullopt;
  if (j["data"]["resultType"] != "vector" || j["data"]["result"].size() != 1) return std::nullopt;
  return j["data"]["result"][0];
}

TEST(Foundation, ScrapesStoresAndAnswersQueriesThenExitsCleanlyOnSigterm) {
  MetricsTarget target(
      "# TYPE inventory_items_total gauge\n"
      "inventory_items_total 42\n"
      "# TYPE inventory_requests_total counter\n"
      "inventory_requests_total{method=\"GET\",endpoint=\"/api/items\",status=\"200\"} 7\n");
  VigilProcess vigil(ScrapeConfig(target.address()));
  ASSERT_TRUE(vigil.WaitReady()) << vigil.Logs();
  ASSERT_TRUE(vigil.WaitFor([&] { return target.scrapes() >= 2; }, 15s)) << vigil.Logs();

  std::optional<json> up;
  ASSERT_TRUE(vigil.WaitFor([&] { return (up = OnlySample(vigil.Get("/api/v1/query?query=up"))).has_value(); }, 5s))
      << vigil.Logs();
  EXPECT_EQ((*up)["metric"]["job"], "app");
  EXPECT_EQ((*up)["metric"]["instance"], target.address());
  EXPECT_EQ((*up)["value"][1], "1");

  auto items = OnlySample(vigil.Get("/api/v1/query?query=inventory_items_total"));
  ASSERT_TRUE(items.has_value());
  EXPECT_EQ((*items)["value"][1], "42");
  EXPECT_TRUE((*items)["value"][0].is_number());

  auto requests = OnlySample(vigil.Get(
      "/api/v1/query?query=inventory_requests_total%7Bendpoint%3D%22%2Fapi%2Fitems%22%7D"));
  ASSERT_TRUE(requests.has_value());
  EXPECT_EQ((*requests)["metric"]["method"], "GET");
  EXPECT_EQ((*requests)["value"][1], "7");

  vigil.Signal(SIGTERM);
  EXPECT_EQ(vigil.WaitExit(), 0) << vigil.Logs();
  EXPECT_NE(vigil.Logs().find("See you next time"), std::string::npos);
}

TEST(Foundation, ServesOwnMetricsAndHealthEndpoints) {
  VigilProcess vigil(ScrapeConfig("127.0.0.1:1"));
  ASSERT_TRUE(vigil.WaitReady()) << vigil.Logs();
  EXPECT_EQ(vigil.Get("/-/healthy").status, 200);
  auto metrics = vigil.Get("/metrics");
  ASSERT_EQ(metrics.status, 200);
  for (const char* name : {"process_cpu_seconds_total", "process_resident_memory_bytes",
                           "prometheus_config_last_reload_successful"}) {
    EXPECT_NE(metrics.body.find(name), std::string::npos) << name;
  }
  // `vigil check healthy|ready` (promtool 2.48's check healthy|ready) on the real server.
  const std::string url = "--url=http://127.0.0.1:" + std::to_string(vigil.port());
  std::string output;
  EXPECT_EQ(test_support::RunToCompletion({VigilBinary(), "check", "healthy", url}, &output), 0);
  EXPECT_EQ(output, "  SUCCESS:  Vigil Server is Healthy.\n\n");
  output.clear();
  EXPECT_EQ(test_support::RunToCompletion({VigilBinary(), "check", "ready", url}, &output), 0);
  EXPECT_EQ(output, "  SUCCESS:  Vigil Server is Ready.\n\n");
  vigil.Signal(SIGINT);
  EXPECT_EQ(vigil.WaitExit(), 0) << vigil.Logs();
  EXPECT_EQ(test_support::RunToCompletion({VigilBinary(), "check", "ready", url}, &output), 1)
      << "the server is gone";
}

// A first start on an empty data dir, and the restart after it, log no
// error: RocksDB used to log its listing of the not yet created db/ as one.
TEST(Foundation, FreshDataDirStartsAndRestartsWithoutAnErrorLine) {
  const std::string config = "global:\n  scrape_interval: 1s\n";
  TempDir data;
  for (int start = 0; start < 2; ++start) {
    VigilProcess vigil(config, {}, data.path());
    ASSERT_TRUE(vigil.WaitReady()) << vigil.Logs();
    vigil.Signal(SIGTERM);
    EXPECT_EQ(vigil.WaitExit(), 0) << vigil.Logs();
    EXPECT_EQ(vigil.Logs().find("level=error"), std::string::npos) << "start " << start << ":\n"
                                                                   << vigil.Logs();
  }
}

TEST(Foundation, UnknownFlagExitsWithCodeOne) {
  VigilProcess vigil(ScrapeConfig("127.0.0.1:1"), {"--no-such-flag=1"});
  EXPECT_EQ(vigil.WaitExit(), 1);
  EXPECT_NE(vigil.Logs().find("unknown long flag '--no-such-flag'"), std::string::npos)
      << vigil.Logs();
}

// Flags audit (src/server_flags.cc ServerFlagAudit()): a Prometheus flag that
// only tunes Prometheus internals starts, named in a warning; an agent-mode
// flag is refused naming it, as Prometheus in server mode refuses it.
TEST(Foundation, NoEffectFlagIsWarnedAtStartAndAgentFlagIsRefused) {
  VigilProcess warned(ScrapeConfig("127.0.0.1:1"), {"--storage.tsdb.min-block-duration=2h"});
  ASSERT_TRUE(warned.WaitReady()) << warned.Logs();
  EXPECT_NE(warned.Logs().find("level=warn msg=\"Flag accepted for compatibility with "
                               "Prometheus, it has no effect in Vigil\" "
                               "flag=--storage.tsdb.min-block-duration"),
            std::string::npos)
      << warned.Logs();
  VigilProcess agent(ScrapeConfig("127.0.0.1:1"), {"--storage.agent.path=data-agent/"});
  EXPECT_EQ(agent.WaitExit(), 1);
  EXPECT_NE(agent.Logs().find("flag --storage.agent.path can only be used in agent mode"),
            std::string::npos)
      << agent.Logs();
}

TEST(Foundation, BadConfigExitsWithCodeOneAndNamesTheFile) {
  VigilProcess vigil("scrape_configs: [\n");
  EXPECT_EQ(vigil.WaitExit(), 1);
  EXPECT_NE(vigil.Logs().find("prometheus.yml"), std::string::npos) << vigil.Logs();
}

}  // namespace
}  // namespace vigil::e2e
