#include "base/compact_labels.h"

#include <cstring>

#include "base/coding.h"

namespace vigil {
namespace {

size_t UvarintSize(size_t v) {
  size_t n = 1;
  for (; v >= 0x80; v >>= 7) ++n;
  return n;
}

char* PutLength(char* out, size_t v) {
  for (; v >= 0x80; v >>= 7) *out++ = static_cast<char>((v & 0x7f) | 0x80);
  *out++ = static_cast<char>(v);
  return out;
}

char* PutString(char* out, std::string_view s) {
  out = PutLength(out, s.size());
  std::memcpy(out, s.data(), s.size());
  return out + s.size();
}

// Reads a string written by PutString at *pos and advances *pos past it.
// The buffer was built by this file, so it is well formed.
std::string_view TakeString(const char** pos) {
  const char* p = *pos;
  size_t len = 0;
  for (int shift = 0;; shift += 7) {
    const auto byte = static_cast<unsigned char>(*p++);
    len |= static_cast<size_t>(byte & 0x7f) << shift;
    if (byte < 0x80) break;
  }
  *pos = p + len;
  return {p, len};
}

uint32_t EntriesBytes(const char* data) {
  uint32_t n;
  std::memcpy(&n, data, sizeof(n));
  return n;
}

std::unique_ptr<char[]> CopyBuffer(const char* data) {
  if (data == nullptr) return nullptr;
  const size_t bytes = sizeof(uint32_t) + EntriesBytes(data);
  std::unique_ptr<char[]> out(new char[bytes]);
  std::memcpy(out.get(), data, bytes);
  return out;
}

}  // namespace

CompactLabels::Iterator::Iterator(const char* pos, const char* end) : pos_(pos), end_(end) {
  Decode();
}

void CompactLabels::Iterator::Decode() {
  if (pos_ == end_) return;
  next_ = pos_;
  current_.name = TakeString(&next_);
  current_.value = TakeString(&next_);
}

CompactLabels::Iterator& CompactLabels::Iterator::operator++() {
  pos_ = next_;
  Decode();
  return *this;
}

CompactLabels::CompactLabels(const Labels& labels) {
  if (labels.empty()) return;
  size_t bytes = 0;
  for (const auto& l : labels) {
    bytes +=
        UvarintSize(l.name.size()) + l.name.size() + UvarintSize(l.value.size()) + l.value.size();
  }
  data_.reset(new char[sizeof(uint32_t) + bytes]);
  const auto n = static_cast<uint32_t>(bytes);
  std::memcpy(data_.get(), &n, sizeof(n));
  char* out = data_.get() + sizeof(n);
  for (const auto& l : labels) {
    out = PutString(out, l.name);
    out = PutString(out, l.value);
  }
}

CompactLabels::CompactLabels(const CompactLabels& o) : data_(CopyBuffer(o.data_.get())) {}

CompactLabels& CompactLabels::operator=(const CompactLabels& o) {
  if (this != &o) data_ = CopyBuffer(o.data_.get());
  return *this;
}

const char* CompactLabels::EntriesEnd() const { return Entries() + EntriesBytes(data_.get()); }

CompactLabels::Iterator CompactLabels::begin() const {
  if (empty()) return Iterator();
  return Iterator(Entries(), EntriesEnd());
}

CompactLabels::Iterator CompactLabels::end() const {
  if (empty()) return Iterator();
  const char* e = EntriesEnd();
  return Iterator(e, e);
}

size_t CompactLabels::size() const {
  size_t n = 0;
  for (auto it = begin(); it != end(); ++it) ++n;
  return n;
}

std::string_view CompactLabels::Get(std::string_view name) const {
  for (const LabelView& l : *this) {
    if (l.name == name) return l.value;
    if (l.name > name) break;  // sorted by name
  }
  return {};
}

uint64_t CompactLabels::Hash() const {
  uint64_t h = kLabelsHashSeed;
  for (const LabelView& l : *this) h = HashLabel(h, l.name, l.value);
  return h;
}

Labels CompactLabels::ToLabels() const {
  std::vector<Label> out;
  out.reserve(size());
  for (const LabelView& l : *this) out.push_back({std::string(l.name), std::string(l.value)});
  return Labels::FromSorted(std::move(out));  // built from a Labels: sorted, no empty values
}

size_t CompactLabels::HeapBytes() const {
  return empty() ? 0 : sizeof(uint32_t) + EntriesBytes(data_.get());
}

bool CompactLabels::operator==(const Labels& o) const {
  auto it = begin();
  const auto stop = end();
  for (const auto& l : o) {
    if (it == stop || it->name != l.name || it->value != l.value) return false;
    ++it;
  }
  return it == stop;
}

bool CompactLabels::operator==(const CompactLabels& o) const {
  if (empty() || o.empty()) return empty() == o.empty();
  const size_t bytes = HeapBytes();
  return bytes == o.HeapBytes() && std::memcmp(data_.get(), o.data_.get(), bytes) == 0;
}

bool CompactLabels::Decode(Decoder& d, CompactLabels* out) {
  const std::string_view whole = d.rest();
  uint64_t n = 0;
  if (!d.Uvarint(&n) || n > d.rest().size()) return false;
  const char* const start = d.rest().data();
  size_t canonical_bytes = 0;
  bool clean = true;
  std::string_view prev;
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view name, value;
    if (!d.Bytes(&name) || !d.Bytes(&value)) return false;
    clean = clean && !value.empty() && (i == 0 || prev < name);
    prev = name;
    canonical_bytes +=
        UvarintSize(name.size()) + name.size() + UvarintSize(value.size()) + value.size();
  }
  const auto bytes = static_cast<size_t>(d.rest().data() - start);
  if (!clean || bytes != canonical_bytes) {
    Decoder again(whole);
    Labels labels;
    if (!again.LabelSet(&labels)) return false;
    *out = CompactLabels(labels);
    return true;
  }
  if (n == 0) {
    *out = CompactLabels();
    return true;
  }
  out->data_.reset(new char[sizeof(uint32_t) + bytes]);
  const auto header = static_cast<uint32_t>(bytes);
  std::memcpy(out->data_.get(), &header, sizeof(header));
  std::memcpy(out->data_.get() + sizeof(header), start, bytes);
  return true;
}

void CompactLabels::AppendEncoded(std::string* out) const {
  PutUvarint(out, size());
  if (!empty()) out->append(Entries(), EntriesBytes(data_.get()));
}

bool MatchesAll(const LabelMatchers& matchers, const CompactLabels& labels) {
  for (const auto& m : matchers) {
    if (!m.Matches(labels.Get(m.name()))) return false;
  }
  return true;
}

}  // namespace vigil
