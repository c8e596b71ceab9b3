#include "scraper/check_config.h"

#include <glob.h>
#include <yaml-cpp/yaml.h>

#include <set>

#include "scraper/config.h"

namespace vigil::scraper {
namespace {

std::vector<std::string> ExpandGlob(const std::string& pattern) {
  std::vector<std::string> out;
  glob_t g{};
  if (glob(pattern.c_str(), 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  }
  globfree(&g);
  return out;
}

Status CheckRule(const YAML::Node& rule, const std::string& group, const ExprChecker& check_expr) {
  const bool record = rule["record"].IsDefined();
  const bool alert = rule["alert"].IsDefined();
  const int line = rule.Mark().line + 1;
  const std::string where = "group \"" + group + "\", rule " + std::to_string(line) + ": ";
  if (record == alert) return Status::InvalidArgument(where + "one of 'record' or 'alert' must be set");
  if (!rule["expr"].IsDefined() || rule["expr"].as<std::string>().empty()) {
    return Status::InvalidArgument(where + "field 'expr' must be set in rule");
  }
  if (record && !IsValidMetricName(rule["record"].as<std::string>())) {
    return Status::InvalidArgument(where + "invalid recording rule name: " + rule["record"].as<std::string>());
  }
  static const std::set<std::string> kFields = {"record", "alert", "expr", "for", "labels",
                                                "annotations", "keep_firing_for"};
  for (const auto& kv : rule) {
    if (!kFields.count(kv.first.as<std::string>())) {
      return Status::InvalidArgument(where + "field " + kv.first.as<std::string>() + " not found in type rulefmt.Rule");
    }
  }
  if (check_expr) {
    Status st = check_expr(rule["expr"].as<std::string>());
    if (!st.ok()) return Status::InvalidArgument(where + "could not parse expression: " + st.message());
  }
  return Status::OK();
}

void PrintFailure(std::ostream& err, const std::string& message) {
  err << "  FAILED: " << message << "\n";
}

}  // namespace

Result<size_t> CheckRuleFile(const std::string& path, const ExprChecker& check_expr) {
  try {
    const YAML::Node root = YAML::LoadFile(path);
    size_t count = 0;
    std::set<std::string> names;
    for (const auto& group : root["groups"]) {
      const std::string name = group["name"].as<std::string>("");
      if (name.empty()) return Status::InvalidArgument(path + ": group name must not be empty");
      if (!names.insert(name).second) {
        return Status::InvalidArgument(path + ": " + name + ": groupname must be unique");
      }
      for (const auto& rule : group["rules"]) {
        Status st = CheckRule(rule, name, check_expr);
        if (!st.ok()) return Status::InvalidArgument(path + ": " + st.message());
        ++count;
      }
    }
    return count;
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(path + ": " + e.what());
  }
}

int RunCheckConfig(const std::vector<std::string>& files, std::ostream& out, std::ostream& err,
                   const ExprChecker& check_expr) {
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
    std::vector<std::string> rule_files;
    for (const std::string& pattern : config->rule_files) {
      for (std::string& f : ExpandGlob(pattern)) rule_files.push_back(std::move(f));
    }
    if (!config->rule_files.empty()) {
      out << "  SUCCESS: " << rule_files.size() << " rule files found\n";
    }
    out << " SUCCESS: " << file << " is valid prometheus config file syntax\n\n";
    for (const std::string& rf : rule_files) {
      out << "Checking " << rf << "\n";
      auto n = CheckRuleFile(rf, check_expr);
      if (!n.ok()) {
        PrintFailure(err, n.status().message());
        failed = true;
      } else {
        out << "  SUCCESS: " << *n << " rules found\n";
      }
      out << "\n";
    }
  }
  return failed ? 1 : 0;
}

}  // namespace vigil::scraper
