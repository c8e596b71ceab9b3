#include "remote/protobuf_wire.h"

#include <cstring>

namespace vigil::remote {
namespace {

// A varint has at most 10 bytes (64 bits, 7 per byte).
constexpr int kMaxVarintBytes = 10;
// Field numbers are 29 bits.
constexpr uint64_t kMaxFieldNumber = (uint64_t{1} << 29) - 1;

Status Truncated() { return Status::InvalidArgument("proto: unexpected end of message"); }

}  // namespace

Status ProtoReader::ReadVarint(uint64_t* value) {
  uint64_t result = 0;
  for (int i = 0; i < kMaxVarintBytes; ++i) {
    if (pos_ >= data_.size()) return Truncated();
    const auto byte = static_cast<uint8_t>(data_[pos_++]);
    // The tenth byte holds the 64th bit only: more would overflow.
    if (i == kMaxVarintBytes - 1 && byte > 1) break;
    result |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      *value = result;
      return Status::OK();
    }
  }
  return Status::InvalidArgument("proto: integer overflow");
}

Status ProtoReader::NextField(uint32_t* field, WireType* type) {
  uint64_t key = 0;
  VIGIL_RETURN_IF_ERROR(ReadVarint(&key));
  const auto wire = static_cast<uint8_t>(key & 7);
  if (wire != 0 && wire != 1 && wire != 2 && wire != 5) {
    return Status::InvalidArgument("proto: illegal wireType " + std::to_string(wire));
  }
  if ((key >> 3) == 0 || (key >> 3) > kMaxFieldNumber) {
    return Status::InvalidArgument("proto: illegal tag " + std::to_string(key >> 3));
  }
  *field = static_cast<uint32_t>(key >> 3);
  *type = static_cast<WireType>(wire);
  return Status::OK();
}

Status ProtoReader::ReadFixed64(uint64_t* value) {
  if (data_.size() - pos_ < 8) return Truncated();
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(data_[pos_ + i]);
  pos_ += 8;
  *value = v;
  return Status::OK();
}

Status ProtoReader::ReadDouble(double* value) {
  uint64_t bits = 0;
  VIGIL_RETURN_IF_ERROR(ReadFixed64(&bits));
  std::memcpy(value, &bits, sizeof(bits));
  return Status::OK();
}

Status ProtoReader::ReadBytes(std::string_view* value) {
  uint64_t length = 0;
  VIGIL_RETURN_IF_ERROR(ReadVarint(&length));
  if (length > data_.size() - pos_) return Truncated();
  *value = data_.substr(pos_, length);
  pos_ += length;
  return Status::OK();
}

Status ProtoReader::Skip(WireType type) {
  uint64_t ignored = 0;
  std::string_view bytes;
  switch (type) {
    case WireType::kVarint:
      return ReadVarint(&ignored);
    case WireType::kFixed64:
      return ReadFixed64(&ignored);
    case WireType::kLengthDelimited:
      return ReadBytes(&bytes);
    case WireType::kFixed32:
      if (data_.size() - pos_ < 4) return Truncated();
      pos_ += 4;
      return Status::OK();
  }
  return Status::InvalidArgument("proto: illegal wireType");
}

void ProtoWriter::RawVarint(uint64_t value) {
  while (value >= 0x80) {
    out_ += static_cast<char>((value & 0x7f) | 0x80);
    value >>= 7;
  }
  out_ += static_cast<char>(value);
}

void ProtoWriter::Key(uint32_t field, WireType type) {
  RawVarint((static_cast<uint64_t>(field) << 3) | static_cast<uint64_t>(type));
}

void ProtoWriter::Varint(uint32_t field, uint64_t value) {
  Key(field, WireType::kVarint);
  RawVarint(value);
}

void ProtoWriter::Double(uint32_t field, double value) {
  Key(field, WireType::kFixed64);
  uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(bits));
  for (int i = 0; i < 8; ++i) out_ += static_cast<char>((bits >> (8 * i)) & 0xff);
}

void ProtoWriter::Bytes(uint32_t field, std::string_view value) {
  Key(field, WireType::kLengthDelimited);
  RawVarint(value.size());
  out_ += value;
}

}  // namespace vigil::remote
