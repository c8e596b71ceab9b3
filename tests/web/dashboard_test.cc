// Dashboard test: every target of deploy/grafana's Inventory Manager
// Dashboard runs as Grafana 10 runs it (form POST to /api/v1/query_range,
// Grafana's step, $__interval / $__rate_interval and time-range alignment)
// against Vigil scraping inventory_demo and node-exporter, and must give a
// non-empty, well-formed matrix.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>

#include "tests/web/live_stack.h"

namespace vigil::web::testing {
namespace {

// What Grafana's Prometheus datasource would know: the datasource's
// timeInterval is the scrape interval (1 s in the live stack).
constexpr int64_t kScrapeIntervalMs = 1000;
constexpr int64_t kRangeMs = 5 * 60 * 1000;  // dashboard time range "now-5m" .. "now"
constexpr int64_t kMaxDataPoints = 1000;     // about a panel's width in pixels

// Grafana's roundInterval (pkg/tsdb/intervalv2): the "nice" interval at or
// below the raw one.
int64_t RoundInterval(int64_t ms) {
  static const std::pair<int64_t, int64_t> kSteps[] = {{15, 10},
                                                       {35, 20},
                                                       {75, 50},
                                                       {150, 100},
                                                       {350, 200},
                                                       {750, 500},
                                                       {1500, 1000},
                                                       {3500, 2000},
                                                       {7500, 5000},
                                                       {12500, 10000},
                                                       {17500, 15000},
                                                       {25000, 20000},
                                                       {45000, 30000},
                                                       {90000, 60000},
                                                       {210000, 120000},
                                                       {450000, 300000},
                                                       {750000, 600000},
                                                       {1050000, 900000},
                                                       {1500000, 1200000},
                                                       {2700000, 1800000},
                                                       {5400000, 3600000},
                                                       {9000000, 7200000},
                                                       {16200000, 10800000},
                                                       {32400000, 21600000},
                                                       {86400000, 43200000}};
  for (const auto& [below, nice] : kSteps) {
    if (ms < below) return nice;
  }
  return 86400000;
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

struct GrafanaQuery {
  std::string expr;  // variables substituted
  int64_t start_ms;
  int64_t end_ms;
  int64_t step_ms;
};

// The request Grafana 10 sends for a panel target over [now-5m, now].
GrafanaQuery AsGrafanaWould(const std::string& expr, int64_t now_ms) {
  const int64_t interval = std::max(RoundInterval(kRangeMs / kMaxDataPoints), kScrapeIntervalMs);
  const int64_t rate_interval = std::max(interval + kScrapeIntervalMs, 4 * kScrapeIntervalMs);
  std::string e = Replace(expr, "$__rate_interval", std::to_string(rate_interval / 1000) + "s");
  e = Replace(e, "$__interval", std::to_string(interval / 1000) + "s");
  e = Replace(e, "$__range", std::to_string(kRangeMs / 1000) + "s");
  const auto align = [&](int64_t t) { return t / interval * interval; };
  return {e, align(now_ms - kRangeMs), align(now_ms), interval};
}

nlohmann::json LoadDashboard() {
  std::ifstream in(VIGIL_SOURCE_DIR "/deploy/grafana/dashboards/inventory-manager.json");
  std::stringstream text;
  text << in.rdbuf();
  return nlohmann::json::parse(text.str());
}

TEST(DashboardTest, DashboardHasTheMissionsEightPanels) {
  const auto dash = LoadDashboard();
  EXPECT_EQ(dash["title"], "Inventory Manager Dashboard");
  EXPECT_EQ(dash["refresh"], "10s");
  std::multiset<std::string> types;
  for (const auto& p : dash["panels"]) types.insert(p["type"].get<std::string>());
  EXPECT_EQ(types, (std::multiset<std::string>{"stat", "stat", "gauge", "timeseries", "timeseries",
                                               "timeseries", "timeseries", "timeseries"}));
}

TEST(DashboardTest, EveryPanelTargetGetsANonEmptyMatrixFromVigil) {
  if (const auto missing = LiveStack::MissingPrerequisite(); !missing.empty())
    GTEST_SKIP() << missing;
  LiveStack* stack = SharedStack();
  ASSERT_TRUE(stack->error().empty()) << stack->error();
  const auto dash = LoadDashboard();
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  int targets = 0;
  for (const auto& panel : dash["panels"]) {
    for (const auto& target : panel["targets"]) {
      ++targets;
      const auto q = AsGrafanaWould(target["expr"].get<std::string>(), now_ms);
      const auto r = Fetch(stack->vigil_port(), "POST", "/api/v1/query_range",
                           Form({{"query", q.expr},
                                 {"start", std::to_string(q.start_ms / 1000)},
                                 {"end", std::to_string(q.end_ms / 1000)},
                                 {"step", std::to_string(q.step_ms / 1000)}}),
                           "application/x-www-form-urlencoded");
      const std::string where = panel["title"].get<std::string>() + ": " + q.expr;
      ASSERT_EQ(r.status, 200) << where << "\n" << r.body;
      const auto json = r.Json();
      EXPECT_EQ(json["status"], "success") << where;
      EXPECT_EQ(json["data"]["resultType"], "matrix") << where;
      const auto& result = json["data"]["result"];
      ASSERT_TRUE(result.is_array()) << where;
      EXPECT_FALSE(result.empty()) << where << " returned no series";
      for (const auto& series : result) {
        EXPECT_TRUE(series["metric"].is_object()) << where;
        ASSERT_FALSE(series["values"].empty()) << where;
        for (const auto& point : series["values"]) {
          const double t = point[0].get<double>();
          EXPECT_GE(t * 1000, q.start_ms) << where;
          EXPECT_LE(t * 1000, q.end_ms) << where;
          EXPECT_EQ(std::fmod(t * 1000, static_cast<double>(q.step_ms)), 0) << where;
          const std::string v = point[1].get<std::string>();
          EXPECT_NO_THROW((void)std::stod(v)) << where << " value " << v;
        }
      }
    }
  }
  EXPECT_EQ(targets, 11);  // latency, cache and memory panels have two each
}

}  // namespace
}  // namespace vigil::web::testing
