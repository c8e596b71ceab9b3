#include "storage/chunkenc/xor_chunk.h"

#include <bit>

#include "base/coding.h"

namespace vigil::storage {
namespace {

uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }
// Sums of decoded deltas wrap instead of overflowing: a corrupt chunk must
// not be undefined behaviour.
int64_t WrappingAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

// Varints inside the bit stream are written 8 bits at a time (LEB128 groups).
void WriteVarint(BitWriter& w, uint64_t v) {
  while (v >= 0x80) {
    w.WriteBits((v & 0x7f) | 0x80, 8);
    v >>= 7;
  }
  w.WriteBits(v, 8);
}

bool ReadVarint(BitReader& r, uint64_t* out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    uint64_t byte = 0;
    if (!r.ReadBits(8, &byte)) return false;
    v |= (byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *out = v;
      return true;
    }
  }
  return false;
}

// Delta-of-delta buckets: a prefix of ones ended by a zero, then the value in
// `bits` bits of two's complement. The last bucket stores all 64 bits. The
// 4-bit bucket (Prometheus's smallest has 14) holds the few milliseconds of
// scrape jitter that real timestamps carry.
struct DodBucket {
  uint64_t prefix;
  int prefix_bits;
  int bits;
};
constexpr DodBucket kDodBuckets[] = {{0b10, 2, 4}, {0b110, 3, 14}, {0b1110, 4, 20}};

bool FitsBits(int64_t v, int bits) {
  return -((int64_t{1} << (bits - 1)) - 1) <= v && v <= (int64_t{1} << (bits - 1));
}

void WriteDeltaOfDelta(BitWriter& w, int64_t dod) {
  if (dod == 0) {
    w.WriteBit(false);
    return;
  }
  for (const auto& b : kDodBuckets) {
    if (!FitsBits(dod, b.bits)) continue;
    // One write: prefix and value together are at most 24 bits.
    const uint64_t value = static_cast<uint64_t>(dod) & ((uint64_t{1} << b.bits) - 1);
    w.WriteBits((b.prefix << b.bits) | value, b.prefix_bits + b.bits);
    return;
  }
  w.WriteBits(0b1111, 4);
  w.WriteBits(static_cast<uint64_t>(dod), 64);
}

}  // namespace

XorChunkEncoder::XorChunkEncoder() : buf_(kChunkHeaderSize, '\0') {}

void XorChunkEncoder::Append(int64_t t, double v) {
  if (count_ == 0) {
    BitWriter w(&buf_, used_bits_);
    WriteVarint(w, ZigZag(t));
    w.WriteBits(std::bit_cast<uint64_t>(v), 64);
    used_bits_ = w.used_bits();
    t0_ = t;
    v_bits_ = std::bit_cast<uint64_t>(v);
  } else {
    WriteTimestamp(t);
    WriteValue(v);
  }
  t_ = t;
  ++count_;
  buf_[0] = static_cast<char>(count_ >> 8);
  buf_[1] = static_cast<char>(count_ & 0xff);
}

std::unique_ptr<XorChunkEncoder> XorChunkEncoder::Resume(std::string_view chunk) {
  XorChunkDecoder d(chunk);
  while (d.Next()) {
  }
  if (!d.status().ok() || d.read_ != d.total_) return nullptr;
  auto e = std::make_unique<XorChunkEncoder>();
  const size_t bits = d.bits_.position();
  e->buf_.assign(chunk.substr(0, kChunkHeaderSize + (bits + 7) / 8));
  e->used_bits_ = static_cast<uint8_t>(bits % 8);
  if (e->used_bits_ != 0) {
    // The writer ORs into the last byte: bits past the stream must be zero.
    const auto keep = static_cast<uint8_t>(0xff00 >> e->used_bits_);
    e->buf_.back() = static_cast<char>(static_cast<uint8_t>(e->buf_.back()) & keep);
  }
  e->leading_ = d.window_ ? d.leading_ : 0xff;
  e->trailing_ = d.window_ ? d.trailing_ : 0;
  e->count_ = d.total_;
  e->t0_ = d.t0_;
  e->t_ = d.t_;
  e->t_delta_ = d.t_delta_;
  e->v_bits_ = d.v_bits_;
  return e;
}

void XorChunkEncoder::PutState(std::string* out) const {
  PutUvarint(out, count_);
  out->push_back(static_cast<char>(used_bits_));
  out->push_back(static_cast<char>(leading_));
  out->push_back(static_cast<char>(trailing_));
  PutVarint(out, t0_);
  PutVarint(out, t_ - t0_);
  PutVarint(out, t_delta_);
  PutFixed64LE(out, v_bits_);
}

std::unique_ptr<XorChunkEncoder> XorChunkEncoder::Restore(std::string_view state_then_chunk) {
  Decoder state(state_then_chunk);
  uint64_t count = 0;
  uint8_t used_bits = 0, leading = 0, trailing = 0;
  int64_t t0 = 0, span = 0, t_delta = 0;
  uint64_t v_bits = 0;
  if (!state.Uvarint(&count) || !state.Byte(&used_bits) || !state.Byte(&leading) ||
      !state.Byte(&trailing) || !state.Varint(&t0) || !state.Varint(&span) ||
      !state.Varint(&t_delta) || !state.Fixed64LE(&v_bits)) {
    return nullptr;
  }
  const std::string_view chunk = state.rest();
  // The state must describe this chunk: its header's count, a bit position
  // inside its last byte, a window the encoder could have chosen.
  if (count == 0 || count > 0xffff || chunk.size() <= kChunkHeaderSize || used_bits > 7 ||
      (leading != 0xff && (leading > 63 || trailing > 63 || leading + trailing > 64))) {
    return Resume(chunk);
  }
  const auto header =
      static_cast<uint16_t>(static_cast<uint8_t>(chunk[0]) << 8 | static_cast<uint8_t>(chunk[1]));
  if (header != count) return Resume(chunk);
  auto e = std::make_unique<XorChunkEncoder>();
  e->buf_.assign(chunk);
  e->count_ = static_cast<uint16_t>(count);
  e->used_bits_ = used_bits;
  e->leading_ = leading;
  e->trailing_ = trailing;
  e->t0_ = t0;
  e->t_ = static_cast<int64_t>(static_cast<uint64_t>(t0) + static_cast<uint64_t>(span));
  e->t_delta_ = t_delta;
  e->v_bits_ = v_bits;
  return e;
}

void XorChunkEncoder::WriteTimestamp(int64_t t) {
  BitWriter w(&buf_, used_bits_);
  const int64_t delta = t - t_;
  if (count_ == 1) {
    WriteVarint(w, ZigZag(delta));
  } else {
    WriteDeltaOfDelta(w, delta - t_delta_);
  }
  t_delta_ = delta;
  used_bits_ = w.used_bits();
}

void XorChunkEncoder::WriteValue(double v) {
  BitWriter w(&buf_, used_bits_);
  const uint64_t bits = std::bit_cast<uint64_t>(v);
  const uint64_t x = bits ^ v_bits_;
  v_bits_ = bits;
  if (x == 0) {
    w.WriteBit(false);
    used_bits_ = w.used_bits();
    return;
  }
  uint8_t lead = static_cast<uint8_t>(std::countl_zero(x));
  const uint8_t trail = static_cast<uint8_t>(std::countr_zero(x));
  if (lead >= 32) lead = 31;  // the leading count has 5 bits
  // Control bits and the meaningful bits go in one write when they fit
  // BitWriter's one-word path (56 bits), else field by field.
  if (leading_ != 0xff && lead >= leading_ && trail >= trailing_) {
    // Reuse the previous window of meaningful bits: '10', then the window.
    const int sig = 64 - leading_ - trailing_;
    if (sig + 2 <= 56) {
      w.WriteBits((uint64_t{0b10} << sig) | (x >> trailing_), sig + 2);
    } else {
      w.WriteBits(0b10, 2);
      w.WriteBits(x >> trailing_, sig);
    }
  } else {
    // A new window: '11', 5 bits of leading zeros, 6 of length (64 is
    // stored as 0), then the window.
    leading_ = lead;
    trailing_ = trail;
    const int sig = 64 - lead - trail;
    const uint64_t header =
        (uint64_t{0b11} << 11) | (uint64_t{lead} << 6) | static_cast<uint64_t>(sig & 63);
    if (sig + 13 <= 56) {
      w.WriteBits((header << sig) | (x >> trail), sig + 13);
    } else {
      w.WriteBits(header, 13);
      w.WriteBits(x >> trail, sig);
    }
  }
  used_bits_ = w.used_bits();
}

XorChunkDecoder::XorChunkDecoder(std::string_view chunk)
    : bits_(chunk.size() >= kChunkHeaderSize ? chunk.substr(kChunkHeaderSize) : std::string_view()) {
  if (chunk.size() < kChunkHeaderSize) {
    status_ = Status::Corruption("chunk shorter than its header");
    return;
  }
  total_ = static_cast<uint16_t>((static_cast<uint8_t>(chunk[0]) << 8) |
                                 static_cast<uint8_t>(chunk[1]));
}

bool XorChunkDecoder::Fail(const char* what) {
  status_ = Status::Corruption(std::string("truncated or corrupt chunk: ") + what);
  total_ = read_;
  return false;
}

bool XorChunkDecoder::Next() {
  if (!status_.ok() || read_ >= total_) return false;
  if (read_ == 0) {
    if (!ReadFirst()) return false;
  } else {
    if (!ReadTimestamp() || !ReadValue()) return false;
  }
  ++read_;
  return true;
}

bool XorChunkDecoder::ReadFirst() {
  uint64_t zz = 0;
  if (!ReadVarint(bits_, &zz)) return Fail("first timestamp");
  t_ = UnZigZag(zz);
  t0_ = t_;
  if (!bits_.ReadBits(64, &v_bits_)) return Fail("first value");
  return true;
}

bool XorChunkDecoder::ReadTimestamp() {
  if (read_ == 1) {
    uint64_t zz = 0;
    if (!ReadVarint(bits_, &zz)) return Fail("timestamp delta");
    t_delta_ = UnZigZag(zz);
    t_ = WrappingAdd(t_, t_delta_);
    return true;
  }
  int ones = 0;
  for (; ones < 4; ++ones) {
    bool bit = false;
    if (!bits_.ReadBit(&bit)) return Fail("timestamp prefix");
    if (!bit) break;
  }
  int64_t dod = 0;
  if (ones > 0) {
    const int size = ones == 4 ? 64 : kDodBuckets[ones - 1].bits;
    uint64_t raw = 0;
    if (!bits_.ReadBits(size, &raw)) return Fail("timestamp delta of delta");
    // Sign-extend: values above 2^(size-1) are negative (see FitsBits).
    if (size < 64 && raw > (uint64_t{1} << (size - 1))) raw -= uint64_t{1} << size;
    dod = static_cast<int64_t>(raw);
  }
  t_delta_ = WrappingAdd(t_delta_, dod);
  t_ = WrappingAdd(t_, t_delta_);
  return true;
}

bool XorChunkDecoder::ReadValue() {
  bool bit = false;
  if (!bits_.ReadBit(&bit)) return Fail("value control bit");
  if (!bit) return true;  // same value
  if (!bits_.ReadBit(&bit)) return Fail("value window bit");
  if (bit) {
    uint64_t lead = 0;
    uint64_t sig = 0;
    if (!bits_.ReadBits(5, &lead) || !bits_.ReadBits(6, &sig)) return Fail("value window");
    if (sig == 0) sig = 64;
    if (lead + sig > 64) return Fail("value window wider than 64 bits");
    leading_ = static_cast<uint8_t>(lead);
    trailing_ = static_cast<uint8_t>(64 - lead - sig);
    window_ = true;
  }
  const int sig = 64 - leading_ - trailing_;
  uint64_t x = 0;
  if (!bits_.ReadBits(sig, &x)) return Fail("value bits");
  v_bits_ ^= x << trailing_;
  return true;
}

}  // namespace vigil::storage
