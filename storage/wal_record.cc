#include "storage/wal_record.h"

#include <bit>

#include "storage/coding.h"

namespace vigil::storage {

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
    PutVarint(&out, s.t - base);
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
  out.samples.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    WalSample s{};
    int64_t dt = 0;
    uint64_t bits = 0;
    if (!d.Uvarint(&s.ref) || !d.Varint(&dt) || !d.Fixed64LE(&bits)) {
      return Status::Corruption("WAL record: truncated sample");
    }
    s.t = base + dt;
    s.v = std::bit_cast<double>(bits);
    out.samples.push_back(s);
  }
  return out;
}

}  // namespace vigil::storage
