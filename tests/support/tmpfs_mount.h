// TmpfsMount: a size-limited tmpfs mounted on a fresh directory, so disk-full
// tests fill a real file system. Needs root (CAP_SYS_ADMIN); ok() is false
// with the reason in error() where mounting is refused (tests then skip).
// FillLeaving() writes a filler file until only `leave_bytes` stay free;
// FreeFiller() deletes it, giving the space back.
#pragma once

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace vigil::test_support {

class TmpfsMount {
 public:
  explicit TmpfsMount(uint64_t size_bytes) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "vigil-tmpfs-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      error_ = std::string("mkdtemp: ") + std::strerror(errno);
      return;
    }
    dir_ = tmpl;
    const std::string opts = "size=" + std::to_string(size_bytes);
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", 0, opts.c_str()) != 0) {
      error_ = "mount -t tmpfs -o " + opts + " " + dir_ + ": " + std::strerror(errno);
      return;
    }
    mounted_ = true;
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
    if (!dir_.empty()) ::rmdir(dir_.c_str());
  }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;

  bool ok() const { return mounted_; }
  const std::string& error() const { return error_; }
  const std::string& dir() const { return dir_; }
  std::string Sub(const std::string& name) const { return dir_ + "/" + name; }

  uint64_t FreeBytes() const {
    struct statvfs st {};
    if (::statvfs(dir_.c_str(), &st) != 0) return 0;
    return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  }

  // Writes filler files until at most `leave_bytes` are free (or the disk is full).
  void FillLeaving(uint64_t leave_bytes) {
    const std::vector<char> block(1 << 16, 'x');
    const std::string path = Sub("filler-" + std::to_string(fillers_++));
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return;
    while (FreeBytes() > leave_bytes) {
      const uint64_t want = std::min<uint64_t>(block.size(), FreeBytes() - leave_bytes);
      if (::write(fd, block.data(), want) <= 0) break;
    }
    ::close(fd);
  }
  // Deletes every filler file.
  void FreeFiller() {
    for (int i = 0; i < fillers_; ++i) ::unlink(Sub("filler-" + std::to_string(i)).c_str());
  }

 private:
  std::string dir_;
  std::string error_;
  bool mounted_ = false;
  int fillers_ = 0;
};

}  // namespace vigil::test_support
