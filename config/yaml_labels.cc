#include "config/yaml_labels.h"

#include <algorithm>
#include <string>

#include "base/quote.h"

namespace vigil::config {
namespace {

Status CannotUnmarshal(const YAML::Node& n, const char* into, YAML::Mark* at) {
  *at = n.Mark();
  return Status::InvalidArgument(std::string("cannot unmarshal ") + YamlTag(n) + " into " + into);
}

}  // namespace

const char* YamlTag(const YAML::Node& n) {
  if (n.IsMap()) return "!!map";
  if (n.IsSequence()) return "!!seq";
  return "!!str";
}

Status DecodeLabelMap(const YAML::Node& n, std::vector<Label>* out, YAML::Mark* at) {
  out->clear();
  if (!n || n.IsNull()) return Status::OK();
  if (!n.IsMap()) return CannotUnmarshal(n, "map[string]string", at);
  for (const auto& kv : n) {
    if (!kv.first.IsScalar()) return CannotUnmarshal(kv.first, "string", at);
    if (!kv.second.IsScalar() && !kv.second.IsNull()) return CannotUnmarshal(kv.second, "string", at);
    out->push_back({kv.first.Scalar(), kv.second.IsNull() ? "" : kv.second.Scalar()});
  }
  std::stable_sort(out->begin(), out->end(),
                   [](const Label& a, const Label& b) { return a.name < b.name; });
  const auto repeat = std::adjacent_find(
      out->begin(), out->end(), [](const Label& a, const Label& b) { return a.name == b.name; });
  if (repeat != out->end()) {
    int seen = 0;
    for (const auto& kv : n) {
      if (kv.first.Scalar() == repeat->name && ++seen == 2) *at = kv.first.Mark();
    }
    return Status::InvalidArgument("mapping key " + GoQuote(repeat->name) + " already defined");
  }
  return Status::OK();
}

}  // namespace vigil::config
