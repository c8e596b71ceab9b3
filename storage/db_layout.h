// How the store lays its data out in RocksDB: column families and key
// encodings. Every key is built and parsed here. Spec: docs/format/rocksdb.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/labels.h"
#include "storage/storage.h"

namespace vigil::storage {

// Column families.
inline constexpr const char* kSeriesCf = "series";      // ref -> labels; labels hash -> ref
inline constexpr const char* kPostingsCf = "postings";  // partition|name|value|ref -> ""
inline constexpr const char* kChunksCf = "chunks";      // partition|ref|min time -> chunk
inline constexpr const char* kMetaCf = "meta";          // small named settings
inline constexpr const char* kHeadCf = "head";          // ref -> open chunk at the last WAL checkpoint

// Meta keys.
inline constexpr std::string_view kMetaRetention = "retention";        // varint ms, varint bytes
inline constexpr std::string_view kMetaNextRef = "next_ref";           // uvarint
inline constexpr std::string_view kMetaCheckpoint = "wal_checkpoint";  // uvarint first segment to replay

// First byte of every chunk value: the stored chunk's format (stored_chunk.h).
// In a head CF value, marks an open chunk stored with its encoder's state
// (an XOR chunk's first byte is its sample count's high byte, never 0xff).
inline constexpr uint8_t kHeadChunkWithState = 0xff;

inline constexpr uint8_t kChunkEncodingXor = 1;
inline constexpr uint8_t kChunkEncodingPacked = 2;

// Partitions are numbered floor(t / partition_ms).
int64_t PartitionOf(int64_t t, int64_t partition_ms);

// series CF.
std::string SeriesKey(SeriesRef ref);
std::string SeriesHashKey(uint64_t hash, SeriesRef ref);
std::string SeriesHashPrefix(uint64_t hash);

// chunks CF: partition (8) | series ref (8) | chunk min time (8), all big endian.
std::string ChunkKey(int64_t partition, SeriesRef ref, int64_t min_time);
std::string ChunkSeriesPrefix(int64_t partition, SeriesRef ref);
std::string PartitionPrefix(int64_t partition);
int64_t PartitionOfKey(std::string_view key);
struct ChunkValue {
  int64_t max_time;
  std::string_view chunk;
};
// `chunk` is an XOR chunk; it is stored in its densest form (CompactChunk).
std::string EncodeChunkValue(int64_t min_time, int64_t max_time, std::string_view chunk);
// `out->chunk` is a stored chunk of either format: decode it with ChunkDecoder.
bool DecodeChunkValue(std::string_view value, int64_t min_time, ChunkValue* out);

// postings CF: partition (8) | u16 len, name | u16 len, value | series ref (8).
std::string PostingKey(int64_t partition, std::string_view name, std::string_view value,
                       SeriesRef ref);
std::string PostingNamePrefix(int64_t partition, std::string_view name);
std::string PostingValuePrefix(int64_t partition, std::string_view name, std::string_view value);
struct ParsedPosting {
  std::string_view name;
  std::string_view value;
  SeriesRef ref;
};
bool ParsePostingKey(std::string_view key, ParsedPosting* out);

// head CF: series ref (8) -> labels, then the open chunk.
std::string HeadKey(SeriesRef ref);

// The smallest key greater than every key starting with `prefix`.
std::string PrefixEnd(std::string prefix);

}  // namespace vigil::storage
