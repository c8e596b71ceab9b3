// Relabeling: rewrites a label set step by step, exactly as Prometheus's
// model/relabel package (2.42). Used for target relabeling before a scrape and
// for metric relabeling of every scraped series.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/labels.h"
#include "base/status.h"

namespace re2 {
class RE2;
}

namespace vigil::config {

enum class RelabelAction {
  kReplace,
  kKeep,
  kDrop,
  kKeepEqual,
  kDropEqual,
  kHashMod,
  kLabelMap,
  kLabelDrop,
  kLabelKeep,
  kLowercase,
  kUppercase,
};

// "replace", "keep", ...; ParseRelabelAction is case-insensitive as Prometheus.
std::string_view RelabelActionName(RelabelAction action);
std::optional<RelabelAction> ParseRelabelAction(std::string_view name);

inline constexpr std::string_view kDefaultRelabelRegex = "(.*)";

// One relabel_configs entry. Build it with MakeRelabelConfig, which compiles
// and validates; the defaults are Prometheus's.
struct RelabelConfig {
  std::vector<std::string> source_labels;
  std::string separator = ";";
  std::string regex = std::string(kDefaultRelabelRegex);  // as written, unanchored
  uint64_t modulus = 0;
  std::string target_label;
  std::string replacement = "$1";
  RelabelAction action = RelabelAction::kReplace;
  std::shared_ptr<const re2::RE2> compiled;  // "^(?:regex)$"

  // Compares the configured fields (not the compiled regex object).
  bool operator==(const RelabelConfig& o) const {
    return source_labels == o.source_labels && separator == o.separator && regex == o.regex &&
           modulus == o.modulus && target_label == o.target_label &&
           replacement == o.replacement && action == o.action;
  }
};

// Compiles `config.regex` and checks the field combinations as Prometheus does
// ("relabel configuration for hashmod requires non-zero modulus", ...).
Status CompileRelabelConfig(RelabelConfig& config);

// Applies `configs` in order. Returns nullopt when a keep/drop step drops the set.
std::optional<Labels> Relabel(const Labels& labels, std::span<const RelabelConfig> configs);

}  // namespace vigil::config
