// Label sets written in YAML, decoded as Go's yaml decodes a
// map[string]string: prometheus.yml's external_labels and target labels, and
// the labels and annotations of rule files.
#pragma once

#include <yaml-cpp/yaml.h>

#include <vector>

#include "base/labels.h"
#include "base/status.h"

namespace vigil::config {

// The YAML tag Go's yaml names a node by in "cannot unmarshal" errors:
// "!!map", "!!seq" or "!!str".
const char* YamlTag(const YAML::Node& n);

// Decodes a mapping of names to strings into `*out`, sorted by name. A null
// node is an empty map and a null value the empty string (as Go's yaml).
// Fails, setting `*at` to the position of the node at fault, when `n` is not a mapping
// ("cannot unmarshal !!seq into map[string]string"), a name or value is not a
// scalar ("cannot unmarshal !!map into string"), or a name repeats
// ("mapping key \"a\" already defined"). Names are not validated: the caller
// knows whether they are label names or annotation names.
Status DecodeLabelMap(const YAML::Node& n, std::vector<Label>* out, YAML::Mark* at);

}  // namespace vigil::config
