// Expansion of alerting-rule label and annotation templates: the subset of Go
// text/template that rule files use in practice — {{ $labels.name }},
// {{ $value }}, {{ $externalLabels.name }}, {{ .Labels.name }}, {{ .Value }},
// string literals, and the pipeline functions humanize, humanize1024,
// humanizePercentage, humanizeDuration, printf, toUpper, toLower, with Go's
// number formatting. Anything else expands to Prometheus's
// "<error expanding template: ...>" text.
#pragma once

#include <string>
#include <string_view>

#include "storage/labels.h"

namespace vigil::rules {

struct AlertTemplateData {
  const Labels* labels = nullptr;
  const Labels* external_labels = nullptr;
  std::string external_url;
  double value = 0;
};

std::string ExpandAlertTemplate(std::string_view text, const AlertTemplateData& data);

// Go's %.4g: what the humanize functions print.
std::string GoFormat4g(double v);

}  // namespace vigil::rules
