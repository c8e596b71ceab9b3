#include "config/check_config.h"

#include <yaml-cpp/yaml.h>

#include <set>

#include "base/duration.h"
#include "base/file_glob.h"
#include "base/quote.h"
#include "config/config.h"

namespace vigil::config {
namespace {

// "L:C: " of a node as Prometheus's rulefmt prints positions (1-based; 0:0
// for a field that is absent).
std::string Position(const YAML::Node& node) {
  if (!node.IsDefined()) return "0:0: ";
  return std::to_string(node.Mark().line + 1) + ":" + std::to_string(node.Mark().column + 1) + ": ";
}

// Unknown keys as yaml.v3's strict decoding reports them.
Status CheckKnownFields(const YAML::Node& node, const std::set<std::string>& known,
                        const char* type) {
  if (!node.IsMap()) return Status::OK();
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    if (!known.count(key)) {
      return Status::InvalidArgument("yaml: unmarshal errors:\n  line " +
                                     std::to_string(kv.first.Mark().line + 1) + ": field " + key +
                                     " not found in type " + type);
    }
  }
  return Status::OK();
}

// Checks rule number `index` (1-based) of `group`; errors read like promtool's:
// `7:15: group "x", rule 2, "A": could not parse expression: ...`.
Status CheckRule(const YAML::Node& rule, const std::string& group, size_t index,
                 const ExprChecker& check_expr, const TemplateChecker& check_template) {
  static const std::set<std::string> kFields = {"record", "alert",       "expr",           "for",
                                                "labels", "annotations", "keep_firing_for"};
  VIGIL_RETURN_IF_ERROR(CheckKnownFields(rule, kFields, "rulefmt.RuleNode"));
  const YAML::Node record = rule["record"];
  const YAML::Node alert = rule["alert"];
  const YAML::Node expr = rule["expr"];
  const std::string name = record.IsDefined()  ? record.as<std::string>("")
                           : alert.IsDefined() ? alert.as<std::string>("")
                                               : "";
  const auto fail = [&](const YAML::Node& at, const std::string& what) {
    return Status::InvalidArgument(Position(at) + "group " + GoQuote(group) + ", rule " +
                                   std::to_string(index) + ", " + GoQuote(name) + ": " + what);
  };
  if (record.IsDefined() == alert.IsDefined()) {
    return fail(YAML::Node(YAML::NodeType::Undefined),
                record.IsDefined() ? "only one of 'record' and 'alert' must be set"
                                   : "one of 'record' or 'alert' must be set");
  }
  if (!expr.IsDefined() || expr.as<std::string>("").empty()) {
    return fail(YAML::Node(YAML::NodeType::Undefined), "field 'expr' must be set in rule");
  }
  if (record.IsDefined()) {
    const YAML::Node annotations = rule["annotations"];
    if (annotations.IsDefined() && annotations.IsMap() && annotations.size() > 0) {
      return fail(record, "invalid field 'annotations' in recording rule");
    }
    for (const char* field : {"for", "keep_firing_for"}) {
      const YAML::Node d = rule[field];
      const auto ms =
          d.IsDefined() && d.IsScalar() ? ParseDuration(d.as<std::string>()) : Result<int64_t>(0);
      if (ms.ok() && *ms != 0) {
        return fail(record, std::string("invalid field '") + field + "' in recording rule");
      }
    }
  }
  if (record.IsDefined() && !IsValidMetricName(name)) {
    return fail(record, "invalid recording rule name: " + name);
  }
  if (check_expr) {
    Status st = check_expr(expr.as<std::string>());
    if (!st.ok()) return fail(expr, "could not parse expression: " + st.message());
  }
  if (!check_template || !alert.IsDefined()) return Status::OK();
  for (const char* kind : {"label", "annotation"}) {
    const YAML::Node set = rule[std::string(kind) + "s"];
    if (!set.IsDefined() || !set.IsMap()) continue;
    for (const auto& kv : set) {
      Status st = check_template(kv.second.as<std::string>(""), name);
      if (!st.ok()) {
        return Status::InvalidArgument("group " + GoQuote(group) + ", rule " +
                                       std::to_string(index) + ", " + GoQuote(name) + ": " + kind +
                                       " " + GoQuote(kv.first.as<std::string>("")) + ": " +
                                       st.message());
      }
    }
  }
  return Status::OK();
}

void PrintFailure(std::ostream& err, const std::string& message) {
  err << "  FAILED: " << message << "\n";
}

}  // namespace

Result<size_t> CheckRuleFile(const std::string& path, const ExprChecker& check_expr,
                             const TemplateChecker& check_template) {
  const auto in_file = [&](const Status& st) {
    return Status::InvalidArgument(path + ": " + st.message());
  };
  try {
    const YAML::Node root = YAML::LoadFile(path);
    if (Status st = CheckKnownFields(root, {"groups"}, "rulefmt.RuleGroups"); !st.ok())
      return in_file(st);
    size_t count = 0;
    std::set<std::string> names;
    for (const auto& group : root["groups"]) {
      if (Status st =
              CheckKnownFields(group, {"name", "interval", "limit", "rules"}, "rulefmt.RuleGroup");
          !st.ok()) {
        return in_file(st);
      }
      const std::string name = group["name"].as<std::string>("");
      if (name.empty())
        return in_file(Status::InvalidArgument(Position(group) + "Groupname must not be empty"));
      if (!names.insert(name).second) {
        // Prometheus writes this one as \"%s\", not %q: no escaping.
        return in_file(Status::InvalidArgument(Position(group) + "groupname: \"" + name +
                                               "\" is repeated in the same file"));
      }
      size_t index = 0;
      for (const auto& rule : group["rules"]) {
        if (Status st = CheckRule(rule, name, ++index, check_expr, check_template); !st.ok()) return in_file(st);
        ++count;
      }
    }
    return count;
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(path + ": " + e.what());
  }
}

int RunCheckRules(const std::vector<std::string>& files, std::ostream& out, std::ostream& err,
                  const ExprChecker& check_expr, const TemplateChecker& check_template) {
  bool failed = false;
  for (const std::string& file : files) {
    out << "Checking " << file << "\n";
    auto n = CheckRuleFile(file, check_expr, check_template);
    if (!n.ok()) {
      err << "  FAILED:\n" << n.status().message() << "\n";
      failed = true;
    } else {
      out << "  SUCCESS: " << *n << " rules found\n";
    }
    out << "\n";
  }
  return failed ? 1 : 0;
}

int RunCheckConfig(const std::vector<std::string>& files, std::ostream& out, std::ostream& err,
                   const ExprChecker& check_expr, const TemplateChecker& check_template) {
  bool failed = false;
  for (const std::string& file : files) {
    out << "Checking " << file << "\n";
    auto config = LoadConfigFile(file);
    if (!config.ok()) {
      PrintFailure(err, config.status().message());
      out << "\n";
      failed = true;
      continue;
    }
    const std::vector<std::string> rule_files = ExpandGlobs(config->rule_files);
    if (!config->rule_files.empty()) {
      out << "  SUCCESS: " << rule_files.size() << " rule files found\n";
    }
    out << " SUCCESS: " << file << " is valid prometheus config file syntax\n\n";
    for (const std::string& rf : rule_files) {
      out << "Checking " << rf << "\n";
      auto n = CheckRuleFile(rf, check_expr, check_template);
      if (!n.ok()) {
        err << "  FAILED:\n     " << n.status().message() << "\n";
        failed = true;
      } else {
        out << "  SUCCESS: " << *n << " rules found\n";
      }
      out << "\n";
    }
  }
  return failed ? 1 : 0;
}

}  // namespace vigil::config
