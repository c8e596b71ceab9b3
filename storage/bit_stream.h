// BitWriter / BitReader: MSB-first bit streams, the substrate of the XOR chunk
// encoding (see docs/format/chunks.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vigil::storage {

// Appends bits to a byte string, most significant bit first.
class BitWriter {
 public:
  // Continues writing at the end of `buf`, whose last byte has `used_bits`
  // bits in use (0 means the last byte, if any, is full).
  explicit BitWriter(std::string* buf, uint8_t used_bits = 0) : buf_(buf), used_(used_bits) {}

  void WriteBit(bool bit) { WriteBits(bit ? 1 : 0, 1); }
  // Writes the low `n` bits of `v` (n <= 64).
  void WriteBits(uint64_t v, int n) {
    while (n > 0) {
      if (used_ == 0) buf_->push_back(0);
      const int room = 8 - used_;
      const int take = n < room ? n : room;
      const uint8_t chunk = static_cast<uint8_t>((v >> (n - take)) & ((1u << take) - 1));
      buf_->back() = static_cast<char>(static_cast<uint8_t>(buf_->back()) |
                                       static_cast<uint8_t>(chunk << (room - take)));
      used_ = static_cast<uint8_t>((used_ + take) % 8);
      n -= take;
    }
  }
  uint8_t used_bits() const { return used_; }

 private:
  std::string* buf_;
  uint8_t used_;  // bits in use in buf_->back(); 0 when it is full
};

// Reads bits written by BitWriter. Every read reports whether enough bits
// were left, so a truncated chunk is an error rather than garbage.
class BitReader {
 public:
  explicit BitReader(std::string_view data) : data_(data) {}

  bool ReadBit(bool* bit) {
    uint64_t v = 0;
    if (!ReadBits(1, &v)) return false;
    *bit = v != 0;
    return true;
  }
  bool ReadBits(int n, uint64_t* out) {
    if (pos_ + static_cast<size_t>(n) > data_.size() * 8) return false;
    uint64_t v = 0;
    while (n > 0) {
      const size_t byte = pos_ / 8;
      const int offset = static_cast<int>(pos_ % 8);
      const int room = 8 - offset;
      const int take = n < room ? n : room;
      const uint8_t b = static_cast<uint8_t>(data_[byte]);
      const uint64_t chunk = (b >> (room - take)) & ((1u << take) - 1);
      v = (take == 64 ? 0 : (v << take)) | chunk;
      pos_ += static_cast<size_t>(take);
      n -= take;
    }
    *out = v;
    return true;
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;  // in bits
};

}  // namespace vigil::storage
