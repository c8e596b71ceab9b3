#include "storage/wal/wal_record.h"

#include <bit>

#include "base/coding.h"

namespace vigil::storage {
namespace {

// The smallest encoded sample: one-byte ref, one-byte delta, 8-byte value.
constexpr size_t kMinSampleBytes = 10;

// Sample times are stored as deltas from the first one. Both directions wrap
// (two's complement) instead of overflowing, so a corrupt record cannot cause
// undefined behaviour; for real timestamps the arithmetic is plain.
int64_t TimeDelta(int64_t t, int64_t base) {
  return static_cast<int64_t>(static_cast<uint64_t>(t) - static_cast<uint64_t>(base));
}
int64_t TimeFromDelta(int64_t base, int64_t delta) {
  return static_cast<int64_t>(static_cast<uint64_t>(base) + static_cast<uint64_t>(delta));
}

}  // namespace

std::string EncodeWalCommit(std::span<const WalSeries> series, std::span<const WalSample> samples) {
  std::string out;
  out.reserve(16 + samples.size() * 12);
  out.push_back(static_cast<char>(kWalCommitRecord));
  PutUvarint(&out, series.size());
  for (const auto& s : series) {
    PutUvarint(&out, s.ref);
    PutLabels(&out, s.labels);
  }
  PutUvarint(&out, samples.size());
  if (samples.empty()) return out;
  const int64_t base = samples.front().t;
  PutVarint(&out, base);
  for (const auto& s : samples) {
    PutUvarint(&out, s.ref);
    PutVarint(&out, TimeDelta(s.t, base));
    PutFixed64LE(&out, std::bit_cast<uint64_t>(s.v));
  }
  return out;
}

Result<WalCommit> DecodeWalCommit(std::string_view payload) {
  Decoder d(payload);
  uint8_t type = 0;
  if (!d.Byte(&type) || type != kWalCommitRecord) {
    return Status::Corruption("unknown WAL record type " + std::to_string(type));
  }
  WalCommit out;
  uint64_t n = 0;
  if (!d.Uvarint(&n)) return Status::Corruption("WAL record: truncated series count");
  for (uint64_t i = 0; i < n; ++i) {
    WalSeries s;
    if (!d.Uvarint(&s.ref) || !d.LabelSet(&s.labels)) {
      return Status::Corruption("WAL record: truncated series entry");
    }
    out.series.push_back(std::move(s));
  }
  if (!d.Uvarint(&n)) return Status::Corruption("WAL record: truncated sample count");
  if (n == 0) return out;
  int64_t base = 0;
  if (!d.Varint(&base)) return Status::Corruption("WAL record: truncated base time");
  // The count comes from the record: never reserve more than its bytes can hold.
  if (n > d.rest().size() / kMinSampleBytes) {
    return Status::Corruption("WAL record: sample count " + std::to_string(n) + " exceeds the record");
  }
  out.samples.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    WalSample s{};
    int64_t dt = 0;
    uint64_t bits = 0;
    if (!d.Uvarint(&s.ref) || !d.Varint(&dt) || !d.Fixed64LE(&bits)) {
      return Status::Corruption("WAL record: truncated sample");
    }
    s.t = TimeFromDelta(base, dt);
    s.v = std::bit_cast<double>(bits);
    out.samples.push_back(s);
  }
  return out;
}

}  // namespace vigil::storage
