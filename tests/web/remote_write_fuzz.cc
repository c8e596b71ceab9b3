// libFuzzer target: the remote write decoder (snappy block, then protobuf)
// must never crash, over-allocate or hang on any input, and what it decodes
// must re-encode to something that decodes the same. Seeds: fuzz_corpus/remote_write_fuzz/.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "remote/remote_protocol.h"

namespace {

bool SameSeries(const vigil::remote::RemoteTimeSeries& a,
                const vigil::remote::RemoteTimeSeries& b) {
  if (a.labels.size() != b.labels.size() || a.samples.size() != b.samples.size()) return false;
  for (size_t i = 0; i < a.labels.size(); ++i) {
    if (a.labels[i].name != b.labels[i].name || a.labels[i].value != b.labels[i].value) {
      return false;
    }
  }
  for (size_t i = 0; i < a.samples.size(); ++i) {
    if (a.samples[i].timestamp_ms != b.samples[i].timestamp_ms ||
        std::memcmp(&a.samples[i].value, &b.samples[i].value, sizeof(double)) != 0) {
      return false;
    }
  }
  return true;
}

void DecodeAndRoundTrip(std::string_view proto) {
  auto req = vigil::remote::DecodeWriteRequest(proto);
  if (!req.ok()) return;
  auto again = vigil::remote::DecodeWriteRequest(vigil::remote::EncodeWriteRequest(*req));
  if (!again.ok() || again->timeseries.size() != req->timeseries.size()) std::abort();
  for (size_t i = 0; i < req->timeseries.size(); ++i) {
    if (!SameSeries(req->timeseries[i], again->timeseries[i])) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // As the receiver gets it: snappy first, with a small decoded-size cap.
  auto raw = vigil::remote::SnappyDecode(input, 1 << 20);
  if (raw.ok()) DecodeAndRoundTrip(*raw);
  // And the protobuf decoder on its own.
  DecodeAndRoundTrip(input);
  return 0;
}
