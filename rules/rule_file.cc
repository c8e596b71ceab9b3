#include "rules/rule_file.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>

#include "storage/duration.h"

namespace vigil::rules {
namespace {

std::vector<Label> LabelMap(const YAML::Node& node) {
  std::vector<Label> out;
  if (!node || !node.IsMap()) return out;
  for (const auto& kv : node)
    out.push_back({kv.first.as<std::string>(), kv.second.as<std::string>("")});
  std::sort(out.begin(), out.end(), [](const Label& a, const Label& b) { return a.name < b.name; });
  return out;
}

Result<int64_t> DurationField(const YAML::Node& node, int64_t fallback) {
  if (!node) return fallback;
  return ParseDuration(node.as<std::string>());
}

Result<RuleSpec> ParseRule(const YAML::Node& node) {
  RuleSpec rule;
  const bool record = static_cast<bool>(node["record"]);
  rule.kind = record ? RuleKind::kRecording : RuleKind::kAlerting;
  rule.name = node[record ? "record" : "alert"].as<std::string>("");
  rule.expr = node["expr"].as<std::string>("");
  if (rule.name.empty() || rule.expr.empty()) {
    return Status::InvalidArgument("rule needs 'record' or 'alert', and 'expr'");
  }
  auto for_ms = DurationField(node["for"], 0);
  if (!for_ms.ok()) return for_ms.status();
  rule.for_ms = *for_ms;
  rule.labels = LabelMap(node["labels"]);
  rule.annotations = LabelMap(node["annotations"]);
  return rule;
}

Result<GroupSpec> ParseGroup(const YAML::Node& node, const std::string& file,
                             int64_t default_interval_ms) {
  GroupSpec group;
  group.file = file;
  group.name = node["name"].as<std::string>("");
  if (group.name.empty()) return Status::InvalidArgument("group name must not be empty");
  auto interval = DurationField(node["interval"], default_interval_ms);
  if (!interval.ok()) return interval.status();
  group.interval_ms = *interval > 0 ? *interval : default_interval_ms;
  group.limit = node["limit"].as<int64_t>(0);
  for (const auto& r : node["rules"]) {
    auto rule = ParseRule(r);
    if (!rule.ok()) {
      return Status::InvalidArgument("group \"" + group.name + "\": " + rule.status().message());
    }
    group.rules.push_back(std::move(rule).value());
  }
  return group;
}

}  // namespace

Result<std::vector<GroupSpec>> LoadRuleFiles(const std::vector<std::string>& files,
                                             int64_t default_interval_ms) {
  std::vector<GroupSpec> groups;
  for (const std::string& file : files) {
    try {
      const YAML::Node root = YAML::LoadFile(file);
      std::set<std::string> names;
      for (const auto& g : root["groups"]) {
        auto group = ParseGroup(g, file, default_interval_ms);
        if (!group.ok()) return Status::InvalidArgument(file + ": " + group.status().message());
        if (!names.insert(group->name).second) {
          return Status::InvalidArgument(file + ": " + group->name + ": groupname must be unique");
        }
        groups.push_back(std::move(group).value());
      }
    } catch (const YAML::Exception& e) {
      return Status::InvalidArgument(file + ": " + e.what());
    }
  }
  return groups;
}

}  // namespace vigil::rules
