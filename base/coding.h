// Byte-level encodings shared by the WAL and the RocksDB layouts: LEB128
// varints, fixed-width big-endian integers (so keys sort numerically) and
// label sets. A Decoder reads them back and reports truncation.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/labels.h"

namespace vigil {

void PutUvarint(std::string* out, uint64_t v);
void PutVarint(std::string* out, int64_t v);  // zig-zag
void PutFixed32LE(std::string* out, uint32_t v);
void PutFixed64LE(std::string* out, uint64_t v);
// Big endian, so that byte order equals numeric order in RocksDB keys.
void PutFixed64BE(std::string* out, uint64_t v);
// A signed value as big endian with the sign bit flipped: byte order equals
// numeric order for negative timestamps too.
void PutOrderedInt64(std::string* out, int64_t v);
// Length-prefixed bytes.
void PutBytes(std::string* out, std::string_view bytes);
// uvarint count, then name and value of every label as length-prefixed bytes.
void PutLabels(std::string* out, const Labels& labels);

uint32_t DecodeFixed32LE(std::string_view in);  // `in` holds at least 4 bytes
uint64_t DecodeFixed64BE(std::string_view in);
int64_t DecodeOrderedInt64(std::string_view in);

// Reads the encodings above from a byte string, front to back. After a
// failed read, ok() is false and every further read fails.
class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}
  bool Uvarint(uint64_t* v);
  bool Varint(int64_t* v);
  bool Fixed64LE(uint64_t* v);
  bool Fixed64BE(uint64_t* v);
  bool OrderedInt64(int64_t* v);
  bool Bytes(std::string_view* v);
  bool LabelSet(Labels* labels);
  bool Byte(uint8_t* v);
  std::string_view rest() const { return in_; }
  bool ok() const { return ok_; }
  bool empty() const { return in_.empty(); }

 private:
  bool Fail() { ok_ = false; return false; }
  std::string_view in_;
  bool ok_ = true;
};

}  // namespace vigil
