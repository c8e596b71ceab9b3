#include "storage/chunkenc/stored_chunk.h"

namespace vigil::storage {
namespace {

std::variant<XorChunkDecoder, PackedChunkDecoder> DecoderFor(std::string_view chunk) {
  if (IsPackedChunk(chunk)) return PackedChunkDecoder(chunk);
  return XorChunkDecoder(chunk);
}

}  // namespace

bool IsPackedChunk(std::string_view chunk) {
  return !chunk.empty() && static_cast<uint8_t>(chunk[0]) == kPackedChunkTag;
}

ChunkDecoder::ChunkDecoder(std::string_view chunk) : decoder_(DecoderFor(chunk)) {}

const Status& ChunkDecoder::status() const {
  return std::visit([](const auto& d) -> const Status& { return d.status(); }, decoder_);
}

std::string CompactChunk(std::string_view xor_chunk) {
  if (IsPackedChunk(xor_chunk)) return std::string(xor_chunk);
  auto samples = DecodeChunk(xor_chunk);
  if (!samples.ok()) return std::string(xor_chunk);
  auto packed = EncodePackedChunk(*samples);
  if (!packed || packed->size() >= xor_chunk.size()) return std::string(xor_chunk);
  return *std::move(packed);
}

Result<std::vector<Sample>> DecodeChunk(std::string_view chunk) {
  ChunkDecoder d(chunk);
  std::vector<Sample> out;
  while (d.Next()) out.push_back(d.At());
  if (!d.status().ok()) return d.status();
  return out;
}

}  // namespace vigil::storage
