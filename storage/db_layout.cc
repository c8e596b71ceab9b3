#include "storage/db_layout.h"

#include "base/coding.h"
#include "storage/chunkenc/stored_chunk.h"

namespace vigil::storage {
namespace {

void PutU16Bytes(std::string* out, std::string_view s) {
  out->push_back(static_cast<char>((s.size() >> 8) & 0xff));
  out->push_back(static_cast<char>(s.size() & 0xff));
  out->append(s);
}

bool GetU16Bytes(std::string_view* in, std::string_view* out) {
  if (in->size() < 2) return false;
  const size_t n = (static_cast<uint8_t>((*in)[0]) << 8) | static_cast<uint8_t>((*in)[1]);
  if (in->size() < 2 + n) return false;
  *out = in->substr(2, n);
  in->remove_prefix(2 + n);
  return true;
}

}  // namespace

int64_t PartitionOf(int64_t t, int64_t partition_ms) {
  return t >= 0 ? t / partition_ms : -((-t + partition_ms - 1) / partition_ms);
}

std::string SeriesKey(SeriesRef ref) {
  std::string k = "r";
  PutFixed64BE(&k, ref);
  return k;
}

std::string SeriesHashPrefix(uint64_t hash) {
  std::string k = "h";
  PutFixed64BE(&k, hash);
  return k;
}

std::string SeriesHashKey(uint64_t hash, SeriesRef ref) {
  std::string k = SeriesHashPrefix(hash);
  PutFixed64BE(&k, ref);
  return k;
}

std::string PartitionPrefix(int64_t partition) {
  std::string k;
  PutOrderedInt64(&k, partition);
  return k;
}

int64_t PartitionOfKey(std::string_view key) { return DecodeOrderedInt64(key); }

std::string ChunkSeriesPrefix(int64_t partition, SeriesRef ref) {
  std::string k = PartitionPrefix(partition);
  PutFixed64BE(&k, ref);
  return k;
}

std::string ChunkKey(int64_t partition, SeriesRef ref, int64_t min_time) {
  std::string k = ChunkSeriesPrefix(partition, ref);
  PutOrderedInt64(&k, min_time);
  return k;
}

std::string EncodeChunkValue(int64_t min_time, int64_t max_time, std::string_view chunk) {
  const std::string stored = CompactChunk(chunk);
  std::string v(1, static_cast<char>(IsPackedChunk(stored) ? kChunkEncodingPacked : kChunkEncodingXor));
  PutUvarint(&v, static_cast<uint64_t>(max_time - min_time));
  v.append(stored);
  return v;
}

bool DecodeChunkValue(std::string_view value, int64_t min_time, ChunkValue* out) {
  Decoder d(value);
  uint8_t enc = 0;
  uint64_t span = 0;
  if (!d.Byte(&enc) || !d.Uvarint(&span)) return false;
  // The encoding byte and the chunk's own first byte must agree.
  const bool packed = IsPackedChunk(d.rest());
  if (enc != (packed ? kChunkEncodingPacked : kChunkEncodingXor)) return false;
  out->max_time = min_time + static_cast<int64_t>(span);
  out->chunk = d.rest();
  return true;
}

std::string PostingNamePrefix(int64_t partition, std::string_view name) {
  std::string k = PartitionPrefix(partition);
  PutU16Bytes(&k, name);
  return k;
}

std::string PostingValuePrefix(int64_t partition, std::string_view name, std::string_view value) {
  std::string k = PostingNamePrefix(partition, name);
  PutU16Bytes(&k, value);
  return k;
}

std::string PostingKey(int64_t partition, std::string_view name, std::string_view value,
                       SeriesRef ref) {
  std::string k = PostingValuePrefix(partition, name, value);
  PutFixed64BE(&k, ref);
  return k;
}

bool ParsePostingKey(std::string_view key, ParsedPosting* out) {
  if (key.size() < 8) return false;
  key.remove_prefix(8);
  if (!GetU16Bytes(&key, &out->name) || !GetU16Bytes(&key, &out->value) || key.size() != 8) {
    return false;
  }
  out->ref = DecodeFixed64BE(key);
  return true;
}

std::string HeadKey(SeriesRef ref) {
  std::string k;
  PutFixed64BE(&k, ref);
  return k;
}

std::string PrefixEnd(std::string prefix) {
  while (!prefix.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(prefix.back());
    if (last != 0xff) {
      ++last;
      return prefix;
    }
    prefix.pop_back();
  }
  return std::string(64, '\xff');
}

}  // namespace vigil::storage
