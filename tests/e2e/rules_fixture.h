// RuleServer: what the rule end-to-end tests share. A real vigil evaluating
// one rule file every second against one target it scrapes (job "node",
// body "m 1") every second, so `up{job="node"}` is 1 within a second or two.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tests/e2e/metrics_target.h"
#include "tests/e2e/vigil_process.h"

namespace vigil::e2e {

// Extra configuration for RuleServer.
struct RuleServerOptions {
  std::string global_extra;  // more lines of `global:`, each indented two spaces
  std::string sections;      // more top-level sections (e.g. `alerting:`)
  std::vector<std::string> flags = {"--web.enable-lifecycle"};
};

class RuleServer {
 public:
  // Writes `rules_yaml` to rules.yml and starts vigil (not waiting until ready).
  explicit RuleServer(const std::string& rules_yaml, RuleServerOptions options = {});

  const std::filesystem::path& rules_file() const { return rules_file_; }
  const MetricsTarget& target() const { return target_; }
  MetricsTarget& target() { return target_; }
  VigilProcess& vigil() { return *vigil_; }

 private:
  TempDir dir_;
  std::filesystem::path rules_file_;
  MetricsTarget target_{"m 1\n"};
  std::optional<VigilProcess> vigil_;
};

// The `data` of the API's answer to GET `path`, or null when it is not JSON.
nlohmann::json ApiData(const VigilProcess& vigil, const std::string& path);

}  // namespace vigil::e2e
