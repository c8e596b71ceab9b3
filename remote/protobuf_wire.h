// The protobuf wire format, by hand: just enough to read and write the remote
// write/read messages (varints, 64-bit fixed, length-delimited fields) without
// protoc. See docs/format/remote_write.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace vigil::remote {

// A field's wire type: the low three bits of its key.
enum class WireType : uint8_t {
  kVarint = 0,           // int32/int64/uint64/bool/enum
  kFixed64 = 1,          // double, fixed64
  kLengthDelimited = 2,  // string, bytes, embedded messages, packed repeated
  kFixed32 = 5,          // float, fixed32
};

// Reads fields one after another from a serialized message.
class ProtoReader {
 public:
  explicit ProtoReader(std::string_view data) : data_(data) {}

  bool done() const { return pos_ >= data_.size(); }
  // Reads the next field key. Fails on truncated input or an unknown wire type.
  [[nodiscard]] Status NextField(uint32_t* field, WireType* type);
  [[nodiscard]] Status ReadVarint(uint64_t* value);
  [[nodiscard]] Status ReadFixed64(uint64_t* value);
  [[nodiscard]] Status ReadDouble(double* value);
  // A length-delimited field's bytes (a string or an embedded message).
  [[nodiscard]] Status ReadBytes(std::string_view* value);
  // Skips a field of the given wire type (fields this decoder does not use).
  [[nodiscard]] Status Skip(WireType type);

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

// Appends fields to a serialized message.
class ProtoWriter {
 public:
  void Varint(uint32_t field, uint64_t value);
  void Int64(uint32_t field, int64_t value) { Varint(field, static_cast<uint64_t>(value)); }
  void Double(uint32_t field, double value);
  void Bytes(uint32_t field, std::string_view value);
  // An embedded message written by another ProtoWriter.
  void Message(uint32_t field, const ProtoWriter& message) { Bytes(field, message.data()); }

  const std::string& data() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void Key(uint32_t field, WireType type);
  void RawVarint(uint64_t value);

  std::string out_;
};

}  // namespace vigil::remote
