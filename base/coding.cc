#include "base/coding.h"

#include <vector>

namespace vigil {

void PutUvarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutVarint(std::string* out, int64_t v) {
  PutUvarint(out, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

void PutFixed32LE(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void PutFixed64LE(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void PutFixed64BE(std::string* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void PutOrderedInt64(std::string* out, int64_t v) {
  PutFixed64BE(out, static_cast<uint64_t>(v) ^ (uint64_t{1} << 63));
}

void PutBytes(std::string* out, std::string_view bytes) {
  PutUvarint(out, bytes.size());
  out->append(bytes);
}

void PutLabels(std::string* out, const Labels& labels) {
  PutUvarint(out, labels.size());
  for (const auto& l : labels) {
    PutBytes(out, l.name);
    PutBytes(out, l.value);
  }
}

uint32_t DecodeFixed32LE(std::string_view in) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

uint64_t DecodeFixed64BE(std::string_view in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

int64_t DecodeOrderedInt64(std::string_view in) {
  return static_cast<int64_t>(DecodeFixed64BE(in) ^ (uint64_t{1} << 63));
}

bool Decoder::Uvarint(uint64_t* v) {
  if (!ok_) return false;
  uint64_t out = 0;
  for (int shift = 0; shift < 64 && !in_.empty(); shift += 7) {
    const uint8_t b = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    out |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *v = out;
      return true;
    }
  }
  return Fail();
}

bool Decoder::Varint(int64_t* v) {
  uint64_t zz = 0;
  if (!Uvarint(&zz)) return false;
  *v = static_cast<int64_t>(zz >> 1) ^ -static_cast<int64_t>(zz & 1);
  return true;
}

bool Decoder::Fixed64LE(uint64_t* v) {
  if (!ok_ || in_.size() < 8) return Fail();
  uint64_t out = 0;
  for (int i = 7; i >= 0; --i) out = (out << 8) | static_cast<uint8_t>(in_[i]);
  in_.remove_prefix(8);
  *v = out;
  return true;
}

bool Decoder::Fixed64BE(uint64_t* v) {
  if (!ok_ || in_.size() < 8) return Fail();
  *v = DecodeFixed64BE(in_);
  in_.remove_prefix(8);
  return true;
}

bool Decoder::OrderedInt64(int64_t* v) {
  uint64_t raw = 0;
  if (!Fixed64BE(&raw)) return false;
  *v = static_cast<int64_t>(raw ^ (uint64_t{1} << 63));
  return true;
}

bool Decoder::Bytes(std::string_view* v) {
  uint64_t n = 0;
  if (!Uvarint(&n)) return false;
  if (in_.size() < n) return Fail();
  *v = in_.substr(0, n);
  in_.remove_prefix(n);
  return true;
}

bool Decoder::Byte(uint8_t* v) {
  if (!ok_ || in_.empty()) return Fail();
  *v = static_cast<uint8_t>(in_[0]);
  in_.remove_prefix(1);
  return true;
}

bool Decoder::LabelSet(Labels* labels) {
  uint64_t n = 0;
  if (!Uvarint(&n) || n > in_.size()) return Fail();
  std::vector<Label> ls;
  ls.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view name, value;
    if (!Bytes(&name) || !Bytes(&value)) return false;
    ls.push_back({std::string(name), std::string(value)});
  }
  *labels = Labels(std::move(ls));
  return true;
}

}  // namespace vigil
