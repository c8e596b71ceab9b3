// LabelMatcher: one `name op "value"` condition of a series selector.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/labels.h"
#include "base/status.h"

namespace re2 {
class RE2;
}

namespace vigil {

enum class MatchType { kEqual, kNotEqual, kRegexMatch, kRegexNoMatch };

// "=", "!=", "=~" or "!~".
const char* MatchTypeString(MatchType type);

// A label matcher with Prometheus semantics: regexes use RE2 syntax and are
// fully anchored; a label that is absent matches as the empty string.
class LabelMatcher {
 public:
  // Fails with kInvalidArgument when a regex does not compile.
  static Result<LabelMatcher> Make(MatchType type, std::string name, std::string value);

  MatchType type() const { return type_; }
  const std::string& name() const { return name_; }
  const std::string& value() const { return value_; }

  // Whether a label value (empty for an absent label) satisfies the matcher.
  bool Matches(std::string_view value) const;
  // Whether the whole series satisfies the matcher.
  bool Matches(const Labels& labels) const { return Matches(labels.Get(name_)); }
  bool MatchesEmpty() const { return Matches(std::string_view()); }

  // name="value" in PromQL notation.
  std::string ToString() const;

 private:
  LabelMatcher(MatchType type, std::string name, std::string value,
               std::shared_ptr<const re2::RE2> re);

  MatchType type_;
  std::string name_;
  std::string value_;
  std::shared_ptr<const re2::RE2> re_;  // set for regex matchers only
};

using LabelMatchers = std::vector<LabelMatcher>;

// Whether a series satisfies every matcher.
bool MatchesAll(const LabelMatchers& matchers, const Labels& labels);

// Checks that at least one matcher rejects the empty string, as Prometheus
// requires of every selector.
Status ValidateSelectorMatchers(const LabelMatchers& matchers);

}  // namespace vigil
