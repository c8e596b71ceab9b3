// Labels: a sorted, duplicate-free set of name/value pairs identifying a series.
#pragma once

#include <compare>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

inline constexpr std::string_view kMetricNameLabel = "__name__";

struct Label {
  std::string name;
  std::string value;
  auto operator<=>(const Label&) const = default;
};

// An immutable label set, always sorted by name, names unique.
class Labels {
 public:
  Labels() = default;
  // Sorts; on duplicate names the last one wins. Empty values are dropped, as
  // Prometheus treats an empty label value like an absent label.
  explicit Labels(std::vector<Label> labels);
  Labels(std::initializer_list<Label> labels) : Labels(std::vector<Label>(labels)) {}
  // Takes `labels` as they are: the caller guarantees they are sorted by
  // name, names unique, values not empty (e.g. copied from another set).
  static Labels FromSorted(std::vector<Label> labels) {
    Labels out;
    out.labels_ = std::move(labels);
    return out;
  }

  // The value of `name`, or "" when absent.
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const;
  std::string_view MetricName() const { return Get(kMetricNameLabel); }

  size_t size() const { return labels_.size(); }
  bool empty() const { return labels_.empty(); }
  const Label& operator[](size_t i) const { return labels_[i]; }
  std::vector<Label>::const_iterator begin() const { return labels_.begin(); }
  std::vector<Label>::const_iterator end() const { return labels_.end(); }
  const std::vector<Label>& vec() const { return labels_; }

  // A copy without the metric name.
  Labels WithoutMetricName() const;
  // A copy keeping only (keep=true) or dropping (keep=false) the given names.
  Labels Filter(const std::vector<std::string>& names, bool keep) const;

  // 64-bit hash of the whole set (stable across runs and machines).
  uint64_t Hash() const;
  // Prometheus notation: name{a="b", c="d"} (or {..} when there is no name).
  std::string ToString() const;

  bool operator==(const Labels& o) const { return labels_ == o.labels_; }
  // Prometheus's order: compare label by label (name, then value), shorter first.
  std::strong_ordering operator<=>(const Labels& o) const;

 private:
  std::vector<Label> labels_;
};

// Labels::Hash() one label at a time, for other representations of a label
// set: start from kLabelsHashSeed and fold in every label in name order.
inline constexpr uint64_t kLabelsHashSeed = 14695981039346656037ULL;
uint64_t HashLabel(uint64_t h, std::string_view name, std::string_view value);

// Builds a Labels from a base set by setting and deleting names.
class LabelsBuilder {
 public:
  LabelsBuilder() = default;
  explicit LabelsBuilder(const Labels& base);
  void Reset(const Labels& base);
  // Setting an empty value deletes the label.
  LabelsBuilder& Set(std::string_view name, std::string_view value);
  LabelsBuilder& Del(std::string_view name);
  // Current value of `name` ("" when absent).
  std::string_view Get(std::string_view name) const;
  Labels Build() const;

 private:
  std::vector<Label> labels_;
};

// Escapes a label value for the Prometheus text format and PromQL strings
// (backslash, double quote, newline).
std::string EscapeLabelValue(std::string_view value);

// Whether `name` is a valid label name ([a-zA-Z_][a-zA-Z0-9_]*).
bool IsValidLabelName(std::string_view name);
// Whether `name` is a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*).
bool IsValidMetricName(std::string_view name);

}  // namespace vigil
