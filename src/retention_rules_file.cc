#include "src/retention_rules_file.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "promql/engine.h"
#include "base/duration.h"

namespace vigil {
namespace {

Result<storage::RetentionRule> ParseRule(const YAML::Node& node, size_t index) {
  const std::string where = "rule " + std::to_string(index + 1) + ": ";
  if (!node.IsMap())
    return Status::InvalidArgument(where + "must be a map with match and retention");
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    if (key != "match" && key != "retention") {
      return Status::InvalidArgument(where + "unknown field \"" + key + "\"");
    }
  }
  if (!node["match"] || !node["retention"]) {
    return Status::InvalidArgument(where + "needs both match and retention");
  }
  storage::RetentionRule rule;
  rule.selector = node["match"].as<std::string>();
  auto matchers = promql::ParseSeriesSelector(rule.selector);
  if (!matchers.ok()) return Status::InvalidArgument(where + matchers.status().message());
  rule.matchers = std::move(matchers).value();
  auto retention = ParseDuration(node["retention"].as<std::string>());
  if (!retention.ok()) return Status::InvalidArgument(where + retention.status().message());
  if (*retention <= 0) return Status::InvalidArgument(where + "retention must be positive");
  rule.retention_ms = *retention;
  return rule;
}

}  // namespace

Result<std::vector<storage::RetentionRule>> ParseRetentionRules(const std::string& yaml) {
  try {
    const YAML::Node root = YAML::Load(yaml);
    std::vector<storage::RetentionRule> rules;
    if (!root || root.IsNull()) return rules;
    if (!root.IsMap() || !root["rules"] || !root["rules"].IsSequence()) {
      return Status::InvalidArgument("expected a top-level \"rules:\" list");
    }
    const YAML::Node list = root["rules"];
    for (size_t i = 0; i < list.size(); ++i) {
      auto rule = ParseRule(list[i], i);
      if (!rule.ok()) return rule.status();
      rules.push_back(std::move(rule).value());
    }
    return rules;
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(std::string("invalid YAML: ") + e.what());
  }
}

Result<std::vector<storage::RetentionRule>> LoadRetentionRulesFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot read retention rules file " + path);
  std::stringstream text;
  text << in.rdbuf();
  auto rules = ParseRetentionRules(text.str());
  if (!rules.ok()) return Status::InvalidArgument(path + ": " + rules.status().message());
  return rules;
}

}  // namespace vigil
