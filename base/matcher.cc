#include "base/matcher.h"

#include <re2/re2.h>

namespace vigil {

const char* MatchTypeString(MatchType type) {
  switch (type) {
    case MatchType::kEqual: return "=";
    case MatchType::kNotEqual: return "!=";
    case MatchType::kRegexMatch: return "=~";
    case MatchType::kRegexNoMatch: return "!~";
  }
  return "?";
}

LabelMatcher::LabelMatcher(MatchType type, std::string name, std::string value,
                           std::shared_ptr<const re2::RE2> re)
    : type_(type), name_(std::move(name)), value_(std::move(value)), re_(std::move(re)) {}

Result<LabelMatcher> LabelMatcher::Make(MatchType type, std::string name, std::string value) {
  std::shared_ptr<const re2::RE2> re;
  if (type == MatchType::kRegexMatch || type == MatchType::kRegexNoMatch) {
    re2::RE2::Options opts;
    opts.set_log_errors(false);
    opts.set_dot_nl(true);  // Prometheus compiles label regexes with (?s)
    auto compiled = std::make_shared<re2::RE2>("^(?:" + value + ")$", opts);
    if (!compiled->ok()) {
      return Status::InvalidArgument("error parsing regexp: " + compiled->error());
    }
    re = std::move(compiled);
  }
  return LabelMatcher(type, std::move(name), std::move(value), std::move(re));
}

bool LabelMatcher::Matches(std::string_view value) const {
  switch (type_) {
    case MatchType::kEqual: return value == value_;
    case MatchType::kNotEqual: return value != value_;
    case MatchType::kRegexMatch: return re2::RE2::FullMatch(value, *re_);
    case MatchType::kRegexNoMatch: return !re2::RE2::FullMatch(value, *re_);
  }
  return false;
}

std::string LabelMatcher::ToString() const {
  return name_ + MatchTypeString(type_) + "\"" + EscapeLabelValue(value_) + "\"";
}

bool MatchesAll(const LabelMatchers& matchers, const Labels& labels) {
  for (const auto& m : matchers) {
    if (!m.Matches(labels)) return false;
  }
  return true;
}

Status ValidateSelectorMatchers(const LabelMatchers& matchers) {
  for (const auto& m : matchers) {
    if (!m.MatchesEmpty()) return Status::OK();
  }
  return Status::InvalidArgument("vector selector must contain at least one non-empty matcher");
}

}  // namespace vigil
