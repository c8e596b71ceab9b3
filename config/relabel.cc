#include "config/relabel.h"

#include <openssl/evp.h>
#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "base/quote.h"
#include "base/regex_template.h"

namespace vigil::config {
namespace {

struct ActionName {
  RelabelAction action;
  std::string_view name;
};

constexpr std::array<ActionName, 11> kActionNames = {{
    {RelabelAction::kReplace, "replace"},
    {RelabelAction::kKeep, "keep"},
    {RelabelAction::kDrop, "drop"},
    {RelabelAction::kKeepEqual, "keepequal"},
    {RelabelAction::kDropEqual, "dropequal"},
    {RelabelAction::kHashMod, "hashmod"},
    {RelabelAction::kLabelMap, "labelmap"},
    {RelabelAction::kLabelDrop, "labeldrop"},
    {RelabelAction::kLabelKeep, "labelkeep"},
    {RelabelAction::kLowercase, "lowercase"},
    {RelabelAction::kUppercase, "uppercase"},
}};

// Prometheus's relabelTarget: `^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$`, i.e.
// a label name that may contain $1 / ${name} references.
bool IsValidTemplateLabelName(std::string_view s) {
  static const re2::RE2 kRe(R"(^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$)");
  return re2::RE2::FullMatch(s, kRe);
}

Status Invalid(std::string message) { return Status::InvalidArgument(std::move(message)); }

// Matches `value` against the anchored regex; `groups` gets every submatch.
bool MatchGroups(const re2::RE2& re, std::string_view value, std::vector<re2::StringPiece>& groups) {
  groups.resize(re.NumberOfCapturingGroups() + 1);
  return re.Match(value, 0, value.size(), re2::RE2::UNANCHORED, groups.data(),
                  static_cast<int>(groups.size()));
}

// The hashmod hash: the big-endian uint64 of the last 8 bytes of md5(value).
uint64_t HashMod(std::string_view value, uint64_t modulus) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  EVP_Digest(value.data(), value.size(), digest.data(), &len, EVP_md5(), nullptr);
  uint64_t h = 0;
  for (int i = 8; i < 16; ++i) h = (h << 8) | digest[i];
  return h % modulus;
}

std::string JoinSourceValues(const Labels& labels, const RelabelConfig& cfg) {
  std::string out;
  for (size_t i = 0; i < cfg.source_labels.size(); ++i) {
    if (i > 0) out += cfg.separator;
    out += labels.Get(cfg.source_labels[i]);
  }
  return out;
}

std::string MapCase(std::string value, int (*fn)(int)) {
  for (char& c : value) c = static_cast<char>(fn(static_cast<unsigned char>(c)));
  return value;
}

void ApplyReplace(const RelabelConfig& cfg, const std::string& value, LabelsBuilder& lb) {
  std::vector<re2::StringPiece> groups;
  if (!MatchGroups(*cfg.compiled, value, groups)) return;
  const std::string target = ExpandRegexTemplate(cfg.target_label, *cfg.compiled, groups);
  if (!IsValidLabelName(target)) {
    lb.Del(cfg.target_label);  // Prometheus 2.42 deletes the unexpanded name here
    return;
  }
  const std::string result = ExpandRegexTemplate(cfg.replacement, *cfg.compiled, groups);
  if (result.empty()) {
    lb.Del(target);
    return;
  }
  lb.Set(target, result);
}

void ApplyLabelMap(const RelabelConfig& cfg, const Labels& labels, LabelsBuilder& lb) {
  std::vector<re2::StringPiece> groups;
  for (const Label& l : labels) {
    if (MatchGroups(*cfg.compiled, l.name, groups)) {
      lb.Set(ExpandRegexTemplate(cfg.replacement, *cfg.compiled, groups), l.value);
    }
  }
}

// One step; false when the set is dropped.
bool ApplyOne(const RelabelConfig& cfg, const Labels& labels, LabelsBuilder& lb) {
  const std::string value = JoinSourceValues(labels, cfg);
  const re2::RE2& re = *cfg.compiled;
  switch (cfg.action) {
    case RelabelAction::kDrop:
      return !re2::RE2::FullMatch(value, re);
    case RelabelAction::kKeep:
      return re2::RE2::FullMatch(value, re);
    case RelabelAction::kDropEqual:
      return labels.Get(cfg.target_label) != value;
    case RelabelAction::kKeepEqual:
      return labels.Get(cfg.target_label) == value;
    case RelabelAction::kReplace:
      ApplyReplace(cfg, value, lb);
      return true;
    case RelabelAction::kLowercase:
      lb.Set(cfg.target_label, MapCase(value, ::tolower));
      return true;
    case RelabelAction::kUppercase:
      lb.Set(cfg.target_label, MapCase(value, ::toupper));
      return true;
    case RelabelAction::kHashMod:
      lb.Set(cfg.target_label, std::to_string(HashMod(value, cfg.modulus)));
      return true;
    case RelabelAction::kLabelMap:
      ApplyLabelMap(cfg, labels, lb);
      return true;
    case RelabelAction::kLabelDrop:
    case RelabelAction::kLabelKeep: {
      const bool keep_matching = cfg.action == RelabelAction::kLabelKeep;
      for (const Label& l : labels) {
        if (re2::RE2::FullMatch(l.name, re) != keep_matching) lb.Del(l.name);
      }
      return true;
    }
  }
  return true;
}

bool HasOnlyRegex(const RelabelConfig& c) {
  return c.source_labels.empty() && c.separator == ";" && c.target_label.empty() &&
         c.modulus == 0 && c.replacement == "$1";
}

bool HasOnlySourceAndTarget(const RelabelConfig& c) {
  return c.regex == kDefaultRelabelRegex && c.modulus == 0 && c.separator == ";" &&
         c.replacement == "$1";
}

Status ValidateFields(const RelabelConfig& c) {
  using A = RelabelAction;
  const std::string action(RelabelActionName(c.action));
  const A a = c.action;
  if (a == A::kHashMod && c.modulus == 0) {
    return Invalid("relabel configuration for hashmod requires non-zero modulus");
  }
  const bool needs_target = a == A::kReplace || a == A::kHashMod || a == A::kLowercase ||
                            a == A::kUppercase || a == A::kKeepEqual || a == A::kDropEqual;
  if (needs_target && c.target_label.empty()) {
    return Invalid("relabel configuration for " + action + " action requires 'target_label' value");
  }
  const bool plain_target = a == A::kLowercase || a == A::kUppercase || a == A::kKeepEqual ||
                            a == A::kDropEqual || a == A::kHashMod;
  if ((a == A::kReplace && !IsValidTemplateLabelName(c.target_label)) ||
      (plain_target && !IsValidLabelName(c.target_label))) {
    return Invalid(GoQuote(c.target_label) + " is invalid 'target_label' for " + action + " action");
  }
  if ((a == A::kLowercase || a == A::kUppercase) && c.replacement != "$1") {
    return Invalid("'replacement' can not be set for " + action + " action");
  }
  if (a == A::kLabelMap && !IsValidTemplateLabelName(c.replacement)) {
    return Invalid(GoQuote(c.replacement) + " is invalid 'replacement' for " + action + " action");
  }
  if ((a == A::kKeepEqual || a == A::kDropEqual) && !HasOnlySourceAndTarget(c)) {
    return Invalid(action +
                   " action requires only 'source_labels' and `target_label`, and no other fields");
  }
  if ((a == A::kLabelDrop || a == A::kLabelKeep) && !HasOnlyRegex(c)) {
    return Invalid(action + " action requires only 'regex', and no other fields");
  }
  return Status::OK();
}

}  // namespace

std::string_view RelabelActionName(RelabelAction action) {
  for (const auto& a : kActionNames) {
    if (a.action == action) return a.name;
  }
  return "replace";
}

std::optional<RelabelAction> ParseRelabelAction(std::string_view name) {
  const std::string lower = MapCase(std::string(name), ::tolower);
  for (const auto& a : kActionNames) {
    if (a.name == lower) return a.action;
  }
  return std::nullopt;
}

Status CompileRelabelConfig(RelabelConfig& config) {
  auto re = std::make_shared<re2::RE2>("^(?:" + config.regex + ")$", re2::RE2::Quiet);
  if (!re->ok()) {
    return Invalid("error parsing regexp: " + re->error() + ": `" + config.regex + "`");
  }
  config.compiled = std::move(re);
  return ValidateFields(config);
}

std::optional<Labels> Relabel(const Labels& labels, std::span<const RelabelConfig> configs) {
  Labels current = labels;
  LabelsBuilder lb;
  for (const RelabelConfig& cfg : configs) {
    lb.Reset(current);
    if (!ApplyOne(cfg, current, lb)) return std::nullopt;
    current = lb.Build();
  }
  return current;
}

}  // namespace vigil::config
