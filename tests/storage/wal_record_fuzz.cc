// libFuzzer target: any WAL record payload must decode or fail with
// Corruption (never crash or allocate what the payload cannot hold), and
// what decodes must survive an encode/decode round trip unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "storage/wal/wal_record.h"

namespace {

bool SameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

bool Equal(const vigil::storage::WalCommit& a, const vigil::storage::WalCommit& b) {
  if (a.series.size() != b.series.size() || a.samples.size() != b.samples.size()) return false;
  for (size_t i = 0; i < a.series.size(); ++i) {
    if (a.series[i].ref != b.series[i].ref || !(a.series[i].labels == b.series[i].labels)) {
      return false;
    }
  }
  for (size_t i = 0; i < a.samples.size(); ++i) {
    const auto& x = a.samples[i];
    const auto& y = b.samples[i];
    if (x.ref != y.ref || x.t != y.t || !SameBits(x.v, y.v)) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vigil::storage;
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  auto decoded = DecodeWalCommit(payload);
  if (!decoded.ok()) return 0;
  auto again = DecodeWalCommit(EncodeWalCommit(decoded->series, decoded->samples));
  if (!again.ok() || !Equal(*decoded, *again)) std::abort();
  return 0;
}
