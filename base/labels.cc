#include "base/labels.h"

#include <algorithm>

namespace vigil {
namespace {

// FNV-1a, 64 bit: simple, stable and good enough to spread label sets; callers
// that key maps by it must still compare the full label set on collisions.
constexpr uint64_t kFnvPrime = 1099511628211ULL;

uint64_t HashBytes(uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= kFnvPrime;
  }
  return h;
}

void SortAndDedup(std::vector<Label>& labels) {
  // Most label sets arrive sorted, without duplicates or empty values
  // (decoded from the WAL or a checkpoint, built by the relabeller): one
  // pass finds that and leaves them as they are.
  bool clean = true;
  for (size_t i = 0; i < labels.size() && clean; ++i) {
    clean = !labels[i].value.empty() && (i == 0 || labels[i - 1].name < labels[i].name);
  }
  if (clean) return;
  std::stable_sort(labels.begin(), labels.end(),
                   [](const Label& a, const Label& b) { return a.name < b.name; });
  std::vector<Label> out;
  out.reserve(labels.size());
  for (auto& l : labels) {
    if (!out.empty() && out.back().name == l.name) {
      out.back() = std::move(l);
    } else {
      out.push_back(std::move(l));
    }
  }
  std::erase_if(out, [](const Label& l) { return l.value.empty(); });
  labels = std::move(out);
}

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

Labels::Labels(std::vector<Label> labels) : labels_(std::move(labels)) {
  SortAndDedup(labels_);
}

std::string_view Labels::Get(std::string_view name) const {
  auto it = std::lower_bound(labels_.begin(), labels_.end(), name,
                             [](const Label& l, std::string_view n) { return l.name < n; });
  if (it == labels_.end() || it->name != name) return {};
  return it->value;
}

bool Labels::Has(std::string_view name) const { return !Get(name).empty(); }

Labels Labels::WithoutMetricName() const {
  Labels out;
  out.labels_.reserve(labels_.size());
  for (const auto& l : labels_) {
    if (l.name != kMetricNameLabel) out.labels_.push_back(l);
  }
  return out;
}

Labels Labels::Filter(const std::vector<std::string>& names, bool keep) const {
  Labels out;
  for (const auto& l : labels_) {
    bool listed = std::find(names.begin(), names.end(), l.name) != names.end();
    if (listed == keep) out.labels_.push_back(l);
  }
  return out;
}

uint64_t HashLabel(uint64_t h, std::string_view name, std::string_view value) {
  h = HashBytes(h, name);
  h = HashBytes(h, std::string_view("\xff", 1));
  h = HashBytes(h, value);
  return HashBytes(h, std::string_view("\xff", 1));
}

uint64_t Labels::Hash() const {
  uint64_t h = kLabelsHashSeed;  // FNV-1a's offset basis
  for (const auto& l : labels_) h = HashLabel(h, l.name, l.value);
  return h;
}

std::string Labels::ToString() const {
  std::string out(MetricName());
  out += '{';
  bool first = true;
  for (const auto& l : labels_) {
    if (l.name == kMetricNameLabel) continue;
    if (!first) out += ", ";
    first = false;
    out += l.name;
    out += "=\"";
    out += EscapeLabelValue(l.value);
    out += '"';
  }
  out += '}';
  return out;
}

std::strong_ordering Labels::operator<=>(const Labels& o) const {
  size_t n = std::min(labels_.size(), o.labels_.size());
  for (size_t i = 0; i < n; ++i) {
    if (auto c = labels_[i].name <=> o.labels_[i].name; c != 0) return c;
    if (auto c = labels_[i].value <=> o.labels_[i].value; c != 0) return c;
  }
  return labels_.size() <=> o.labels_.size();
}

LabelsBuilder::LabelsBuilder(const Labels& base) { Reset(base); }

void LabelsBuilder::Reset(const Labels& base) { labels_ = base.vec(); }

LabelsBuilder& LabelsBuilder::Set(std::string_view name, std::string_view value) {
  if (value.empty()) return Del(name);
  for (auto& l : labels_) {
    if (l.name == name) {
      l.value = value;
      return *this;
    }
  }
  labels_.push_back({std::string(name), std::string(value)});
  return *this;
}

LabelsBuilder& LabelsBuilder::Del(std::string_view name) {
  std::erase_if(labels_, [&](const Label& l) { return l.name == name; });
  return *this;
}

std::string_view LabelsBuilder::Get(std::string_view name) const {
  for (const auto& l : labels_) {
    if (l.name == name) return l.value;
  }
  return {};
}

Labels LabelsBuilder::Build() const { return Labels(labels_); }

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

bool IsValidLabelName(std::string_view name) {
  if (name.empty() || !IsNameStart(name[0])) return false;
  return std::all_of(name.begin() + 1, name.end(),
                     [](char c) { return IsNameStart(c) || IsDigit(c); });
}

bool IsValidMetricName(std::string_view name) {
  if (name.empty() || !(IsNameStart(name[0]) || name[0] == ':')) return false;
  return std::all_of(name.begin() + 1, name.end(),
                     [](char c) { return IsNameStart(c) || IsDigit(c) || c == ':'; });
}

}  // namespace vigil
