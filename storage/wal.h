// The write-ahead log: numbered segment files of CRC-checked records, one
// record per committed batch. Layout: docs/format/wal.md.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "storage/status.h"

namespace vigil::storage {

// Record framing.
inline constexpr size_t kWalRecordHeaderSize = 8;  // payload length (u32 LE), CRC-32C of payload (u32 LE)
inline constexpr uint32_t kWalMaxRecordSize = 256u << 20;  // larger lengths are corruption
inline constexpr int64_t kWalSegmentSize = 64LL << 20;     // a segment is cut after this many bytes

// Appends records to the newest segment of a WAL directory. Thread-safe.
class WalWriter {
 public:
  ~WalWriter();
  WalWriter(const WalWriter&) = delete;
  WalWriter& operator=(const WalWriter&) = delete;

  // Starts a new segment numbered after every existing one in `dir`.
  static Result<std::unique_ptr<WalWriter>> Open(const std::string& dir);

  // Writes one record with a single write(): once this returns, the record
  // survives kill -9 of the process. With `sync`, also fdatasync()s.
  [[nodiscard]] Status Append(std::string_view payload, bool sync);
  // Forces the current segment to disk.
  [[nodiscard]] Status Sync();
  // Closes the current segment and starts the next; returns the new number.
  Result<uint32_t> Cut();
  // Bytes written since Open.
  int64_t bytes_written() const;
  uint32_t current_segment() const;

 private:
  explicit WalWriter(std::string dir) : dir_(std::move(dir)) {}
  [[nodiscard]] Status OpenSegment(uint32_t n);

  const std::string dir_;
  mutable std::mutex mu_;
  int fd_ = -1;
  uint32_t segment_ = 0;
  int64_t segment_bytes_ = 0;
  int64_t total_bytes_ = 0;
};

// Segment numbers present in `dir`, ascending.
Result<std::vector<uint32_t>> ListWalSegments(const std::string& dir);
std::string WalSegmentPath(const std::string& dir, uint32_t n);

// Calls `fn` for each intact record of segments >= `first`, in order. A torn
// or corrupt tail is logged and truncated away, never fatal: the store must
// always start. Returns an error only when the directory cannot be read.
[[nodiscard]] Status ReplayWal(const std::string& dir, uint32_t first,
                               const std::function<void(std::string_view)>& fn);

// Deletes segments numbered below `n`.
[[nodiscard]] Status DeleteWalSegmentsBefore(const std::string& dir, uint32_t n);

}  // namespace vigil::storage
