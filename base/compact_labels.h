// CompactLabels: an immutable label set in one heap buffer, for structures
// that keep many label sets for a long time (the head's series). Costs one
// pointer plus one allocation of the strings' bytes and a length byte or two
// per string, where Labels costs a vector and two std::strings per label.
// Reading walks the buffer; Labels is materialised only on request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/labels.h"
#include "base/matcher.h"

namespace vigil {

class Decoder;

// One label of a CompactLabels; views into its buffer.
struct LabelView {
  std::string_view name;
  std::string_view value;
};

class CompactLabels {
 public:
  // Forward iterator over the labels, in Labels' order (sorted by name).
  class Iterator {
   public:
    using value_type = LabelView;
    using difference_type = std::ptrdiff_t;
    Iterator() = default;
    const LabelView& operator*() const { return current_; }
    const LabelView* operator->() const { return &current_; }
    Iterator& operator++();
    Iterator operator++(int) {
      Iterator before = *this;
      ++*this;
      return before;
    }
    bool operator==(const Iterator& o) const { return pos_ == o.pos_; }

   private:
    friend class CompactLabels;
    Iterator(const char* pos, const char* end);
    void Decode();

    const char* pos_ = nullptr;  // start of the current entry; end_ when done
    const char* end_ = nullptr;
    const char* next_ = nullptr;  // start of the entry after the current one
    LabelView current_;
  };

  CompactLabels() = default;
  explicit CompactLabels(const Labels& labels);
  CompactLabels(const CompactLabels& o);
  CompactLabels& operator=(const CompactLabels& o);
  CompactLabels(CompactLabels&&) noexcept = default;
  CompactLabels& operator=(CompactLabels&&) noexcept = default;

  Iterator begin() const;
  Iterator end() const;
  bool empty() const { return data_ == nullptr; }
  size_t size() const;

  // The value of `name`, or "" when absent.
  std::string_view Get(std::string_view name) const;
  std::string_view MetricName() const { return Get(kMetricNameLabel); }

  // Equal to Labels::Hash() of the same set (the hash is persisted).
  uint64_t Hash() const;
  Labels ToLabels() const;
  // As Labels::ToString().
  std::string ToString() const { return ToLabels().ToString(); }
  // Bytes of the heap buffer (0 when empty).
  size_t HeapBytes() const;

  bool operator==(const Labels& o) const;
  bool operator==(const CompactLabels& o) const;

  // Appends the encoding of base/coding.h's PutLabels (the entries are
  // stored in it already).
  void AppendEncoded(std::string* out) const;
  // Reads a PutLabels encoding from `d`, the inverse of AppendEncoded: one
  // copy of its bytes when they are as PutLabels writes a Labels (names
  // sorted and unique, no empty value, shortest lengths), else through
  // Labels (sorted, deduplicated), as Decoder::LabelSet. False when `d`
  // runs out or fails.
  static bool Decode(Decoder& d, CompactLabels* out);

 private:
  // [uint32 bytes of the entries][entries]; an entry is the name and the
  // value, each as a uvarint length and the bytes. Null when empty.
  const char* Entries() const { return data_.get() + sizeof(uint32_t); }
  const char* EntriesEnd() const;

  std::unique_ptr<char[]> data_;
};

// PutLabels (base/coding.h) for a CompactLabels: the same bytes.
inline void PutLabels(std::string* out, const CompactLabels& labels) { labels.AppendEncoded(out); }

// Whether a series satisfies every matcher, without materialising Labels.
bool MatchesAll(const LabelMatchers& matchers, const CompactLabels& labels);

}  // namespace vigil
