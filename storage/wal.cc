#include "storage/wal.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "storage/crc32c.h"
#include "storage/logger.h"

namespace vigil::storage {
namespace fs = std::filesystem;

namespace {

Status Errno(const std::string& what, const std::string& path) {
  return Status::IOError(what + " " + path + ": " + std::strerror(errno));
}

void PutU32LE(char* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

uint32_t GetU32LE(const char* in) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
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

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read WAL segment " + path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Returns the offset of the first byte that is not part of an intact record.
size_t ScanRecords(std::string_view data, const std::function<void(std::string_view)>& fn) {
  size_t pos = 0;
  while (data.size() - pos >= kWalRecordHeaderSize) {
    const uint32_t len = GetU32LE(data.data() + pos);
    const uint32_t crc = GetU32LE(data.data() + pos + 4);
    if (len > kWalMaxRecordSize || data.size() - pos - kWalRecordHeaderSize < len) break;
    const std::string_view payload = data.substr(pos + kWalRecordHeaderSize, len);
    if (Crc32c(payload) != crc) break;
    fn(payload);
    pos += kWalRecordHeaderSize + len;
  }
  return pos;
}

}  // namespace

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

WalWriter::~WalWriter() {
  if (fd_ >= 0) {
    ::fdatasync(fd_);
    ::close(fd_);
  }
}

Result<std::unique_ptr<WalWriter>> WalWriter::Open(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IOError("creating WAL directory " + dir + ": " + ec.message());
  auto segments = ListWalSegments(dir);
  if (!segments.ok()) return segments.status();
  const uint32_t next = segments->empty() ? 1 : segments->back() + 1;
  std::unique_ptr<WalWriter> w(new WalWriter(dir));
  VIGIL_RETURN_IF_ERROR(w->OpenSegment(next));
  return w;
}

Status WalWriter::OpenSegment(uint32_t n) {
  const std::string path = WalSegmentPath(dir_, n);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("creating WAL segment", path);
  if (fd_ >= 0) {
    ::fdatasync(fd_);
    ::close(fd_);
  }
  fd_ = fd;
  segment_ = n;
  segment_bytes_ = 0;
  // Make the new file's directory entry durable too.
  const int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::OK();
}

Status WalWriter::Append(std::string_view payload, bool sync) {
  std::string record(kWalRecordHeaderSize, '\0');
  PutU32LE(record.data(), static_cast<uint32_t>(payload.size()));
  PutU32LE(record.data() + 4, Crc32c(payload));
  record.append(payload);
  std::lock_guard lock(mu_);
  if (segment_bytes_ >= kWalSegmentSize) VIGIL_RETURN_IF_ERROR(OpenSegment(segment_ + 1));
  VIGIL_RETURN_IF_ERROR(WriteAll(fd_, record, WalSegmentPath(dir_, segment_)));
  segment_bytes_ += static_cast<int64_t>(record.size());
  total_bytes_ += static_cast<int64_t>(record.size());
  if (sync && ::fdatasync(fd_) != 0) return Errno("syncing WAL segment", WalSegmentPath(dir_, segment_));
  return Status::OK();
}

Status WalWriter::Sync() {
  std::lock_guard lock(mu_);
  if (::fdatasync(fd_) != 0) return Errno("syncing WAL segment", WalSegmentPath(dir_, segment_));
  return Status::OK();
}

Result<uint32_t> WalWriter::Cut() {
  std::lock_guard lock(mu_);
  VIGIL_RETURN_IF_ERROR(OpenSegment(segment_ + 1));
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

Status ReplayWal(const std::string& dir, uint32_t first,
                 const std::function<void(std::string_view)>& fn) {
  auto segments = ListWalSegments(dir);
  if (!segments.ok()) return segments.status();
  for (const uint32_t n : *segments) {
    if (n < first) continue;
    const std::string path = WalSegmentPath(dir, n);
    auto data = ReadWholeFile(path);
    if (!data.ok()) return data.status();
    const size_t good = ScanRecords(*data, fn);
    if (good == data->size()) continue;
    VLOG_WARN("WAL segment has a torn or corrupt tail; truncating it",
              {{"segment", path},
               {"offset", std::to_string(good)},
               {"dropped_bytes", std::to_string(data->size() - good)}});
    if (::truncate(path.c_str(), static_cast<off_t>(good)) != 0) {
      VLOG_ERROR("cannot truncate WAL segment", {{"segment", path}, {"err", std::strerror(errno)}});
    }
  }
  return Status::OK();
}

Status DeleteWalSegmentsBefore(const std::string& dir, uint32_t n) {
  auto segments = ListWalSegments(dir);
  if (!segments.ok()) return segments.status();
  for (const uint32_t s : *segments) {
    if (s >= n) break;
    std::error_code ec;
    fs::remove(WalSegmentPath(dir, s), ec);
    if (ec) return Status::IOError("deleting WAL segment " + WalSegmentPath(dir, s) + ": " + ec.message());
  }
  return Status::OK();
}

}  // namespace vigil::storage
