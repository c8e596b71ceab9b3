// libFuzzer target: the remote read decoders (request as the server gets it,
// response as a client would) must never crash, over-allocate or hang on any
// input. Seeds: fuzz_corpus/remote_read_fuzz/.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "remote/remote_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto raw = vigil::remote::SnappyDecode(input, 1 << 20);
  if (raw.ok()) (void)vigil::remote::DecodeReadRequest(*raw);
  auto req = vigil::remote::DecodeReadRequest(input);
  if (req.ok()) {
    // What it decodes re-encodes to a request that decodes to as many queries.
    auto again = vigil::remote::DecodeReadRequest(vigil::remote::EncodeReadRequest(*req));
    if (!again.ok() || again->queries.size() != req->queries.size()) std::abort();
  }
  (void)vigil::remote::DecodeReadResponse(input);
  return 0;
}
