// libFuzzer target for what a rule file brings in: the input is loaded as a
// rule file (every alerting rule's templates are then expanded with hostile
// label values), expanded as one template, and used as a printf format. Any
// input must load or fail with an error, and expansion must stay within its
// output limit and produce valid UTF-8.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/utf8.h"
#include "rules/alert_template.h"
#include "rules/go_format.h"
#include "rules/rule_file.h"

namespace {

using vigil::rules::AlertTemplateData;

void Expand(std::string_view text, const AlertTemplateData& data) {
  const std::string out = vigil::rules::ExpandAlertTemplate(text, data);
  // The limit plus one action's worth of overshoot and the error wrapper.
  if (out.size() > 4 * vigil::rules::kMaxTemplateOutput) std::abort();
  if (!vigil::IsValidUtf8(out)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  static const vigil::Labels labels{{"__name__", "up"},
                                    {"instance", "h\xC3\xA9:9100"},
                                    {"job", "a\xff\xfe"},
                                    {"severity", "%s%n%d"}};
  static const vigil::Labels external{{"cluster", "eu"}};
  const AlertTemplateData values{&labels, &external, "http://vigil:9090", 1e300, "Fuzz"};

  auto groups = vigil::rules::ParseRuleFile(input, "fuzz.yml", 15'000);
  if (groups.ok()) {
    for (const auto& group : *groups) {
      for (const auto& rule : group.rules) {
        if (rule.kind != vigil::rules::RuleKind::kAlerting) continue;
        for (const auto& l : rule.labels) Expand(l.value, values);
        for (const auto& a : rule.annotations) Expand(a.value, values);
      }
    }
  }
  (void)vigil::rules::CheckAlertTemplate(input, "Fuzz");
  Expand(input, values);
  const vigil::rules::GoValue args[] = {std::string("a\xff"), -0.0, int64_t{-7}, true,
                                        vigil::rules::GoNil{}};
  (void)vigil::rules::GoSprintf(input, args);
  return 0;
}
