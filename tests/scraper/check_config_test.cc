// `vigil check config`: promtool's output and exit codes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "scraper/check_config.h"

namespace vigil::scraper {
namespace {

class CheckConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vigil-check-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }
  std::filesystem::path dir_;
};

TEST_F(CheckConfigTest, ValidFile_PrintsSuccessAndReturnsZero) {
  const std::string f = Write("ok.yml", "scrape_configs:\n  - job_name: a\n");
  std::ostringstream out, err;
  EXPECT_EQ(RunCheckConfig({f}, out, err), 0);
  EXPECT_EQ(out.str(), "Checking " + f + "\n SUCCESS: " + f +
                           " is valid prometheus config file syntax\n\n");
  EXPECT_EQ(err.str(), "");
}

TEST_F(CheckConfigTest, InvalidFile_PrintsFailedAndReturnsOne) {
  const std::string bad = Write("bad.yml", "scrape_configs:\n  - job_name: a\n    foo: 1\n");
  const std::string ok = Write("ok.yml", "");
  std::ostringstream out, err;
  EXPECT_EQ(RunCheckConfig({bad, ok}, out, err), 1);
  EXPECT_NE(err.str().find("  FAILED: parsing YAML file " + bad + ": line 3"), std::string::npos)
      << err.str();
  EXPECT_NE(out.str().find(" SUCCESS: " + ok), std::string::npos);
}

TEST_F(CheckConfigTest, RuleFiles_AreCountedAndChecked) {
  Write("r.yml", "groups:\n  - name: g\n    rules:\n      - record: job:up:sum\n        expr: sum(up)\n"
                 "      - alert: Down\n        expr: up == 0\n");
  const std::string f = Write("p.yml", "rule_files: [\"r*.yml\"]\n");
  std::ostringstream out, err;
  EXPECT_EQ(RunCheckConfig({f}, out, err), 0) << err.str();
  EXPECT_NE(out.str().find("  SUCCESS: 1 rule files found\n"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("  SUCCESS: 2 rules found\n"), std::string::npos) << out.str();
}

TEST_F(CheckConfigTest, BadRule_Fails) {
  Write("r.yml", "groups:\n  - name: g\n    rules:\n      - record: x\n");
  const std::string f = Write("p.yml", "rule_files: [r.yml]\n");
  std::ostringstream out, err;
  EXPECT_EQ(RunCheckConfig({f}, out, err), 1);
  EXPECT_NE(err.str().find("'expr' must be set"), std::string::npos) << err.str();
}

}  // namespace
}  // namespace vigil::scraper
