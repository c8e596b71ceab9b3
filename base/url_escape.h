// URL escaping as Go's net/url: what Prometheus puts into the query strings
// it builds (scrape `params`, Kubernetes label/field selectors, an alert's
// generatorURL).
#pragma once

#include <string>
#include <string_view>

namespace vigil {

// Go's url.QueryEscape: A-Z a-z 0-9 and "-_.~" stay, a space becomes '+',
// every other byte becomes %XX (upper-case hex), so the result is safe
// inside a query component.
std::string QueryEscape(std::string_view s);

}  // namespace vigil
