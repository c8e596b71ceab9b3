// Vigil with the real Prometheus 2.42 tools: Prometheus remote-writes to Vigil,
// Prometheus remote-reads from Vigil, and promtool queries Vigil.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>

#include "tests/web/live_stack.h"

namespace vigil::web::testing {
namespace {

class InteropTest : public LiveStackTest {
 protected:
  static nlohmann::json Query(int port, const std::string& query) {
    return nlohmann::json::parse(Fetch(port, "GET", Url("/api/v1/query", {{"query", query}})).body);
  }
};

TEST_F(InteropTest, RemoteWrite_PrometheusSamplesBecomeQueryableInVigil) {
  // Prometheus ships its WAL to the sink in batches; give it time to catch up.
  ASSERT_TRUE(WaitUntil(60, [&] {
    return HasSeries(stack_->sink_port(), "inventory_items_total", 1);
  })) << "Prometheus's remote write never reached Vigil";
  const auto sink = Query(stack_->sink_port(), "up");
  const auto prom = Query(stack_->prometheus_port(), "up");
  EXPECT_EQ(sink["data"]["result"].size(), prom["data"]["result"].size());
  const auto range = nlohmann::json::parse(
      Fetch(stack_->sink_port(), "GET",
            Url("/api/v1/query_range", {{"query", "rate(inventory_requests_total[5s])"},
                                        {"start", std::to_string(std::time(nullptr) - 20)},
                                        {"end", std::to_string(std::time(nullptr))},
                                        {"step", "1"}}))
          .body);
  EXPECT_FALSE(range["data"]["result"].empty());
}

TEST_F(InteropTest, RemoteRead_PrometheusAnswersFromVigilsData) {
  // The reader Prometheus has no targets: whatever it returns came from Vigil.
  const auto from_reader = Query(stack_->reader_port(), "inventory_items_total");
  ASSERT_EQ(from_reader["status"], "success") << from_reader.dump();
  ASSERT_EQ(from_reader["data"]["result"].size(), 1u) << from_reader.dump();
  const auto from_vigil = Query(stack_->vigil_port(), "inventory_items_total");
  EXPECT_EQ(from_reader["data"]["result"][0]["metric"], from_vigil["data"]["result"][0]["metric"]);
  const auto series = nlohmann::json::parse(
      Fetch(stack_->reader_port(), "GET", Url("/api/v1/query", {{"query", "count(up)"}})).body);
  EXPECT_EQ(series["data"]["result"][0]["value"][1], "2");
}

class PromtoolTest : public InteropTest {
 protected:
  void SetUp() override {
    if (access(kPromtoolBinary, X_OK) != 0) GTEST_SKIP() << kPromtoolBinary << " is not installed";
    InteropTest::SetUp();
  }
  std::string Run(std::vector<std::string> args) {
    args.insert(args.begin(), {kPromtoolBinary, "query"});
    std::string out;
    EXPECT_EQ(RunToCompletion(args, &out), 0) << out;
    return out;
  }
  std::string Server() const { return "http://127.0.0.1:" + std::to_string(stack_->vigil_port()); }
};

TEST_F(PromtoolTest, Instant) {
  const auto out = Run({"instant", Server(), "inventory_items_total"});
  EXPECT_NE(out.find("inventory_items_total{instance=\"127.0.0.1:"), std::string::npos) << out;
  EXPECT_NE(out.find(" => "), std::string::npos) << out;
}

TEST_F(PromtoolTest, Range) {
  const auto now = std::time(nullptr);
  const auto out = Run({"range", "--start=" + std::to_string(now - 5),
                        "--end=" + std::to_string(now), "--step=1s", Server(), "up"});
  EXPECT_NE(out.find("up{instance="), std::string::npos) << out;
  EXPECT_NE(out.find(" @["), std::string::npos) << out;
}

TEST_F(PromtoolTest, Series) {
  const auto out = Run({"series", "--match=up", Server()});
  EXPECT_NE(out.find("job=\"inventory\""), std::string::npos) << out;
  EXPECT_NE(out.find("job=\"node\""), std::string::npos) << out;
}

TEST_F(PromtoolTest, Labels) {
  const auto out = Run({"labels", Server(), "job"});
  EXPECT_EQ(out, "inventory\nnode\n");
}

}  // namespace
}  // namespace vigil::web::testing
