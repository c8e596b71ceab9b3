#include "storage/chunk_series.h"

namespace vigil::storage {

ChunkMergeIterator::ChunkMergeIterator(std::shared_ptr<const std::vector<ChunkCopy>> chunks,
                                       int64_t mint, int64_t maxt)
    : chunks_(std::move(chunks)), mint_(mint), maxt_(maxt) {}

bool ChunkMergeIterator::Next() {
  while (!done_) {
    if (!decoder_) {
      if (next_chunk_ >= chunks_->size()) break;
      const ChunkCopy& c = (*chunks_)[next_chunk_++];
      if (c.max_time < mint_ || (started_ && c.max_time <= cur_.t)) continue;
      if (c.min_time > maxt_) break;
      decoder_.emplace(c.bytes);
    }
    while (decoder_->Next()) {
      const Sample s = decoder_->At();
      if (s.t < mint_ || (started_ && s.t <= cur_.t)) continue;
      if (s.t > maxt_) break;
      cur_ = s;
      started_ = true;
      return true;
    }
    if (!decoder_->status().ok()) {
      status_ = decoder_->status();
      break;
    }
    decoder_.reset();
  }
  done_ = true;
  return false;
}

bool ChunkMergeIterator::Seek(int64_t t) {
  if (started_ && cur_.t >= t) return !done_;
  if (done_) return false;
  // Skip whole chunks that end before t without decoding them.
  if (!decoder_) {
    while (next_chunk_ < chunks_->size() && (*chunks_)[next_chunk_].max_time < t) ++next_chunk_;
  }
  while (Next()) {
    if (cur_.t >= t) return true;
  }
  return false;
}

ChunkSeries::ChunkSeries(Labels labels, std::vector<ChunkCopy> chunks, int64_t mint, int64_t maxt)
    : labels_(std::move(labels)),
      chunks_(std::make_shared<const std::vector<ChunkCopy>>(std::move(chunks))),
      mint_(mint),
      maxt_(maxt) {}

std::unique_ptr<SeriesIterator> ChunkSeries::Iterator() const {
  return std::make_unique<ChunkMergeIterator>(chunks_, mint_, maxt_);
}

}  // namespace vigil::storage
