// ChunkSeries: a Series backed by copies of compressed chunks (from the head
// and from RocksDB), decoded lazily by a merging iterator.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "storage/head.h"
#include "storage/storage.h"
#include "storage/chunkenc/stored_chunk.h"

namespace vigil::storage {

// Iterates chunks sorted by min time, yielding samples in [mint, maxt] once
// each: a chunk read both from the head and from RocksDB (flushed in between)
// contributes its samples only once.
class ChunkMergeIterator final : public SeriesIterator {
 public:
  ChunkMergeIterator(std::shared_ptr<const std::vector<ChunkCopy>> chunks, int64_t mint,
                     int64_t maxt);
  bool Next() override;
  bool Seek(int64_t t) override;
  Sample At() const override { return cur_; }
  Status status() const override { return status_; }

 private:
  std::shared_ptr<const std::vector<ChunkCopy>> chunks_;
  const int64_t mint_;
  const int64_t maxt_;
  size_t next_chunk_ = 0;
  std::optional<ChunkDecoder> decoder_;
  Sample cur_{kMinTime, 0};
  bool started_ = false;
  bool done_ = false;
  Status status_;
};

class ChunkSeries final : public Series {
 public:
  // `chunks` must be sorted by min time.
  ChunkSeries(Labels labels, std::vector<ChunkCopy> chunks, int64_t mint, int64_t maxt);
  const Labels& labels() const override { return labels_; }
  std::unique_ptr<SeriesIterator> Iterator() const override;

 private:
  Labels labels_;
  std::shared_ptr<const std::vector<ChunkCopy>> chunks_;
  int64_t mint_;
  int64_t maxt_;
};

}  // namespace vigil::storage
