// The write-ahead log: numbered segment files of CRC-checked records; one
// commit is one record, or several fragment records when it is larger than
// the record limit. Layout: docs/format/wal.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace vigil::storage {

// Segment header (format 2): "VWAL" then the format version (u32 LE). A
// format-1 segment has no header; it starts with a record length, and "VWAL"
// read as a length is far above kWalMaxRecordSize, so the two cannot be confused.
inline constexpr std::string_view kWalSegmentMagic = "VWAL";
inline constexpr uint32_t kWalFormatVersion = 2;
inline constexpr size_t kWalSegmentHeaderSize = 8;

// Format-2 record: magic (u32 LE), CRC-32C (u32 LE) of everything after it
// (length, seq, type, payload), payload length (u32 LE), seq (u32 LE: the
// record's number in its segment, 0, 1, 2, ...), type (u8), payload.
inline constexpr uint32_t kWalRecordMagic = 0x8a57d2c1;  // marks a record start, for resync
inline constexpr size_t kWalRecordHeaderSize = 17;
inline constexpr size_t kWalRecordCrcStart = 8;  // the CRC covers bytes from here on

// Format-1 record (read only): payload length (u32 LE), CRC-32C of payload (u32 LE), payload.
inline constexpr size_t kWalV1RecordHeaderSize = 8;

// Record types of format 2: a commit is one kFull record or kFirst, kMiddle..., kLast.
enum class WalRecordType : uint8_t { kFull = 1, kFirst = 2, kMiddle = 3, kLast = 4 };

inline constexpr uint32_t kWalMaxRecordSize = 256u << 20;  // larger lengths are corruption
inline constexpr int64_t kWalSegmentSize = 64LL << 20;     // a segment is cut after this many bytes

struct WalWriterOptions {
  // A commit whose payload is larger is split into fragment records of at
  // most this many payload bytes. 1 .. kWalMaxRecordSize; tests lower it.
  uint32_t max_record_bytes = kWalMaxRecordSize;
  int64_t segment_bytes = kWalSegmentSize;
  // After a failure that leaves the WAL's durability unknown, appends are
  // refused; a recovery is tried at most this often (ms).
  int64_t recovery_backoff_ms = 1000;
};

// Appends commits to the newest segment of a WAL directory. Thread-safe.
//
// Failure handling ("nothing acknowledged is lost"):
// - A failed or short write() is cut off again (ftruncate to the end of the
//   last whole commit) before the error is returned, so no later commit lands
//   behind torn bytes. If that truncate fails too, the writer is poisoned.
// - A failed fdatasync() poisons the writer: the kernel may have dropped the
//   dirty pages and a retried fsync can report success without the data on
//   disk. A poisoned writer refuses every Append; it recovers by writing every
//   commit since the last good fsync, from its own memory copy, into a new
//   segment and fdatasync()ing that. Replaying a commit twice is harmless.
class WalWriter {
 public:
  ~WalWriter();
  WalWriter(const WalWriter&) = delete;
  WalWriter& operator=(const WalWriter&) = delete;

  // Starts a new segment numbered after every existing one in `dir`.
  static Result<std::unique_ptr<WalWriter>> Open(const std::string& dir,
                                                 const WalWriterOptions& options = {});

  // Writes one commit (all its fragment records) with a single write():
  // once this returns OK, the commit survives kill -9 of the process. With
  // `sync`, also fdatasync()s. On error nothing of the commit stays in the WAL
  // (unless the writer got poisoned, when replay may or may not see it).
  [[nodiscard]] Status Append(std::string_view payload, bool sync);
  // Forces the current segment to disk; a poisoned writer tries to recover.
  [[nodiscard]] Status Sync();
  // Closes the current segment and starts the next; returns the new number.
  Result<uint32_t> Cut();
  // Bytes written since Open.
  int64_t bytes_written() const;
  uint32_t current_segment() const;
  // False after a write or fsync failure until the WAL is durable again.
  bool healthy() const;

 private:
  WalWriter(std::string dir, const WalWriterOptions& options);
  std::string SegmentPath() const;
  [[nodiscard]] Status WriteCommitLocked(std::string_view payload);
  [[nodiscard]] Status SyncLocked();
  [[nodiscard]] Status CutLocked();
  [[nodiscard]] Status RecoverLocked();
  // Creates segment `n` holding `commits` (with `sync`, fdatasync()ed with
  // its directory entry) and makes it current; on failure removes it and
  // leaves the current one.
  [[nodiscard]] Status StartSegmentLocked(uint32_t n, const std::vector<std::string>& commits,
                                          bool sync);
  void Poison(const Status& cause);

  const std::string dir_;
  const WalWriterOptions options_;
  mutable std::mutex mu_;
  int fd_ = -1;
  uint32_t segment_ = 0;
  int64_t segment_bytes_ = 0;  // end of the last whole commit in the segment
  uint32_t next_seq_ = 0;
  int64_t total_bytes_ = 0;
  // Commits written since the last successful fdatasync: what a recovery
  // rewrites. At most a sync interval's worth, or a segment with kNever.
  std::vector<std::string> unsynced_;
  Status poisoned_;  // OK, or why appends are refused
  std::chrono::steady_clock::time_point next_recovery_{};
};

// Segment numbers present in `dir`, ascending.
Result<std::vector<uint32_t>> ListWalSegments(const std::string& dir);
std::string WalSegmentPath(const std::string& dir, uint32_t n);

// Appends the format-2 records of one commit (split at `max_record_bytes`)
// to `out`, numbered from `*seq` on; advances `*seq`.
void AppendWalCommitRecords(std::string_view payload, uint32_t max_record_bytes, uint32_t* seq,
                            std::string* out);

// What replay found wrong; all zero for an undamaged WAL.
struct WalReplayStats {
  uint64_t damaged_segments = 0;  // segments with skipped, dropped or truncated bytes
  uint64_t dropped_commits = 0;   // multi-record commits missing a fragment
};

// Calls `fn` with the payload of each intact commit of segments >= `first`,
// in order. Damage never stops replay: a record that fails its checks is
// skipped up to the next valid record start (format 2), a commit missing a
// fragment is dropped whole, and a damaged tail is logged and truncated away.
// Returns an error only when the directory cannot be read.
[[nodiscard]] Status ReplayWal(const std::string& dir, uint32_t first,
                               const std::function<void(std::string_view)>& fn,
                               WalReplayStats* stats = nullptr);

// Reads the intact commits of segment `path` that start at or after byte
// `offset` (0, or an offset this function returned before) without changing
// the file, so it is safe on the segment being written: a commit still being
// written is left for the next call. Calls `fn` with each commit's payload
// and the offset just after it; returns the offset after the last whole
// commit. Fails with kCorruption for a segment not in format 2.
Result<int64_t> TailWalSegment(const std::string& path, int64_t offset,
                               const std::function<void(std::string_view, int64_t)>& fn);

// Deletes segments numbered below `n`.
[[nodiscard]] Status DeleteWalSegmentsBefore(const std::string& dir, uint32_t n);

}  // namespace vigil::storage
