// BitWriter / BitReader: MSB-first bit streams, the substrate of the XOR and
// packed chunk encodings (see docs/format/chunks.md).
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
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
  // Writes the low `n` bits of `v` (n <= 64): first into the free bits of the
  // last byte, then whole bytes in one resize, then the remainder.
  void WriteBits(uint64_t v, int n) {
    if (n <= 0) return;
    if (n < 64) v &= (uint64_t{1} << n) - 1;
    if (used_ != 0) {
      const int room = 8 - used_;
      auto& last = reinterpret_cast<uint8_t&>(buf_->back());
      if (n <= room) {
        last = static_cast<uint8_t>(last | (v << (room - n)));
        used_ = static_cast<uint8_t>((used_ + n) & 7);
        return;
      }
    }
    if (n <= 56) {
      // The partly used last byte and the new bits fit one 64-bit word
      // (at most 7 + 56 bits): build it, then store its bytes big-endian.
      size_t keep = buf_->size();
      uint64_t word = v << (64 - used_ - n);
      if (used_ != 0) {
        --keep;
        word |= uint64_t{static_cast<uint8_t>(buf_->back())} << 56;
      }
      const int total = used_ + n;
      if constexpr (std::endian::native == std::endian::little) word = __builtin_bswap64(word);
      buf_->resize(keep + static_cast<size_t>((total + 7) / 8));
      std::memcpy(buf_->data() + keep, &word, static_cast<size_t>((total + 7) / 8));
      used_ = static_cast<uint8_t>(total & 7);
      return;
    }
    if (used_ != 0) {
      const int room = 8 - used_;
      auto& last = reinterpret_cast<uint8_t&>(buf_->back());
      n -= room;  // now below 64
      last = static_cast<uint8_t>(last | (v >> n));
      v &= (uint64_t{1} << n) - 1;
    }
    const size_t whole = static_cast<size_t>(n) / 8;
    const int rest = n % 8;
    const size_t old = buf_->size();
    buf_->resize(old + whole + (rest != 0 ? 1 : 0));
    char* out = buf_->data() + old;
    for (size_t i = 0; i < whole; ++i) {
      out[i] = static_cast<char>(static_cast<uint8_t>(v >> (n - 8 * static_cast<int>(i + 1))));
    }
    if (rest != 0) out[whole] = static_cast<char>(static_cast<uint8_t>(v << (8 - rest)));
    used_ = static_cast<uint8_t>(rest);
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
  // Bits read so far.
  size_t position() const { return pos_; }

 private:
  std::string_view data_;
  size_t pos_ = 0;  // in bits
};

// Reads fixed-width MSB-first fields from a region whose length the caller
// has already checked against the fields it will read (so no read needs a
// bounds check of its own). Loads eight bytes at a time where it can: this is
// the hot loop of packed-chunk decoding.
class FieldReader {
 public:
  FieldReader() = default;
  // `bit_offset` is where the first field starts inside `data`.
  FieldReader(std::string_view data, size_t bit_offset) : data_(data), pos_(bit_offset) {}

  // Reads an `n`-bit field (0 <= n <= 64); a 0-bit field is 0 and reads nothing.
  uint64_t Read(int n) {
    if (n == 0) return 0;
    const size_t byte = pos_ / 8;
    const int offset = static_cast<int>(pos_ % 8);
    pos_ += static_cast<size_t>(n);
    if (offset + n <= 64 && byte + 8 <= data_.size()) {
      uint64_t word = 0;
      std::memcpy(&word, data_.data() + byte, 8);
      if constexpr (std::endian::native == std::endian::little) word = __builtin_bswap64(word);
      return (word << offset) >> (64 - n);
    }
    return ReadSlow(byte, offset, n);
  }

 private:
  // Byte by byte: fields near the end of the data, or 57+ bits at an odd offset.
  uint64_t ReadSlow(size_t byte, int offset, int n) const {
    uint64_t v = 0;
    int left = n;
    while (left > 0) {
      const int room = 8 - offset;
      const int take = left < room ? left : room;
      const uint8_t b = static_cast<uint8_t>(data_[byte++]);
      v = (v << take) | ((b >> (room - take)) & ((1u << take) - 1));
      left -= take;
      offset = 0;
    }
    return v;
  }

  std::string_view data_;
  size_t pos_ = 0;  // in bits
};

}  // namespace vigil::storage
