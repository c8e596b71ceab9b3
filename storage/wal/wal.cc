// The WAL writer and segment files. Replay: wal_reader.cc.
#include "storage/wal/wal.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "base/coding.h"
#include "base/crc32c.h"
#include "base/logger.h"

namespace vigil::storage {
namespace fs = std::filesystem;

namespace {

Status Errno(const std::string& what, const std::string& path) {
  return Status::IOError(what + " " + path + ": " + std::strerror(errno));
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("writing WAL segment", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

// Makes a new file's directory entry durable.
bool SyncDir(const std::string& dir) {
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return false;
  const bool ok = ::fsync(dfd) == 0;
  ::close(dfd);
  return ok;
}

std::string SegmentHeader() {
  std::string out(kWalSegmentMagic);
  PutFixed32LE(&out, kWalFormatVersion);
  return out;
}

void AppendRecord(WalRecordType type, uint32_t seq, std::string_view payload, std::string* out) {
  const size_t start = out->size();
  PutFixed32LE(out, kWalRecordMagic);
  PutFixed32LE(out, 0);  // CRC, filled in below
  PutFixed32LE(out, static_cast<uint32_t>(payload.size()));
  PutFixed32LE(out, seq);
  out->push_back(static_cast<char>(type));
  out->append(payload);
  std::string crc;
  PutFixed32LE(&crc, Crc32c(std::string_view(*out).substr(start + kWalRecordCrcStart)));
  out->replace(start + 4, 4, crc);
}

}  // namespace

void AppendWalCommitRecords(std::string_view payload, uint32_t max_record_bytes, uint32_t* seq,
                            std::string* out) {
  const size_t limit = std::clamp<uint32_t>(max_record_bytes, 1, kWalMaxRecordSize);
  if (payload.size() <= limit) {
    AppendRecord(WalRecordType::kFull, (*seq)++, payload, out);
    return;
  }
  out->reserve(out->size() + payload.size() + (payload.size() / limit + 1) * kWalRecordHeaderSize);
  for (size_t pos = 0; pos < payload.size(); pos += limit) {
    const WalRecordType type = pos == 0                        ? WalRecordType::kFirst
                               : pos + limit >= payload.size() ? WalRecordType::kLast
                                                               : WalRecordType::kMiddle;
    AppendRecord(type, (*seq)++, payload.substr(pos, limit), out);
  }
}

std::string WalSegmentPath(const std::string& dir, uint32_t n) {
  char name[16];
  std::snprintf(name, sizeof(name), "%08u", n);
  return (fs::path(dir) / name).string();
}

Result<std::vector<uint32_t>> ListWalSegments(const std::string& dir) {
  std::error_code ec;
  std::vector<uint32_t> out;
  if (!fs::exists(dir, ec)) return out;  // a new store: no WAL yet
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() != 8 || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    out.push_back(static_cast<uint32_t>(std::stoul(name)));
  }
  if (ec) return Status::IOError("listing WAL directory " + dir + ": " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

WalWriter::WalWriter(std::string dir, const WalWriterOptions& options)
    : dir_(std::move(dir)), options_(options) {}

WalWriter::~WalWriter() {
  if (fd_ >= 0) {
    ::fdatasync(fd_);
    ::close(fd_);
  }
}

Result<std::unique_ptr<WalWriter>> WalWriter::Open(const std::string& dir,
                                                   const WalWriterOptions& options) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IOError("creating WAL directory " + dir + ": " + ec.message());
  auto segments = ListWalSegments(dir);
  if (!segments.ok()) return segments.status();
  const uint32_t next = segments->empty() ? 1 : segments->back() + 1;
  std::unique_ptr<WalWriter> w(new WalWriter(dir, options));
  std::lock_guard lock(w->mu_);
  VIGIL_RETURN_IF_ERROR(w->StartSegmentLocked(next, {}, /*sync=*/false));
  return w;
}

std::string WalWriter::SegmentPath() const { return WalSegmentPath(dir_, segment_); }

Status WalWriter::StartSegmentLocked(uint32_t n, const std::vector<std::string>& commits,
                                     bool sync) {
  const std::string path = WalSegmentPath(dir_, n);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("creating WAL segment", path);
  std::string data = SegmentHeader();
  uint32_t seq = 0;
  for (const auto& c : commits) AppendWalCommitRecords(c, options_.max_record_bytes, &seq, &data);
  Status st = WriteAll(fd, data, path);
  if (st.ok() && sync && ::fdatasync(fd) != 0) st = Errno("syncing WAL segment", path);
  if (st.ok() && !SyncDir(dir_) && sync) st = Errno("syncing WAL directory", dir_);
  if (!st.ok()) {
    ::close(fd);
    ::unlink(path.c_str());
    return st;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  segment_ = n;
  segment_bytes_ = static_cast<int64_t>(data.size());
  next_seq_ = seq;
  total_bytes_ += static_cast<int64_t>(data.size());
  return Status::OK();
}

void WalWriter::Poison(const Status& cause) {
  if (poisoned_.ok()) {
    VLOG_ERROR("WAL is no longer known to be durable; refusing appends until it is rewritten",
               {{"segment", SegmentPath()}, {"err", cause.ToString()}});
  }
  poisoned_ = cause;
  next_recovery_ =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.recovery_backoff_ms);
}

Status WalWriter::RecoverLocked() {
  const auto now = std::chrono::steady_clock::now();
  if (now < next_recovery_) {
    return Status::IOError("WAL appends refused after an earlier failure (" + poisoned_.message() +
                           "); retrying soon");
  }
  next_recovery_ = now + std::chrono::milliseconds(options_.recovery_backoff_ms);
  const Status st = StartSegmentLocked(segment_ + 1, unsynced_, /*sync=*/true);
  if (!st.ok()) {
    return Status::IOError("WAL appends refused after an earlier failure (" + poisoned_.message() +
                           "); rewriting to a new segment failed: " + st.message());
  }
  VLOG_INFO("WAL recovered: unsynced commits rewritten to a new segment and synced",
            {{"segment", SegmentPath()}, {"commits", std::to_string(unsynced_.size())}});
  unsynced_.clear();
  poisoned_ = Status::OK();
  return Status::OK();
}

Status WalWriter::WriteCommitLocked(std::string_view payload) {
  std::string data;
  uint32_t seq = next_seq_;
  AppendWalCommitRecords(payload, options_.max_record_bytes, &seq, &data);
  const Status st = WriteAll(fd_, data, SegmentPath());
  if (!st.ok()) {
    // Cut the torn bytes off, so the next commit does not land behind them.
    if (::ftruncate(fd_, segment_bytes_) != 0) {
      Poison(Status::IOError(st.message() +
                             "; cutting the torn record off failed: " + std::strerror(errno)));
    }
    return st;
  }
  segment_bytes_ += static_cast<int64_t>(data.size());
  total_bytes_ += static_cast<int64_t>(data.size());
  next_seq_ = seq;
  unsynced_.emplace_back(payload);
  return Status::OK();
}

Status WalWriter::SyncLocked() {
  if (::fdatasync(fd_) != 0) {
    const Status st = Errno("syncing WAL segment", SegmentPath());
    Poison(st);
    return st;
  }
  unsynced_.clear();
  return Status::OK();
}

Status WalWriter::CutLocked() {
  if (poisoned_.ok()) (void)SyncLocked();
  if (!poisoned_.ok()) {
    next_recovery_ = {};  // a cut must not wait for the backoff
    return RecoverLocked();
  }
  return StartSegmentLocked(segment_ + 1, {}, /*sync=*/false);
}

Status WalWriter::Append(std::string_view payload, bool sync) {
  std::lock_guard lock(mu_);
  if (!poisoned_.ok()) VIGIL_RETURN_IF_ERROR(RecoverLocked());
  if (segment_bytes_ >= options_.segment_bytes) VIGIL_RETURN_IF_ERROR(CutLocked());
  const int64_t start = segment_bytes_;
  VIGIL_RETURN_IF_ERROR(WriteCommitLocked(payload));
  if (!sync) return Status::OK();
  const Status st = SyncLocked();
  if (!st.ok()) {
    // Not acknowledged: take the commit out again, so a restart does not
    // apply it. Recovery rewrites only the commits acknowledged before it.
    unsynced_.pop_back();
    if (::ftruncate(fd_, start) == 0) segment_bytes_ = start;
  }
  return st;
}

Status WalWriter::Sync() {
  std::lock_guard lock(mu_);
  if (!poisoned_.ok()) return RecoverLocked();
  return SyncLocked();
}

Result<uint32_t> WalWriter::Cut() {
  std::lock_guard lock(mu_);
  VIGIL_RETURN_IF_ERROR(CutLocked());
  return segment_;
}

int64_t WalWriter::bytes_written() const {
  std::lock_guard lock(mu_);
  return total_bytes_;
}

uint32_t WalWriter::current_segment() const {
  std::lock_guard lock(mu_);
  return segment_;
}

bool WalWriter::healthy() const {
  std::lock_guard lock(mu_);
  return poisoned_.ok();
}

Status DeleteWalSegmentsBefore(const std::string& dir, uint32_t n) {
  auto segments = ListWalSegments(dir);
  if (!segments.ok()) return segments.status();
  for (const uint32_t s : *segments) {
    if (s >= n) break;
    std::error_code ec;
    fs::remove(WalSegmentPath(dir, s), ec);
    if (ec)
      return Status::IOError("deleting WAL segment " + WalSegmentPath(dir, s) + ": " +
                             ec.message());
  }
  return Status::OK();
}

}  // namespace vigil::storage
