// XOR chunks: Gorilla-style compression of one series' samples
// (delta-of-delta timestamps, XOR-ed float values). Layout: docs/format/chunks.md.
#pragma once

#include <bit>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/sample.h"
#include "base/status.h"
#include "storage/chunkenc/bit_stream.h"

namespace vigil::storage {

// Chunk layout constants.
inline constexpr size_t kChunkHeaderSize = 2;      // sample count, uint16 big endian
inline constexpr uint16_t kMaxChunkSamples = 120;  // the head cuts a chunk at this many samples

// Appends samples to one chunk. Timestamps must not decrease (the head
// enforces that); values are kept bit-exact, NaN payloads included.
class XorChunkEncoder {
 public:
  XorChunkEncoder();
  // An encoder that continues `chunk` (an XOR chunk this class wrote, e.g. a
  // head checkpoint's open chunk) as if its samples had been appended one by
  // one: the same bytes afterwards, at the cost of one decoding pass instead
  // of re-encoding. Null when the chunk is corrupt.
  static std::unique_ptr<XorChunkEncoder> Resume(std::string_view chunk);
  // The encoder's state after its last sample (what Resume recovers by
  // decoding), appended to *out: about 20 bytes, so a head checkpoint can
  // store it next to the chunk and Restore can skip the decoding pass.
  void PutState(std::string* out) const;
  // An encoder continuing the chunk that follows a state PutState wrote.
  // When the state does not fit the chunk (sample count, bit position,
  // window) the chunk is decoded as by Resume; null when the state is
  // truncated or the chunk corrupt.
  static std::unique_ptr<XorChunkEncoder> Restore(std::string_view state_then_chunk);

  void Append(int64_t t, double v);
  uint16_t num_samples() const { return count_; }
  int64_t min_time() const { return t0_; }
  int64_t max_time() const { return t_; }
  // The encoded chunk (header plus bit stream).
  const std::string& bytes() const { return buf_; }
  // Bytes the encoder occupies in memory (for the memory statistics).
  size_t MemoryBytes() const { return sizeof(*this) + buf_.capacity(); }

 private:
  void WriteTimestamp(int64_t t);
  void WriteValue(double v);

  std::string buf_;
  uint8_t used_bits_ = 0;
  uint8_t leading_ = 0xff;  // 0xff: no XOR window yet
  uint8_t trailing_ = 0;
  uint16_t count_ = 0;
  int64_t t0_ = 0;
  int64_t t_ = 0;
  int64_t t_delta_ = 0;
  uint64_t v_bits_ = 0;
};

// Decodes a chunk. The bytes are borrowed: keep them alive while iterating.
class XorChunkDecoder {
 public:
  explicit XorChunkDecoder(std::string_view chunk);

  // Advances to the next sample; false at the end or on corruption (see status()).
  bool Next();
  Sample At() const { return {t_, std::bit_cast<double>(v_bits_)}; }
  const Status& status() const { return status_; }

 private:
  friend class XorChunkEncoder;  // Resume takes over the decoder's state

  bool ReadFirst();
  bool ReadTimestamp();
  bool ReadValue();
  bool Fail(const char* what);

  BitReader bits_;
  uint16_t total_ = 0;
  uint16_t read_ = 0;
  uint8_t leading_ = 0;
  uint8_t trailing_ = 0;
  bool window_ = false;  // a value window was read (leading_/trailing_ hold it)
  int64_t t0_ = 0;
  int64_t t_ = 0;
  int64_t t_delta_ = 0;
  uint64_t v_bits_ = 0;
  Status status_;
};

// Decodes a whole chunk of either stored format, XOR or packed (for tests,
// rewrites and re-encoding on load). Defined with the format dispatch in
// stored_chunk.cc; declared here so every user of XOR chunks has it.
Result<std::vector<Sample>> DecodeChunk(std::string_view chunk);

}  // namespace vigil::storage
