// Runs every tests/promql/*.test script (see script_runner.h for the format).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/promql/script_runner.h"

namespace vigil::promql::testing {
namespace {

std::vector<std::string> ScriptNames() {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(VIGIL_PROMQL_SCRIPT_DIR)) {
    if (e.path().extension() == ".test") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class PromqlScript : public ::testing::TestWithParam<std::string> {};

TEST_P(PromqlScript, AllCommandsPass) {
  const std::string path = std::string(VIGIL_PROMQL_SCRIPT_DIR) + "/" + GetParam() + ".test";
  std::ifstream in(path);
  ASSERT_TRUE(in) << "cannot read " << path;
  std::stringstream text;
  text << in.rdbuf();
  // VIGIL_PROMQL_UPDATE_SCRIPTS=1 rewrites the scripts' expectations with the
  // engine's results (for writing new scripts; verify them against
  // Prometheus with promql_differential_test before committing).
  std::string updated;
  ScriptOptions options;
  const char* update = std::getenv("VIGIL_PROMQL_UPDATE_SCRIPTS");
  if (update != nullptr && std::string(update) == "1") options.updated_text = &updated;
  for (const auto& failure : RunScript(GetParam() + ".test", text.str(), options)) {
    if (options.updated_text == nullptr) ADD_FAILURE() << failure;
  }
  if (options.updated_text != nullptr) std::ofstream(path) << updated;
}

INSTANTIATE_TEST_SUITE_P(Scripts, PromqlScript, ::testing::ValuesIn(ScriptNames()),
                         [](const auto& info) { return info.param; });

TEST(SeriesNotation, ExpandsIncrementsRepeatsGapsAndStaleMarkers) {
  auto v = ExpandSeriesValues("0+10x2 -2-3x1 1x2 _ _x2 stale 1e3");
  ASSERT_TRUE(v.ok());
  std::vector<double> want = {0, 10, 20, -2, -5, 1, 1, 1};
  ASSERT_EQ(v->size(), 13u);
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ((*v)[i].value, want[i]) << i;
  EXPECT_TRUE((*v)[8].missing);
  EXPECT_TRUE((*v)[9].missing && (*v)[10].missing);
  EXPECT_TRUE(std::isnan((*v)[11].value));
  EXPECT_EQ((*v)[12].value, 1000);
}

TEST(ScriptRunner, ReportsFileLineQueryAndBothResultsOnMismatch) {
  auto failures = RunScript("x.test", "load 1m\n  m{a=\"1\"} 1 2\n\neval instant at 1m m\n  m{a=\"1\"} 3\n");
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_NE(failures[0].find("x.test:5:"), std::string::npos) << failures[0];
  EXPECT_NE(failures[0].find("query m"), std::string::npos) << failures[0];
  EXPECT_NE(failures[0].find("m{a=\"1\"} 3"), std::string::npos) << failures[0];
  EXPECT_NE(failures[0].find("m{a=\"1\"} 2"), std::string::npos) << failures[0];
}

}  // namespace
}  // namespace vigil::promql::testing
