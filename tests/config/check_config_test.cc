// `vigil check config` and `vigil check rules`: promtool's output and exit
// codes (expected texts are what promtool 2.42 printed for the same files).
#include "config/check_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace vigil::config {
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
  EXPECT_EQ(out.str(),
            "Checking " + f + "\n SUCCESS: " + f + " is valid prometheus config file syntax\n\n");
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

// promtool 2.48 checks the scrape_config_files' jobs too ("error loading
// scrape configs: ..."), and fails the config when one is broken.
TEST_F(CheckConfigTest, ScrapeConfigFiles_AreChecked) {
  Write("good.yml", "scrape_configs:\n  - job_name: a\n");
  const std::string ok = Write("ok.yml", "scrape_config_files: [good.yml]\n");
  std::ostringstream out, err;
  EXPECT_EQ(RunCheckConfig({ok}, out, err), 0) << err.str();
  const std::string broken = Write("broken.yml", "scrape_configs:\n  - job_name: b\n    foo: 1\n");
  const std::string bad = Write("bad.yml", "scrape_config_files: [good.yml, broken.yml]\n");
  std::ostringstream out2, err2;
  EXPECT_EQ(RunCheckConfig({bad}, out2, err2), 1);
  EXPECT_NE(err2.str().find("  FAILED: error loading scrape configs: \"" + broken +
                            "\": line 3, column 5: field foo not found in scrape config"),
            std::string::npos)
      << err2.str();
}

TEST_F(CheckConfigTest, RuleFiles_AreCountedAndChecked) {
  Write("r.yml",
        "groups:\n  - name: g\n    rules:\n      - record: job:up:sum\n        expr: sum(up)\n"
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

TEST_F(CheckConfigTest, CheckRules_ErrorsNamePositionGroupRuleIndexAndName) {
  // A stand-in for the PromQL parser: only "sum(" is bad.
  const ExprChecker check = [](const std::string& expr) {
    return expr == "sum(" ? Status::InvalidArgument("1:5: parse error: unclosed left parenthesis")
                          : Status::OK();
  };
  struct Case {
    const char* yaml;
    const char* error;
  };
  for (const Case& c : {
           Case{"groups:\n  - name: x\n    rules:\n      - record: bad name\n        expr: up\n",
                "4:17: group \"x\", rule 1, \"bad name\": invalid recording rule name: bad name"},
           Case{"groups:\n  - name: x\n    rules:\n      - record: ok\n        expr: up\n"
                "      - alert: A\n        expr: sum(\n",
                "7:15: group \"x\", rule 2, \"A\": could not parse expression: 1:5: parse error: "
                "unclosed left parenthesis"},
           Case{"groups:\n  - name: x\n    rules:\n      - expr: up\n",
                "0:0: group \"x\", rule 1, \"\": one of 'record' or 'alert' must be set"},
           // Group and rule names as %q (promtool 2.42), the name in the problem as it is.
           Case{"groups:\n  - name: \"x\\ty\"\n    rules:\n      - record: \"bad\\tname\"\n"
                "        expr: up\n",
                "4:17: group \"x\\ty\", rule 1, \"bad\\tname\": invalid recording rule name: "
                "bad\tname"},
           // promtool 2.42 on the same files (2.48 model/rulefmt/rulefmt.go says the same).
           Case{"groups:\n  - name: x\n    rules:\n      - record: r\n        expr: up\n"
                "        keep_firing_for: 5m\n",
                "4:17: group \"x\", rule 1, \"r\": invalid field 'keep_firing_for' in recording "
                "rule"},
           Case{"groups:\n  - name: x\n    rules:\n      - record: r\n        expr: up\n"
                "        for: 5m\n",
                "4:17: group \"x\", rule 1, \"r\": invalid field 'for' in recording rule"},
           Case{"groups:\n  - name: x\n    rules:\n      - record: r\n        expr: up\n"
                "        annotations: {a: b}\n",
                "4:17: group \"x\", rule 1, \"r\": invalid field 'annotations' in recording rule"},
           Case{"groups:\n  - name: x\n    rules: []\n  - name: x\n    rules: []\n",
                "4:5: groupname: \"x\" is repeated in the same file"},
           Case{"groups:\n  - name: x\n    rules:\n      - record: ok\n        expr: up\n        "
                "foo: 1\n",
                "yaml: unmarshal errors:\n  line 6: field foo not found in type rulefmt.RuleNode"},
       }) {
    const std::string f = Write("r.yml", c.yaml);
    std::ostringstream out, err;
    EXPECT_EQ(RunCheckRules({f}, out, err, check), 1) << c.yaml;
    EXPECT_EQ(out.str(), "Checking " + f + "\n\n");
    EXPECT_EQ(err.str(), "  FAILED:\n" + f + ": " + c.error + "\n") << c.yaml;
  }
}

TEST_F(CheckConfigTest, CheckRules_ValidFileCountsRules) {
  const std::string f =
      Write("ok.yml",
            "groups:\n  - name: x\n    rules:\n      - record: a\n        expr: up\n"
            "      - alert: B\n        expr: up == 0\n        for: 5m\n");
  std::ostringstream out, err;
  EXPECT_EQ(RunCheckRules({f}, out, err), 0);
  EXPECT_EQ(out.str(), "Checking " + f + "\n  SUCCESS: 2 rules found\n\n");
}

}  // namespace
}  // namespace vigil::config
