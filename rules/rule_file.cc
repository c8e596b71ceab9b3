#include "rules/rule_file.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <string_view>

#include "base/duration.h"
#include "base/quote.h"
#include "base/utf8.h"
#include "config/yaml_labels.h"
#include "rules/alert_template.h"

namespace vigil::rules {
namespace {

// A map of label or annotation names to strings; `what` is "labels" or "annotations".
Result<std::vector<Label>> LabelMap(const YAML::Node& node, const char* what) {
  std::vector<Label> out;
  YAML::Mark at;
  if (Status st = config::DecodeLabelMap(node, &out, &at); !st.ok()) {
    return Status::InvalidArgument(std::string(what) + ": " + st.message());
  }
  return out;
}

// Label and annotation templates must parse, as Prometheus checks on load.
Status CheckTemplates(const RuleSpec& rule) {
  for (const auto& [kind, set] :
       {std::pair{"label", &rule.labels}, {"annotation", &rule.annotations}}) {
    for (const Label& l : *set) {
      if (Status st = CheckAlertTemplate(l.value, rule.name); !st.ok()) {
        return Status::InvalidArgument(std::string(kind) + " " + GoQuote(l.name) + ": " + st.message());
      }
    }
  }
  return Status::OK();
}

Result<int64_t> DurationField(const YAML::Node& node, int64_t fallback) {
  if (!node) return fallback;
  return ParseDuration(node.as<std::string>());
}

// yaml.v3's strict decoding, as Prometheus loads rule files: a field the
// type does not have is an error, e.g. "yaml: unmarshal errors:\n  line 7:
// field bogus not found in type rulefmt.RuleNode".
Status CheckKnownFields(const YAML::Node& node, std::span<const std::string_view> known,
                        std::string_view type) {
  if (!node.IsMap()) return Status::OK();
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>("");
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return Status::InvalidArgument("yaml: unmarshal errors:\n  line " +
                                     std::to_string(kv.first.Mark().line + 1) + ": field " + key +
                                     " not found in type " + std::string(type));
    }
  }
  return Status::OK();
}

// Every map of the file has only the fields of its rulefmt type.
Status CheckAllFieldsKnown(const YAML::Node& root) {
  constexpr std::string_view kFileFields[] = {"groups"};
  VIGIL_RETURN_IF_ERROR(CheckKnownFields(root, kFileFields, "rulefmt.RuleGroups"));
  if (!root.IsMap() || !root["groups"].IsSequence()) return Status::OK();
  for (const auto& g : root["groups"]) {
    VIGIL_RETURN_IF_ERROR(CheckKnownFields(g, RuleGroupFields(), "rulefmt.RuleGroup"));
    if (!g.IsMap() || !g["rules"].IsSequence()) continue;
    for (const auto& r : g["rules"]) {
      VIGIL_RETURN_IF_ERROR(CheckKnownFields(r, RuleNodeFields(), "rulefmt.RuleNode"));
    }
  }
  return Status::OK();
}

// Fields only alerting rules have, refused on recording rules as rulefmt does.
Status CheckRecordingRuleFields(const RuleSpec& rule) {
  const char* field = !rule.annotations.empty()      ? "annotations"
                      : rule.for_ms != 0             ? "for"
                      : rule.keep_firing_for_ms != 0 ? "keep_firing_for"
                                                     : nullptr;
  if (field == nullptr) return Status::OK();
  return Status::InvalidArgument(std::string("invalid field '") + field + "' in recording rule");
}

Result<RuleSpec> ParseRule(const YAML::Node& node) {
  RuleSpec rule;
  if (!node.IsMap()) return Status::InvalidArgument("rule must be a map");
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
  auto keep_firing_for_ms = DurationField(node["keep_firing_for"], 0);
  if (!keep_firing_for_ms.ok()) return keep_firing_for_ms.status();
  rule.keep_firing_for_ms = *keep_firing_for_ms;
  auto labels = LabelMap(node["labels"], "labels");
  if (!labels.ok()) return labels.status();
  rule.labels = std::move(labels).value();
  auto annotations = LabelMap(node["annotations"], "annotations");
  if (!annotations.ok()) return annotations.status();
  rule.annotations = std::move(annotations).value();
  if (record) VIGIL_RETURN_IF_ERROR(CheckRecordingRuleFields(rule));
  if (rule.kind == RuleKind::kAlerting) VIGIL_RETURN_IF_ERROR(CheckTemplates(rule));
  return rule;
}

Result<GroupSpec> ParseGroup(const YAML::Node& node, const std::string& file,
                             int64_t default_interval_ms) {
  GroupSpec group;
  if (!node.IsMap()) return Status::InvalidArgument("group must be a map");
  group.file = file;
  group.name = node["name"].as<std::string>("");
  if (group.name.empty()) return Status::InvalidArgument("group name must not be empty");
  auto interval = DurationField(node["interval"], default_interval_ms);
  if (!interval.ok()) return interval.status();
  group.interval_ms = *interval > 0 ? *interval : default_interval_ms;
  group.limit = node["limit"] ? node["limit"].as<int64_t>() : 0;  // a bad limit throws
  if (node["rules"] && !node["rules"].IsSequence() && !node["rules"].IsNull()) {
    return Status::InvalidArgument("group \"" + group.name + "\": rules must be a list");
  }
  for (const auto& r : node["rules"]) {
    auto rule = ParseRule(r);
    if (!rule.ok()) {
      const std::string name =
          r.IsMap() ? r[r["record"] ? "record" : "alert"].as<std::string>("") : "";
      return Status::InvalidArgument("group \"" + group.name + "\", rule " +
                                     std::to_string(group.rules.size() + 1) + ", \"" + name +
                                     "\": " + rule.status().message());
    }
    group.rules.push_back(std::move(rule).value());
  }
  return group;
}

// True if `yaml` nests flow collections ([...] and {...}) deeper than
// kMaxFlowDepth. yaml-cpp refuses deep nesting itself, but only after
// scanning all of it, which takes minutes for a few MiB of "[[[[".
bool FlowNestingTooDeep(std::string_view yaml) {
  constexpr int kMaxFlowDepth = 500;
  int depth = 0;
  char quote = 0;
  char prev = '\n';
  for (size_t i = 0; i < yaml.size(); prev = yaml[i++]) {
    const char c = yaml[i];
    if (quote != 0) {
      if (c == '\\' && quote == '"') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
      continue;
    }
    const bool after_separator = std::string_view(" \t\n:[{,").find(prev) != std::string_view::npos;
    if ((c == '"' || c == '\'') && after_separator) {
      quote = c;
    } else if (c == '#' && (prev == ' ' || prev == '\n')) {
      const size_t eol = yaml.find('\n', i);
      if (eol == std::string_view::npos) break;
      i = eol - 1;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxFlowDepth) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

}  // namespace

std::span<const std::string_view> RuleGroupFields() {
  static constexpr std::string_view kFields[] = {"name", "interval", "limit", "rules"};
  return kFields;
}

std::span<const std::string_view> RuleNodeFields() {
  static constexpr std::string_view kFields[] = {"record",          "alert",  "expr",       "for",
                                                 "keep_firing_for", "labels", "annotations"};
  return kFields;
}

Result<std::vector<GroupSpec>> ParseRuleFile(const std::string& yaml, const std::string& file,
                                             int64_t default_interval_ms) {
  std::vector<GroupSpec> groups;
  if (!IsValidUtf8(yaml)) {  // as yaml.v3 refuses it; names become label values
    return Status::InvalidArgument(file + ": yaml: invalid UTF-8");
  }
  if (FlowNestingTooDeep(yaml)) {
    return Status::InvalidArgument(file + ": YAML nested deeper than 500 levels");
  }
  try {
    const YAML::Node root = YAML::Load(yaml);
    if (!root.IsMap() && !root.IsNull()) {
      return Status::InvalidArgument(file + ": a rule file is a map with a 'groups' list");
    }
    if (root["groups"] && !root["groups"].IsSequence() && !root["groups"].IsNull()) {
      return Status::InvalidArgument(file + ": groups must be a list");
    }
    if (Status st = CheckAllFieldsKnown(root); !st.ok()) {
      return Status::InvalidArgument(file + ": " + st.message());
    }
    std::set<std::string> names;
    for (const auto& g : root["groups"]) {
      auto group = ParseGroup(g, file, default_interval_ms);
      if (!group.ok()) return Status::InvalidArgument(file + ": " + group.status().message());
      if (!names.insert(group->name).second) {
        return Status::InvalidArgument(file + ": " + group->name + ": groupname must be unique");
      }
      groups.push_back(std::move(group).value());
    }
  } catch (const std::exception& e) {  // YAML::Exception, or a resource limit of yaml-cpp
    return Status::InvalidArgument(file + ": " + e.what());
  }
  return groups;
}

Result<std::vector<GroupSpec>> LoadRuleFiles(const std::vector<std::string>& files,
                                             int64_t default_interval_ms) {
  std::vector<GroupSpec> groups;
  for (const std::string& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return Status::InvalidArgument(file + ": cannot open rule file");
    std::string yaml;
    char chunk[1 << 16];
    while (yaml.size() <= kMaxRuleFileBytes && in.read(chunk, sizeof chunk).gcount() > 0) {
      yaml.append(chunk, static_cast<size_t>(in.gcount()));
    }
    if (yaml.size() > kMaxRuleFileBytes) {
      return Status::InvalidArgument(file + ": rule file is larger than " +
                                     std::to_string(kMaxRuleFileBytes) + " bytes");
    }
    auto parsed = ParseRuleFile(yaml, file, default_interval_ms);
    if (!parsed.ok()) return parsed.status();
    for (GroupSpec& g : *parsed) groups.push_back(std::move(g));
  }
  return groups;
}

}  // namespace vigil::rules
