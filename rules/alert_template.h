// Alerting-rule label and annotation templates: Go text/template as
// Prometheus uses it. Supported: text, {{ }} actions with Go's lexing (quoted,
// raw and char literals, numbers, comments, {{- -}} trimming), pipelines,
// parenthesized pipelines, $x := declarations, if / else if / else / with /
// range (over label maps) / end, $labels/.Labels, $externalLabels/
// .ExternalLabels, $externalURL/.ExternalURL, $value/.Value, and the
// functions of rules/template_functions.h (printf with Go's fmt, humanize*,
// comparisons, and/or/not, ...). Not supported: define, template, block,
// break, continue and some of Prometheus's functions (query, match, ...):
// they load, as in Prometheus, and expand to the error text.
//
// Hostile input is bounded: parenthesized pipelines nest at most
// kMaxTemplateDepth deep and one expansion writes at most kMaxTemplateOutput
// bytes; output that is not valid UTF-8 has the bad bytes replaced by U+FFFD
// (what Go's JSON encoder does with them).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/labels.h"
#include "base/status.h"

namespace vigil::rules {

inline constexpr int kMaxTemplateDepth = 100;
inline constexpr size_t kMaxTemplateOutput = 1 << 20;

struct AlertTemplateData {
  const Labels* labels = nullptr;
  const Labels* external_labels = nullptr;
  std::string external_url;
  double value = 0;
  std::string alert_name;  // names the template in errors: "__alert_<name>"
};

// The expanded text, or Prometheus's "<error expanding template: ...>".
std::string ExpandAlertTemplate(std::string_view text, const AlertTemplateData& data);

// What Prometheus checks when it loads a rule file: syntax, defined functions
// and variables. The error reads "template: __alert_<name>:<line>: <what>".
Status CheckAlertTemplate(std::string_view text, std::string_view alert_name);

}  // namespace vigil::rules
