// scrape_config_files (Prometheus 2.43): the cases of Prometheus 2.48's
// config/config_test.go (TestGetScrapeConfigs, TestBadConfigs) on its own test
// files (tests/config/testdata/prometheus-2.48/, see README.md there), then
// what those cases leave implicit: globals inherited by the files' jobs, paths
// resolved against each file's directory, files that hold more than scrape_configs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "config/config.h"
#include "tests/support/test_dirs_and_ports.h"

namespace vigil::config {
namespace {

namespace fs = std::filesystem;

const fs::path kData = fs::path(VIGIL_SOURCE_DIR) / "tests/config/testdata/prometheus-2.48";

std::string Abs(const std::string& name) { return (kData / name).lexically_normal().string(); }

std::vector<std::string> JobNames(const Config& c) {
  std::vector<std::string> names;
  for (const ScrapeConfig& s : c.scrape_configs) names.push_back(s.job_name);
  return names;
}

std::string LoadError(const fs::path& file) {
  auto c = LoadConfigFile(file.string());
  return c.ok() ? "loaded" : c.status().message();
}

void Write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

TEST(ScrapeConfigFiles, FileOnly_GivesItsJobWithGlobalDefaults) {
  auto c = LoadConfigFile(Abs("scrape_config_files_only.good.yml"));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(JobNames(*c), std::vector<std::string>{"prometheus"});
  EXPECT_EQ(c->scrape_configs[0].scrape_interval_ms, 60'000);
  EXPECT_EQ(c->scrape_configs[0].scrape_timeout_ms, 10'000);
  EXPECT_EQ(c->scrape_configs[0].source_file, Abs("scrape_config_files.good.yml"));
  EXPECT_EQ(c->scrape_config_files, std::vector<std::string>{Abs("scrape_config_files.good.yml")});
}

TEST(ScrapeConfigFiles, Combined_MainFileJobsComeFirstThenFilesInOrder) {
  auto c = LoadConfigFile(Abs("scrape_config_files_combined.good.yml"));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(JobNames(*c), (std::vector<std::string>{"node", "prometheus", "alertmanager"}));
  EXPECT_EQ(c->scrape_configs[0].source_file, "");
}

TEST(ScrapeConfigFiles, Glob_ReadsEveryMatchAndRefusesWhatVigilDoesNotSupport) {
  // scrape_configs/scrape_config_files2.good.yml uses vultr_sd_configs, which
  // Vigil refuses; the error names the file as promtool does.
  const std::string err = LoadError(Abs("scrape_config_files_glob.good.yml"));
  EXPECT_NE(err.find("error loading scrape configs: \"" +
                     Abs("scrape_configs/scrape_config_files2.good.yml") + "\": line 7"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("field vultr_sd_configs not found in scrape config"), std::string::npos)
      << err;
}

TEST(ScrapeConfigFiles, SameFileTwice_IsADuplicateJob) {
  const std::string err = LoadError(Abs("scrape_config_files_double_import.bad.yml"));
  EXPECT_NE(
      err.find("found multiple scrape configs with job name \"prometheus\", first found in \"" +
               Abs("scrape_config_files.good.yml") + "\""),
      std::string::npos)
      << err;
}

TEST(ScrapeConfigFiles, JobAlsoInMainFile_IsADuplicateFirstFoundInMainFile) {
  for (const char* file :
       {"scrape_config_files_duplicate.bad.yml", "scrape_config_files_global_duplicate.bad.yml"}) {
    const std::string err = LoadError(Abs(file));
    EXPECT_NE(err.find("found multiple scrape configs with job name \"prometheus\", first found in "
                       "main config file"),
              std::string::npos)
        << file << ": " << err;
  }
}

TEST(ScrapeConfigFiles, InvalidJobInFile_IsAnErrorNamingTheFile) {
  const std::string err = LoadError(Abs("scrape_config_files_global.bad.yml"));
  EXPECT_NE(err.find("\"" + Abs("scrape_config_files.bad.yml") + "\": "), std::string::npos) << err;
  EXPECT_NE(err.find("scrape timeout greater than scrape interval for scrape config with job name "
                     "\"prometheus\""),
            std::string::npos)
      << err;
}

TEST(ScrapeConfigFiles, StarBeforeLastPathElement_IsAnInvalidPath) {
  const std::string err = LoadError(Abs("scrape_config_files_glob.bad.yml"));
  EXPECT_NE(err.find("parsing YAML file " + Abs("scrape_config_files_glob.bad.yml")),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("invalid scrape config file path \"scrape_configs/*/*\""), std::string::npos)
      << err;
}

TEST(ScrapeConfigFiles, FileJobs_InheritGlobalsAndResolvePathsAgainstTheirFile) {
  test_support::TempDir dir;
  Write(dir.path() / "prometheus.yml",
        "global:\n  scrape_interval: 15s\n  sample_limit: 100\n  keep_dropped_targets: 7\n"
        "scrape_config_files: [jobs/*.yml]\n");
  Write(dir.path() / "jobs/a.yml",
        "scrape_configs:\n  - job_name: a\n    sample_limit: 5\n"
        "    tls_config: {cert_file: ../c.pem, key_file: k.pem}\n"
        "    file_sd_configs: [{files: [sd/*.json]}]\n");
  Write(dir.path() / "jobs/b.yml", "scrape_configs:\n  - job_name: b\n");
  Write(dir.path() / "jobs/ignored.yaml", "this is not matched by the glob: [\n");
  auto c = LoadConfigFile((dir.path() / "prometheus.yml").string());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(JobNames(*c), (std::vector<std::string>{"a", "b"}));
  const ScrapeConfig& a = c->scrape_configs[0];
  const ScrapeConfig& b = c->scrape_configs[1];
  EXPECT_EQ(a.scrape_interval_ms, 15'000);
  EXPECT_EQ(a.sample_limit, 5);
  EXPECT_EQ(b.sample_limit, 100);
  EXPECT_EQ(b.keep_dropped_targets, 7);
  EXPECT_EQ(a.http.tls_config.cert_file, (dir.path() / "c.pem").string());
  EXPECT_EQ(a.http.tls_config.key_file, (dir.path() / "jobs/k.pem").string());
  EXPECT_EQ(a.file_sd_configs.at(0).files.at(0), (dir.path() / "jobs/sd/*.json").string());
}

TEST(ScrapeConfigFiles, FileWithOtherSections_IsRefused) {
  test_support::TempDir dir;
  Write(dir.path() / "p.yml", "scrape_config_files: [more.yml]\n");
  Write(dir.path() / "more.yml", "global:\n  scrape_interval: 1s\nscrape_configs: []\n");
  const std::string err = LoadError(dir.path() / "p.yml");
  EXPECT_NE(err.find("line 1, column 1: field global not found in scrape config file"),
            std::string::npos)
      << err;
}

TEST(ScrapeConfigFiles, GlobMatchingADirectoryOrDevice_IsAnError) {
  test_support::TempDir dir;
  fs::create_directories(dir.path() / "jobs.d");
  Write(dir.path() / "p.yml", "scrape_config_files: [jobs.*]\n");
  EXPECT_NE(LoadError(dir.path() / "p.yml").find("jobs.d: not a regular file"), std::string::npos);
  Write(dir.path() / "q.yml", "scrape_config_files: [/dev/zero]\n");
  EXPECT_NE(LoadError(dir.path() / "q.yml").find("/dev/zero: not a regular file"),
            std::string::npos);
}

TEST(ScrapeConfigFiles, GlobMatchingNothing_AddsNoJobs) {
  test_support::TempDir dir;
  Write(dir.path() / "p.yml", "scrape_config_files: [none/*.yml, absent.yml]\n");
  auto c = LoadConfigFile((dir.path() / "p.yml").string());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->scrape_configs.empty());
}

TEST(ScrapeConfigFiles, ConfigToYaml_ShowsTheGlobsNotTheFilesJobs) {
  auto c = LoadConfigFile(Abs("scrape_config_files_combined.good.yml"));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const std::string yaml = ConfigToYaml(*c);
  EXPECT_NE(yaml.find("scrape_config_files:\n  - " + Abs("scrape_config_files.good.yml")),
            std::string::npos)
      << yaml;
  EXPECT_NE(yaml.find("job_name: node"), std::string::npos) << yaml;
  EXPECT_EQ(yaml.find("job_name: prometheus"), std::string::npos) << yaml;
}

// Prometheus 2.45 config_test.go (conf.good.yml): global limits are the
// defaults of every job; a job's own limit wins; 0 (unset) inherits.
TEST(GlobalScrapeLimits, JobsInheritUnsetLimitsAndOverrideSetOnes) {
  auto c = LoadConfigString(
      "global:\n  body_size_limit: 15MB\n  sample_limit: 1500\n  target_limit: 30\n"
      "  label_limit: 30\n  label_name_length_limit: 200\n  label_value_length_limit: 200\n"
      "  keep_dropped_targets: 10\n"
      "scrape_configs:\n"
      "  - job_name: inherits\n    sample_limit: 0\n"
      "  - job_name: overrides\n    body_size_limit: 10MB\n    sample_limit: 1000\n"
      "    target_limit: 35\n    label_limit: 35\n    label_name_length_limit: 210\n"
      "    label_value_length_limit: 210\n    keep_dropped_targets: 3\n",
      "/etc/p.yml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const ScrapeConfig& in = c->scrape_configs[0];
  EXPECT_EQ(in.body_size_limit, 15 * 1024 * 1024);
  EXPECT_EQ(in.sample_limit, 1500);
  EXPECT_EQ(in.target_limit, 30);
  EXPECT_EQ(in.label_limit, 30);
  EXPECT_EQ(in.label_name_length_limit, 200);
  EXPECT_EQ(in.label_value_length_limit, 200);
  EXPECT_EQ(in.keep_dropped_targets, 10);
  const ScrapeConfig& over = c->scrape_configs[1];
  EXPECT_EQ(over.body_size_limit, 10 * 1024 * 1024);
  EXPECT_EQ(over.sample_limit, 1000);
  EXPECT_EQ(over.target_limit, 35);
  EXPECT_EQ(over.label_limit, 35);
  EXPECT_EQ(over.label_name_length_limit, 210);
  EXPECT_EQ(over.label_value_length_limit, 210);
  EXPECT_EQ(over.keep_dropped_targets, 3);
  const std::string yaml = ConfigToYaml(*c);
  EXPECT_NE(yaml.find("  keep_dropped_targets: 10\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("    keep_dropped_targets: 3\n"), std::string::npos) << yaml;
}

TEST(GlobalScrapeLimits, NegativeKeepDroppedTargets_IsAnError) {
  auto c = LoadConfigString("global:\n  keep_dropped_targets: -1\n", "/etc/p.yml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("line 2"), std::string::npos) << c.status().ToString();
}

}  // namespace
}  // namespace vigil::config
