#include "storage/wal/wal_record.h"

#include <bit>
#include <cmath>
#include <unordered_map>

#include "base/coding.h"

namespace vigil::storage {
namespace {

// The smallest encoded sample of each record type: full width is a one-byte
// ref, one-byte delta and 8-byte value; compact is a lone header byte.
constexpr size_t kMinFullWidthSampleBytes = 10;
constexpr size_t kMinCompactSampleBytes = 1;

// Refs and times are stored as deltas. Both directions wrap (two's
// complement) instead of overflowing, so a corrupt record cannot cause
// undefined behaviour; for real refs and timestamps the arithmetic is plain.
int64_t Delta(uint64_t x, uint64_t base) { return static_cast<int64_t>(x - base); }
uint64_t FromDelta(uint64_t base, int64_t delta) { return base + static_cast<uint64_t>(delta); }

uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

// Compact sample header: zig-zag ref delta << 4 | time-changed << 3 | value kind.
constexpr int kHeaderFlagBits = 4;
constexpr uint64_t kTimeChanged = 8;
constexpr uint64_t kKindMask = 7;
// The ref delta must leave room for the flags in a uvarint.
constexpr uint64_t kMaxZigZagRefDelta = (uint64_t{1} << (64 - kHeaderFlagBits)) - 1;

// Value kinds: the 8 raw bytes; a varint integer; a varint mantissa m with
// value m / 10^k (k = kind - 1, 1..5); the stale marker (no bytes).
enum ValueKind : uint8_t {
  kRaw = 0,
  kInteger = 1,
  kFirstDecimal = 2,
  kLastDecimal = 6,
  kStale = 7
};
constexpr double kPow10[] = {1, 10, 100, 1000, 10000, 100000};
// Mantissas up to 2^48 take at most 7 varint bytes: less than raw.
constexpr double kMaxMantissa = 281474976710656.0;  // 2^48

double DecimalValue(int64_t mantissa, int kind) {
  return static_cast<double>(mantissa) / kPow10[kind - kInteger];
}

// The cheapest kind that gives `v` back bit for bit, and its mantissa.
ValueKind ClassifyValue(double v, int64_t* mantissa) {
  const uint64_t bits = std::bit_cast<uint64_t>(v);
  if (bits == kStaleNaNBits) return kStale;
  for (int kind = kInteger; kind <= kLastDecimal; ++kind) {
    const double scaled = v * kPow10[kind - kInteger];
    if (!(std::fabs(scaled) < kMaxMantissa)) return kRaw;  // NaN and infinities too
    const auto m = static_cast<int64_t>(std::nearbyint(scaled));
    if (std::bit_cast<uint64_t>(DecimalValue(m, kind)) == bits) {
      *mantissa = m;
      return static_cast<ValueKind>(kind);
    }
  }
  return kRaw;
}

void PutSeries(std::string* out, std::span<const WalSeries> series) {
  PutUvarint(out, series.size());
  for (const auto& s : series) {
    PutUvarint(out, s.ref);
    PutLabels(out, s.labels);
  }
}

// Type 3's series part. A string is a uvarint: 0 followed by a literal
// (uvarint length, bytes), which takes the next table position, or 1 + the
// table position of a string written earlier in the record.
class StringTableWriter {
 public:
  explicit StringTableWriter(std::string* out) : out_(out) {}
  void Put(std::string_view s) {
    const auto [it, added] = table_.try_emplace(s, table_.size());
    if (!added) {
      PutUvarint(out_, it->second + 1);
      return;
    }
    PutUvarint(out_, 0);
    PutUvarint(out_, s.size());
    out_->append(s);
  }

 private:
  std::string* out_;
  std::unordered_map<std::string_view, uint64_t> table_;
};

void PutSymbolSeries(std::string* out, std::span<const WalSeries> series) {
  PutUvarint(out, series.size());
  StringTableWriter strings(out);
  SeriesRef prev = 0;
  for (const auto& s : series) {
    PutVarint(out, Delta(s.ref, prev));
    prev = s.ref;
    PutUvarint(out, s.labels.size());
    for (const auto& l : s.labels) {
      strings.Put(l.name);
      strings.Put(l.value);
    }
  }
}

bool FitsCompact(std::span<const WalSample> samples) {
  for (size_t i = 1; i < samples.size(); ++i) {
    if (ZigZag(Delta(samples[i].ref, samples[i - 1].ref)) > kMaxZigZagRefDelta) return false;
  }
  return true;
}

void PutCompactSample(std::string* out, const WalSample& s, const WalSample& prev) {
  int64_t mantissa = 0;
  const ValueKind kind = ClassifyValue(s.v, &mantissa);
  const bool time_changed = s.t != prev.t;
  PutUvarint(out, ZigZag(Delta(s.ref, prev.ref)) << kHeaderFlagBits |
                      (time_changed ? kTimeChanged : 0) | kind);
  if (time_changed) PutVarint(out, Delta(s.t, prev.t));
  if (kind == kRaw) {
    PutFixed64LE(out, std::bit_cast<uint64_t>(s.v));
  } else if (kind != kStale) {
    PutVarint(out, mantissa);
  }
}

Status DecodeSeries(Decoder& d, WalCommit* out) {
  uint64_t n = 0;
  if (!d.Uvarint(&n)) return Status::Corruption("WAL record: truncated series count");
  for (uint64_t i = 0; i < n; ++i) {
    WalSeries s;
    if (!d.Uvarint(&s.ref) || !d.LabelSet(&s.labels)) {
      return Status::Corruption("WAL record: truncated series entry");
    }
    out->series.push_back(std::move(s));
  }
  return Status::OK();
}

// Reads type 3's strings (see StringTableWriter); views into the payload.
class StringTableReader {
 public:
  explicit StringTableReader(Decoder& d) : d_(d) {}
  bool Get(std::string_view* s) {
    uint64_t tag = 0;
    if (!d_.Uvarint(&tag)) return false;
    if (tag == 0) {
      if (!d_.Bytes(s)) return false;
      table_.push_back(*s);
      return true;
    }
    if (tag - 1 >= table_.size()) return false;
    *s = table_[tag - 1];
    return true;
  }

 private:
  Decoder& d_;
  std::vector<std::string_view> table_;
};

Status DecodeSymbolSeries(Decoder& d, WalCommit* out) {
  uint64_t n = 0;
  // An entry takes at least two bytes (ref delta, label count).
  if (!d.Uvarint(&n) || n > d.rest().size() / 2) {
    return Status::Corruption("WAL record: truncated series count");
  }
  out->series.reserve(n);
  StringTableReader strings(d);
  SeriesRef prev = 0;
  for (uint64_t i = 0; i < n; ++i) {
    int64_t delta = 0;
    uint64_t count = 0;
    // A label takes at least two bytes (two table references).
    if (!d.Varint(&delta) || !d.Uvarint(&count) || count > d.rest().size() / 2) {
      return Status::Corruption("WAL record: truncated series entry");
    }
    std::vector<Label> labels;
    labels.reserve(count);
    for (uint64_t j = 0; j < count; ++j) {
      std::string_view name, value;
      if (!strings.Get(&name) || !strings.Get(&value)) {
        return Status::Corruption("WAL record: truncated or unknown series label string");
      }
      labels.push_back({std::string(name), std::string(value)});
    }
    prev = FromDelta(prev, delta);
    out->series.push_back({prev, Labels(std::move(labels))});
  }
  return Status::OK();
}

// The count comes from the record: never reserve more than its bytes can hold.
Status CheckSampleCount(uint64_t n, const Decoder& d, size_t min_sample_bytes) {
  if (n > d.rest().size() / min_sample_bytes) {
    return Status::Corruption("WAL record: sample count " + std::to_string(n) + " exceeds the record");
  }
  return Status::OK();
}

Status DecodeFullWidthSamples(Decoder& d, uint64_t n, WalCommit* out) {
  int64_t base = 0;
  if (!d.Varint(&base)) return Status::Corruption("WAL record: truncated base time");
  VIGIL_RETURN_IF_ERROR(CheckSampleCount(n, d, kMinFullWidthSampleBytes));
  out->samples.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    WalSample s{};
    int64_t dt = 0;
    uint64_t bits = 0;
    if (!d.Uvarint(&s.ref) || !d.Varint(&dt) || !d.Fixed64LE(&bits)) {
      return Status::Corruption("WAL record: truncated sample");
    }
    s.t = static_cast<int64_t>(FromDelta(static_cast<uint64_t>(base), dt));
    s.v = std::bit_cast<double>(bits);
    out->samples.push_back(s);
  }
  return Status::OK();
}

bool DecodeCompactValue(Decoder& d, uint64_t kind, double* v) {
  if (kind == kStale) {
    *v = std::bit_cast<double>(kStaleNaNBits);
    return true;
  }
  if (kind == kRaw) {
    uint64_t bits = 0;
    if (!d.Fixed64LE(&bits)) return false;
    *v = std::bit_cast<double>(bits);
    return true;
  }
  int64_t mantissa = 0;
  if (!d.Varint(&mantissa)) return false;
  *v = DecimalValue(mantissa, static_cast<int>(kind));
  return true;
}

Status DecodeCompactSamples(Decoder& d, uint64_t n, WalCommit* out) {
  WalSample prev{};
  int64_t first_t = 0;
  if (!d.Uvarint(&prev.ref) || !d.Varint(&first_t)) {
    return Status::Corruption("WAL record: truncated first sample ref or time");
  }
  prev.t = first_t;
  VIGIL_RETURN_IF_ERROR(CheckSampleCount(n, d, kMinCompactSampleBytes));
  out->samples.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t header = 0;
    if (!d.Uvarint(&header)) return Status::Corruption("WAL record: truncated sample");
    WalSample s{};
    s.ref = FromDelta(prev.ref, UnZigZag(header >> kHeaderFlagBits));
    s.t = prev.t;
    if (header & kTimeChanged) {
      int64_t dt = 0;
      if (!d.Varint(&dt)) return Status::Corruption("WAL record: truncated sample time");
      s.t = static_cast<int64_t>(FromDelta(static_cast<uint64_t>(prev.t), dt));
    }
    if (!DecodeCompactValue(d, header & kKindMask, &s.v)) {
      return Status::Corruption("WAL record: truncated sample value");
    }
    out->samples.push_back(s);
    prev = s;
  }
  return Status::OK();
}

}  // namespace

std::string EncodeWalCommitFullWidth(std::span<const WalSeries> series,
                                     std::span<const WalSample> samples) {
  std::string out;
  out.reserve(16 + samples.size() * 12);
  out.push_back(static_cast<char>(kWalCommitRecord));
  PutSeries(&out, series);
  PutUvarint(&out, samples.size());
  if (samples.empty()) return out;
  const int64_t base = samples.front().t;
  PutVarint(&out, base);
  for (const auto& s : samples) {
    PutUvarint(&out, s.ref);
    PutVarint(&out, Delta(static_cast<uint64_t>(s.t), static_cast<uint64_t>(base)));
    PutFixed64LE(&out, std::bit_cast<uint64_t>(s.v));
  }
  return out;
}

std::string EncodeWalCommit(std::span<const WalSeries> series, std::span<const WalSample> samples) {
  if (!FitsCompact(samples)) return EncodeWalCommitFullWidth(series, samples);
  std::string out;
  out.reserve(16 + samples.size() * 6);
  out.push_back(static_cast<char>(kWalSymbolCommitRecord));
  PutSymbolSeries(&out, series);
  PutUvarint(&out, samples.size());
  if (samples.empty()) return out;
  PutUvarint(&out, samples.front().ref);
  PutVarint(&out, samples.front().t);
  const WalSample* prev = &samples.front();
  for (const auto& s : samples) {
    PutCompactSample(&out, s, *prev);
    prev = &s;
  }
  return out;
}

Result<WalCommit> DecodeWalCommit(std::string_view payload) {
  Decoder d(payload);
  uint8_t type = 0;
  if (!d.Byte(&type) || (type != kWalCommitRecord && type != kWalCompactCommitRecord &&
                         type != kWalSymbolCommitRecord)) {
    return Status::Corruption("unknown WAL record type " + std::to_string(type));
  }
  WalCommit out;
  VIGIL_RETURN_IF_ERROR(type == kWalSymbolCommitRecord ? DecodeSymbolSeries(d, &out)
                                                       : DecodeSeries(d, &out));
  uint64_t n = 0;
  if (!d.Uvarint(&n)) return Status::Corruption("WAL record: truncated sample count");
  if (n == 0) return out;
  VIGIL_RETURN_IF_ERROR(type == kWalCommitRecord ? DecodeFullWidthSamples(d, n, &out)
                                                 : DecodeCompactSamples(d, n, &out));
  return out;
}

}  // namespace vigil::storage
