// Stored chunks: a chunk as the store hands it around is either an XOR chunk
// (the head's open and recently closed chunks, and everything written before
// packed chunks existed) or a packed chunk (closed chunks written to RocksDB).
// The first byte tells them apart: an XOR chunk starts with the high byte of
// its sample count, always 0 since no writer puts more than 255 samples in
// one; a packed chunk starts with kPackedChunkTag. Spec: docs/format/chunks.md.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "storage/chunkenc/packed_chunk.h"
#include "base/status.h"
#include "base/sample.h"
#include "storage/chunkenc/xor_chunk.h"

namespace vigil::storage {

bool IsPackedChunk(std::string_view chunk);

// Decodes a chunk of either format. The bytes are borrowed: keep them alive
// while iterating.
class ChunkDecoder {
 public:
  explicit ChunkDecoder(std::string_view chunk);

  // Advances to the next sample; false at the end or on corruption (see status()).
  bool Next() {
    auto* packed = std::get_if<PackedChunkDecoder>(&decoder_);
    return packed != nullptr ? packed->Next() : std::get<XorChunkDecoder>(decoder_).Next();
  }
  Sample At() const {
    const auto* packed = std::get_if<PackedChunkDecoder>(&decoder_);
    return packed != nullptr ? packed->At() : std::get<XorChunkDecoder>(decoder_).At();
  }
  const Status& status() const;

 private:
  std::variant<XorChunkDecoder, PackedChunkDecoder> decoder_;
};

// The chunk to store for the XOR chunk `xor_chunk`: its packed form when that
// is smaller, otherwise `xor_chunk` itself (also when it does not decode).
std::string CompactChunk(std::string_view xor_chunk);

}  // namespace vigil::storage
