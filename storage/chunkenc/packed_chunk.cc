#include "storage/chunkenc/packed_chunk.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <numeric>
#include <vector>

#include "base/coding.h"

namespace vigil::storage {
namespace {

constexpr std::array<double, kPackedMaxDecimals + 1> kPow10 = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
constexpr uint32_t kMaxPackedSamples = 0xffff;
// |m| stays below 2^62 so that every delta between two of them fits an int64.
constexpr double kMaxMagnitude = 0x1p62;
constexpr uint8_t kNotDecimal = 0xff;
constexpr int kMaxFieldWidth = 64;

// The value a decoder rebuilds from m at scale k. The encoder accepts an m
// only if this gives back the sample's exact bits, so the round trip is exact
// by construction (IEEE division is correctly rounded, hence deterministic).
double FromDecimal(int64_t m, int k) {
  return k == 0 ? static_cast<double>(m) : static_cast<double>(m) / kPow10[k];
}

std::optional<int64_t> ToDecimal(double v, int k) {
  const double x = v * kPow10[k];
  if (!(std::fabs(x) < kMaxMagnitude)) return std::nullopt;  // NaN and ±Inf too
  const int64_t m = std::llround(x);
  if (std::bit_cast<uint64_t>(FromDecimal(m, k)) != std::bit_cast<uint64_t>(v)) return std::nullopt;
  return m;
}

uint8_t MinDecimals(double v) {
  for (int k = 0; k <= kPackedMaxDecimals; ++k) {
    if (ToDecimal(v, k)) return static_cast<uint8_t>(k);
  }
  return kNotDecimal;
}

int FieldWidth(uint64_t range) { return static_cast<int>(std::bit_width(range)); }

// Fields of `count` values: (x - min) / unit, where unit is the greatest
// common divisor of those differences (gauges in pages or KiB shrink by it).
struct Fields {
  int64_t min = 0;
  uint64_t unit = 1;
  int width = 0;
};

template <typename Get>
Fields FieldsOf(size_t count, Get get) {
  if (count == 0) return {};
  int64_t lo = get(0), hi = lo;
  for (size_t i = 1; i < count; ++i) {
    lo = std::min(lo, get(i));
    hi = std::max(hi, get(i));
  }
  uint64_t unit = 0;
  for (size_t i = 0; i < count && unit != 1; ++i) {
    unit = std::gcd(unit, static_cast<uint64_t>(get(i)) - static_cast<uint64_t>(lo));
  }
  if (unit == 0) unit = 1;  // all equal
  return {lo, unit, FieldWidth((static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo)) / unit)};
}

// The decimal integers of a chunk at one scale; exceptions hold the previous
// integer so they do not widen the fields.
struct DecimalValues {
  int decimals = 0;
  std::vector<int64_t> m;
  std::vector<uint32_t> exceptions;
};

DecimalValues ToDecimals(std::span<const Sample> samples, std::span<const uint8_t> min_decimals, int k) {
  DecimalValues out{k, std::vector<int64_t>(samples.size()), {}};
  std::optional<int64_t> last;
  for (size_t i = 0; i < samples.size(); ++i) {
    const auto m = min_decimals[i] <= k ? ToDecimal(samples[i].v, k) : std::nullopt;
    if (!m) {
      out.exceptions.push_back(static_cast<uint32_t>(i));
      continue;
    }
    // Leading exceptions take the first decimal value.
    if (!last) std::fill(out.m.begin(), out.m.begin() + static_cast<ptrdiff_t>(i), *m);
    out.m[i] = *m;
    last = m;
  }
  for (const uint32_t i : out.exceptions) {
    if (i > 0) out.m[i] = out.m[i - 1];
  }
  return out;
}

// The byte header up to the value scheme, and the timestamp fields.
struct TimePart {
  std::string bytes;  // tag, n, t0, timestamp delta header, then the fields
  size_t header_size = 0;
  uint8_t used_bits = 0;
};

TimePart EncodeTimes(std::span<const Sample> samples) {
  TimePart out;
  out.bytes.push_back(static_cast<char>(kPackedChunkTag));
  PutUvarint(&out.bytes, samples.size());
  PutVarint(&out.bytes, samples[0].t);
  const size_t n = samples.size();
  if (n == 1) {
    out.header_size = out.bytes.size();
    return out;
  }
  const auto delta = [&](size_t i) {
    return static_cast<uint64_t>(samples[i + 1].t) - static_cast<uint64_t>(samples[i].t);
  };
  uint64_t lo = delta(0), hi = lo;
  for (size_t i = 1; i + 1 < n; ++i) {
    lo = std::min(lo, delta(i));
    hi = std::max(hi, delta(i));
  }
  const int width = FieldWidth(hi - lo);
  PutUvarint(&out.bytes, lo);
  out.bytes.push_back(static_cast<char>(width));
  out.header_size = out.bytes.size();
  BitWriter w(&out.bytes);
  for (size_t i = 0; i + 1 < n; ++i) w.WriteBits(delta(i) - lo, width);
  out.used_bits = w.used_bits();
  return out;
}

std::string EncodeWithValues(const TimePart& times, std::span<const Sample> samples,
                             const DecimalValues& dv, uint8_t mode) {
  const auto& m = dv.m;
  const size_t n = m.size();
  const auto delta = [&](size_t i) { return m[i + 1] - m[i]; };
  const Fields fields = mode == kPackedModeValues
                            ? FieldsOf(n, [&](size_t i) { return m[i]; })
                            : FieldsOf(n - 1, delta);
  std::string header(times.bytes, 0, times.header_size);
  header.push_back(static_cast<char>(mode << 4 | dv.decimals));
  PutVarint(&header, mode == kPackedModeValues ? fields.min : m[0]);
  if (mode == kPackedModeDeltas && n > 1) PutVarint(&header, fields.min);
  header.push_back(static_cast<char>(fields.width));
  if (fields.width > 0) PutUvarint(&header, fields.unit);
  PutUvarint(&header, dv.exceptions.size());
  for (size_t e = 0; e < dv.exceptions.size(); ++e) {
    const uint32_t floor = e == 0 ? 0 : dv.exceptions[e - 1] + 1;
    PutUvarint(&header, dv.exceptions[e] - floor);
    PutFixed64LE(&header, std::bit_cast<uint64_t>(samples[dv.exceptions[e]].v));
  }
  std::string bits(times.bytes, times.header_size);
  BitWriter w(&bits, times.used_bits);
  const auto field = [&](int64_t x) {
    return (static_cast<uint64_t>(x) - static_cast<uint64_t>(fields.min)) / fields.unit;
  };
  if (mode == kPackedModeValues) {
    for (size_t i = 0; i < n; ++i) w.WriteBits(field(m[i]), fields.width);
  } else {
    for (size_t i = 0; i + 1 < n; ++i) w.WriteBits(field(delta(i)), fields.width);
  }
  return header + bits;
}

}  // namespace

std::optional<std::string> EncodePackedChunk(std::span<const Sample> samples) {
  const size_t n = samples.size();
  if (n == 0 || n > kMaxPackedSamples) return std::nullopt;
  const size_t max_exceptions = n / 4;
  std::vector<uint8_t> min_decimals(n);
  uint32_t scales_present = 0;  // bit k: some value needs exactly k decimals
  size_t not_decimal = 0;
  for (size_t i = 0; i < n; ++i) {
    min_decimals[i] = MinDecimals(samples[i].v);
    if (min_decimals[i] != kNotDecimal) {
      scales_present |= 1u << min_decimals[i];
    } else if (++not_decimal > max_exceptions) {
      return std::nullopt;  // full-precision floats: give up early, XOR suits them
    }
  }
  const TimePart times = EncodeTimes(samples);
  std::optional<std::string> best;
  for (int k = 0; k <= kPackedMaxDecimals; ++k) {
    if ((scales_present & (1u << k)) == 0) continue;
    const DecimalValues dv = ToDecimals(samples, min_decimals, k);
    if (dv.exceptions.size() > max_exceptions) continue;
    for (const uint8_t mode : {kPackedModeValues, kPackedModeDeltas}) {
      std::string chunk = EncodeWithValues(times, samples, dv, mode);
      if (!best || chunk.size() < best->size()) best = std::move(chunk);
    }
  }
  return best;
}

PackedChunkDecoder::PackedChunkDecoder(std::string_view chunk) {
  ParseHeader(chunk);  // on failure the status is set and there is nothing to read
}

bool PackedChunkDecoder::Fail(const char* what) {
  status_ = Status::Corruption(std::string("corrupt packed chunk: ") + what);
  total_ = read_;
  return false;
}

bool PackedChunkDecoder::ParseHeader(std::string_view chunk) {
  Decoder d(chunk);
  uint8_t tag = 0, scheme = 0;
  uint64_t n = 0;
  if (!d.Byte(&tag) || tag != kPackedChunkTag) return Fail("tag");
  if (!d.Uvarint(&n) || n == 0 || n > kMaxPackedSamples) return Fail("sample count");
  if (!d.Varint(&t_)) return Fail("first timestamp");
  if (n > 1 && (!d.Uvarint(&time_delta_min_) || !d.Byte(&time_width_) || time_width_ > kMaxFieldWidth)) {
    return Fail("timestamp fields");
  }
  if (!d.Byte(&scheme)) return Fail("value scheme");
  mode_ = scheme >> 4;
  decimals_ = scheme & 0xf;
  if (mode_ > kPackedModeDeltas || decimals_ > kPackedMaxDecimals) return Fail("value scheme");
  scale_ = kPow10[decimals_];
  int64_t base = 0, delta_min = 0;
  if (!d.Varint(&base)) return Fail("value base");
  if (mode_ == kPackedModeDeltas && n > 1 && !d.Varint(&delta_min)) return Fail("value delta");
  base_ = static_cast<uint64_t>(base);
  delta_min_ = static_cast<uint64_t>(delta_min);
  if (!d.Byte(&value_width_) || value_width_ > kMaxFieldWidth) return Fail("value width");
  if (value_width_ > 0 && (!d.Uvarint(&value_unit_) || value_unit_ == 0)) return Fail("value unit");
  uint64_t exceptions = 0;
  if (!d.Uvarint(&exceptions) || exceptions > n) return Fail("exception count");
  total_ = static_cast<uint32_t>(n);
  exceptions_ = d.rest();
  // Walk the exception list once to validate it and find the fields after it.
  uint64_t floor = 0;  // the smallest index the next exception may have
  for (uint64_t e = 0; e < exceptions; ++e) {
    uint64_t gap = 0, bits = 0;
    if (!d.Uvarint(&gap) || !d.Fixed64LE(&bits)) return Fail("exception list");
    if (gap >= n || floor + gap >= n) return Fail("exception index");
    floor += gap + 1;
  }
  exceptions_left_ = static_cast<uint32_t>(exceptions);
  if (exceptions_left_ > 0 && !ParseExceptionIndex()) return false;
  const std::string_view fields = d.rest();
  const uint64_t value_fields = mode_ == kPackedModeValues ? n : n - 1;
  const uint64_t bits = (n - 1) * time_width_ + value_fields * value_width_;
  if (fields.size() != (bits + 7) / 8) return Fail("field region size");
  time_fields_ = FieldReader(fields, 0);
  value_fields_ = FieldReader(fields, (n - 1) * time_width_);
  return true;
}

bool PackedChunkDecoder::ParseExceptionIndex() {
  Decoder d(exceptions_);
  uint64_t gap = 0;
  if (!d.Uvarint(&gap) || !d.Fixed64LE(&exception_bits_)) return Fail("exception list");
  next_exception_ = exception_floor_ + static_cast<uint32_t>(gap);
  exceptions_ = d.rest();
  return true;
}

bool PackedChunkDecoder::Next() {
  if (read_ >= total_) return false;
  if (read_ > 0) {
    t_ = static_cast<int64_t>(static_cast<uint64_t>(t_) + time_delta_min_ + time_fields_.Read(time_width_));
  }
  if (mode_ == kPackedModeValues) {
    m_ = base_ + value_fields_.Read(value_width_) * value_unit_;
  } else if (read_ == 0) {
    m_ = base_;
  } else {
    m_ += delta_min_ + value_fields_.Read(value_width_) * value_unit_;
  }
  const auto m = static_cast<int64_t>(m_);
  v_ = decimals_ == 0 ? static_cast<double>(m) : static_cast<double>(m) / scale_;
  if (exceptions_left_ > 0 && read_ == next_exception_) {
    v_ = std::bit_cast<double>(exception_bits_);
    exception_floor_ = next_exception_ + 1;
    if (--exceptions_left_ > 0 && !ParseExceptionIndex()) return false;
  }
  ++read_;
  return true;
}

}  // namespace vigil::storage
