// WAL replay: reads segments back, resynchronises after damage, joins
// fragment records into commits. Layout: docs/format/wal.md.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>

#include "base/coding.h"
#include "base/crc32c.h"
#include "base/logger.h"
#include "storage/wal/wal.h"

namespace vigil::storage {
namespace {

// Receives a commit's payload and the segment offset just after it.
using CommitFn = std::function<void(std::string_view, size_t end)>;

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return Status::IOError("cannot read WAL segment " + path);
  std::string data(static_cast<size_t>(in.tellg()), '\0');
  in.seekg(0);
  if (!in.read(data.data(), static_cast<std::streamsize>(data.size()))) {
    return Status::IOError("cannot read WAL segment " + path);
  }
  return data;
}

// What a segment scan found; `keep` is the end of the last whole commit.
struct ScanResult {
  size_t keep = 0;
  uint64_t skipped_bytes = 0;    // damaged bytes passed over before `keep`
  uint64_t dropped_commits = 0;  // commits missing a fragment
};

// Format 1: records until the first one that does not check out.
ScanResult ScanV1(std::string_view data, const CommitFn& fn) {
  size_t pos = 0;
  while (data.size() - pos >= kWalV1RecordHeaderSize) {
    const uint32_t len = DecodeFixed32LE(data.substr(pos));
    const uint32_t crc = DecodeFixed32LE(data.substr(pos + 4));
    if (len > kWalMaxRecordSize || data.size() - pos - kWalV1RecordHeaderSize < len) break;
    const std::string_view payload = data.substr(pos + kWalV1RecordHeaderSize, len);
    if (Crc32c(payload) != crc) break;
    pos += kWalV1RecordHeaderSize + len;
    fn(payload, pos);
  }
  return {pos, 0, 0};
}

struct Record {
  WalRecordType type;
  uint32_t seq;
  std::string_view payload;
  size_t end;
};

// The format-2 record starting at `pos`, if its magic, type, length and CRC check out.
std::optional<Record> ParseRecord(std::string_view data, size_t pos) {
  if (data.size() - pos < kWalRecordHeaderSize) return std::nullopt;
  const std::string_view h = data.substr(pos, kWalRecordHeaderSize);
  if (DecodeFixed32LE(h) != kWalRecordMagic) return std::nullopt;
  const uint32_t crc = DecodeFixed32LE(h.substr(4));
  const uint32_t len = DecodeFixed32LE(h.substr(8));
  const uint32_t seq = DecodeFixed32LE(h.substr(12));
  const auto type = static_cast<uint8_t>(h[16]);
  if (type < 1 || type > 4 || len > kWalMaxRecordSize) return std::nullopt;
  if (data.size() - pos - kWalRecordHeaderSize < len) return std::nullopt;
  if (Crc32c(data.substr(pos + kWalRecordCrcStart,
                         kWalRecordHeaderSize - kWalRecordCrcStart + len)) != crc) {
    return std::nullopt;
  }
  return Record{static_cast<WalRecordType>(type), seq, data.substr(pos + kWalRecordHeaderSize, len),
                pos + kWalRecordHeaderSize + len};
}

// Offset of the next record magic at or after `from`, or data.size().
size_t FindRecordStart(std::string_view data, size_t from) {
  std::string magic;
  PutFixed32LE(&magic, kWalRecordMagic);
  const size_t at = data.find(magic, from);
  return at == std::string_view::npos ? data.size() : at;
}

// Joins fragment records into commits: a commit is delivered only when all
// its fragments arrived back to back; anything else drops it whole.
class CommitAssembler {
 public:
  CommitAssembler(const CommitFn& fn, ScanResult* result) : fn_(fn), result_(result) {}

  void Add(const Record& r) {
    const bool continues = assembling_ && r.seq == last_seq_ + 1;
    switch (r.type) {
      case WalRecordType::kFull:
        Drop();
        orphan_ = false;
        Deliver(r.payload, r.end);
        break;
      case WalRecordType::kFirst:
        Drop();
        orphan_ = false;
        pending_.assign(r.payload);
        assembling_ = true;
        break;
      case WalRecordType::kMiddle:
      case WalRecordType::kLast:
        if (!continues) {
          if (!assembling_ && !orphan_) ++result_->dropped_commits;  // its first fragment is gone
          Drop();
          orphan_ = true;
          break;
        }
        pending_.append(r.payload);
        if (r.type == WalRecordType::kLast) {
          assembling_ = false;
          Deliver(pending_, r.end);
          pending_.clear();
        }
        break;
    }
    last_seq_ = r.seq;
  }

  // Damage between records: a commit being joined cannot be completed.
  void Drop() {
    if (!assembling_) return;
    assembling_ = false;
    pending_.clear();
    ++result_->dropped_commits;
  }

 private:
  void Deliver(std::string_view commit, size_t end) {
    fn_(commit, end);
    result_->keep = end;
  }

  const CommitFn& fn_;
  ScanResult* result_;
  bool assembling_ = false;
  bool orphan_ = false;  // inside the rest of a commit whose start is gone
  std::string pending_;  // fragments joined so far
  uint32_t last_seq_ = 0;
};

// Format 2: every valid record from `start` on, in order; after damage,
// scans for the next record magic whose record checks out and has a higher
// seq than the last one read (a stale or misplaced copy never replays out of
// order).
ScanResult ScanV2(std::string_view data, const CommitFn& fn, size_t start = kWalSegmentHeaderSize) {
  ScanResult result{start, 0, 0};
  CommitAssembler commits(fn, &result);
  std::optional<uint32_t> last_seq;
  uint64_t skipped = 0;
  size_t pos = start;
  while (pos < data.size()) {
    const auto r = ParseRecord(data, pos);
    if (r && (!last_seq || r->seq > *last_seq)) {
      last_seq = r->seq;
      commits.Add(*r);
      pos = r->end;
      if (result.keep == pos) result.skipped_bytes = skipped;
      continue;
    }
    commits.Drop();
    const size_t next = FindRecordStart(data, pos + 1);
    skipped += next - pos;
    pos = next;
  }
  commits.Drop();
  return result;
}

// Logs the damage `scan` found and cuts off the segment's damaged tail;
// returns whether there was damage.
bool TruncateSegment(const std::string& path, const ScanResult& scan, size_t size) {
  const bool damaged_inside = scan.skipped_bytes > 0 || scan.dropped_commits > 0;
  if (damaged_inside) {
    VLOG_WARN("WAL segment is damaged; replayed the intact commits around the damage",
              {{"segment", path},
               {"skipped_bytes", std::to_string(scan.skipped_bytes)},
               {"dropped_commits", std::to_string(scan.dropped_commits)}});
  }
  if (scan.keep >= size) return damaged_inside;
  VLOG_WARN("WAL segment has a torn or corrupt tail; truncating it",
            {{"segment", path},
             {"offset", std::to_string(scan.keep)},
             {"dropped_bytes", std::to_string(size - scan.keep)}});
  if (::truncate(path.c_str(), static_cast<off_t>(scan.keep)) != 0) {
    VLOG_ERROR("cannot truncate WAL segment", {{"segment", path}, {"err", std::strerror(errno)}});
  }
  return true;
}

void ReplaySegment(const std::string& path, std::string_view data, const CommitFn& fn,
                   WalReplayStats* stats) {
  const auto account = [&](const ScanResult& scan) {
    stats->damaged_segments += TruncateSegment(path, scan, data.size()) ? 1 : 0;
    stats->dropped_commits += scan.dropped_commits;
  };
  if (!data.starts_with(kWalSegmentMagic)) {
    account(ScanV1(data, fn));
    return;
  }
  if (data.size() < kWalSegmentHeaderSize) return;  // torn header: nothing was acknowledged
  const uint32_t version = DecodeFixed32LE(data.substr(kWalSegmentMagic.size()));
  if (version != kWalFormatVersion) {
    VLOG_ERROR("WAL segment has an unknown format version; skipping it",
               {{"segment", path}, {"version", std::to_string(version)}});
    ++stats->damaged_segments;
    return;
  }
  account(ScanV2(data, fn));
}

}  // namespace

Status ReplayWal(const std::string& dir, uint32_t first,
                 const std::function<void(std::string_view)>& on_commit, WalReplayStats* stats) {
  const CommitFn fn = [&on_commit](std::string_view payload, size_t) { on_commit(payload); };
  WalReplayStats ignored;
  if (stats == nullptr) stats = &ignored;
  auto segments = ListWalSegments(dir);
  if (!segments.ok()) return segments.status();
  for (const uint32_t n : *segments) {
    if (n < first) continue;
    const std::string path = WalSegmentPath(dir, n);
    auto data = ReadWholeFile(path);
    if (!data.ok()) return data.status();
    ReplaySegment(path, *data, fn, stats);
  }
  return Status::OK();
}

Result<int64_t> TailWalSegment(const std::string& path, int64_t offset,
                               const std::function<void(std::string_view, int64_t)>& fn) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read WAL segment " + path);
  std::string header(kWalSegmentHeaderSize, '\0');
  if (!in.read(header.data(), static_cast<std::streamsize>(header.size()))) return offset;
  if (!header.starts_with(kWalSegmentMagic) || DecodeFixed32LE(std::string_view(header).substr(
                                                   kWalSegmentMagic.size())) != kWalFormatVersion) {
    return Status::Corruption("WAL segment " + path + " is not in format 2");
  }
  // Only the bytes after `base` are read: a tail of a large segment is cheap.
  const int64_t base = std::max<int64_t>(offset, kWalSegmentHeaderSize);
  in.seekg(base);
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const CommitFn deliver = [&fn, base](std::string_view payload, size_t end) {
    fn(payload, base + static_cast<int64_t>(end));
  };
  return base + static_cast<int64_t>(ScanV2(data, deliver, 0).keep);
}

}  // namespace vigil::storage
