// Packed chunks: the dense on-disk form of a closed chunk. Values that are
// exact decimals (v == m / 10^k bit for bit, m an integer) are stored as the
// integers m, frame-of-reference bit-packed either directly or as deltas;
// timestamps as bit-packed deltas above the chunk's smallest delta (0 bits
// per sample at a constant scrape interval). The few values that are no
// exact decimal (NaN payloads, the stale marker, ±Inf, -0.0, full-precision
// floats) are kept as raw 64-bit exceptions. Spec: docs/format/chunks.md.
//
// Layout (byte-aligned header, then one bit-packed region):
//   u8       tag, kPackedChunkTag (an XOR chunk starts with 0x00)
//   uvarint  n, number of samples (1..65535)
//   varint   t0 (zig-zag)
//   if n > 1: uvarint smallest timestamp delta; u8 timestamp field width wt
//   u8       value scheme: mode << 4 | k; v_i = m_i / 10^k (mode 0: fields
//            are values above base; mode 1: m_0 = base, fields are deltas)
//   varint   base (zig-zag); mode 1 and n > 1: varint dmin (zig-zag)
//            (decoding: mode 0: m_i = base + f_i * unit;
//                       mode 1: m_i = m_i-1 + dmin + f_i * unit)
//   u8       value field width wv; if wv > 0: uvarint unit (fields count
//            in multiples of it: the gcd of the differences they encode)
//   uvarint  exception count e; e times: uvarint index gap (first: index,
//            then index - previous - 1), u64 LE raw value bits
//   bits     (n - 1) timestamp fields of wt bits, then the value fields of wv
//            bits (n in mode 0, n - 1 in mode 1), MSB first, zero-padded to
//            a byte; the chunk ends there.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "storage/chunkenc/bit_stream.h"
#include "base/status.h"
#include "base/sample.h"

namespace vigil::storage {

inline constexpr uint8_t kPackedChunkTag = 0xf1;   // first byte of a packed chunk (format 1)
inline constexpr int kPackedMaxDecimals = 15;      // largest k in v == m / 10^k
inline constexpr uint8_t kPackedModeValues = 0;    // fields are m_i - base
inline constexpr uint8_t kPackedModeDeltas = 1;    // fields are m_i - m_i-1 - dmin

// Encodes `samples` (timestamps not decreasing, 1..65535 of them) as a packed
// chunk, choosing the decimal scale and mode that give the fewest bytes.
// nullopt when packing does not suit the values (more than a quarter of them
// would be exceptions); the XOR form is then the better one.
std::optional<std::string> EncodePackedChunk(std::span<const Sample> samples);

// Decodes a packed chunk sample by sample. The bytes are borrowed: keep them
// alive while iterating. Corrupt input ends the iteration with a Corruption
// status, never a crash.
class PackedChunkDecoder {
 public:
  explicit PackedChunkDecoder(std::string_view chunk);

  // Advances to the next sample; false at the end or on corruption (see status()).
  bool Next();
  Sample At() const { return {t_, v_}; }
  const Status& status() const { return status_; }

 private:
  bool ParseHeader(std::string_view chunk);
  // Reads the next exception's index and bits from exceptions_.
  bool ParseExceptionIndex();
  bool Fail(const char* what);

  FieldReader time_fields_;
  FieldReader value_fields_;
  std::string_view exceptions_;  // the not yet read part of the exception list
  uint32_t total_ = 0;
  uint32_t read_ = 0;
  uint32_t exceptions_left_ = 0;
  uint32_t next_exception_ = 0;  // index of the next exception (valid if exceptions_left_ > 0)
  uint32_t exception_floor_ = 0;  // the smallest index the next exception may have
  uint64_t exception_bits_ = 0;   // raw value of the next exception
  uint8_t time_width_ = 0;
  uint8_t value_width_ = 0;
  uint8_t mode_ = 0;
  uint8_t decimals_ = 0;
  uint64_t time_delta_min_ = 0;
  uint64_t base_ = 0;       // two's complement, so sums wrap instead of overflowing
  uint64_t delta_min_ = 0;  // likewise
  uint64_t value_unit_ = 1;  // value fields count in multiples of this
  uint64_t m_ = 0;
  double scale_ = 1;  // 10^decimals
  int64_t t_ = 0;
  double v_ = 0;
  Status status_;
};

}  // namespace vigil::storage
