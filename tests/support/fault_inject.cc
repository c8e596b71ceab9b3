// An LD_PRELOAD shim that makes write-family calls and fsyncs fail, for
// fault tests against a real process. Configured by environment variables:
//
//   VIGIL_FAULT_SYSCALLS  comma list of write, pwrite, writev, fsync, fdatasync
//                         (pwrite covers pwrite64, writev covers pwritev); required
//   VIGIL_FAULT_PATH      only files whose path (/proc/self/fd) contains this
//   VIGIL_FAULT_ERRNO     EIO (default), ENOSPC, EDQUOT, EROFS or a number
//   VIGIL_FAULT_AFTER_CALLS  let this many matching calls succeed first (0)
//   VIGIL_FAULT_AFTER_BYTES  let this many bytes through first; the write that
//                         crosses the mark is cut short there (a partial write),
//                         later matching calls fail
//   VIGIL_FAULT_TIMES     fail this many calls, then succeed again (unlimited)
//   VIGIL_FAULT_CONTROL_FILE  armed only while this file exists; counting
//                         starts when it appears
//   VIGIL_FAULT_LOG=1     report each injected fault on stderr
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

namespace {

enum Call : unsigned { kWrite = 1, kPwrite = 2, kWritev = 4, kFsync = 8, kFdatasync = 16 };

// Plain data only: the constructor below may run before C++ static initialisers.
struct Config {
  unsigned calls = 0;
  char path[512] = "";
  int err = EIO;
  long long after_calls = 0;
  long long after_bytes = -1;  // -1: no byte limit
  long long times = -1;        // -1: unlimited
  char control_file[512] = "";
  bool log = false;
};

struct State {
  pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  long long calls = 0;
  long long bytes = 0;
  long long failed = 0;
};

Config g_config;
State g_state;

using WriteFn = ssize_t (*)(int, const void*, size_t);
using PwriteFn = ssize_t (*)(int, const void*, size_t, off_t);
using WritevFn = ssize_t (*)(int, const struct iovec*, int);
using PwritevFn = ssize_t (*)(int, const struct iovec*, int, off_t);
using SyncFn = int (*)(int);

template <typename Fn>
Fn Real(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

const char* Env(const char* name) {
  const char* v = getenv(name);
  return v != nullptr && *v != '\0' ? v : nullptr;
}

unsigned ParseCalls(const char* list) {
  static const struct {
    const char* name;
    Call call;
  } kNames[] = {{"write", kWrite},
                {"pwrite", kPwrite},
                {"writev", kWritev},
                {"fsync", kFsync},
                {"fdatasync", kFdatasync}};
  unsigned out = 0;
  for (const char* p = list; *p != '\0';) {
    const size_t len = strcspn(p, ",");
    for (const auto& n : kNames) {
      if (strlen(n.name) == len && strncmp(p, n.name, len) == 0) out |= n.call;
    }
    p += len;
    if (*p == ',') ++p;
  }
  return out;
}

void CopyEnv(const char* name, char* out, size_t size) {
  const char* v = getenv(name);
  if (v != nullptr) snprintf(out, size, "%s", v);
}

int ParseErrno(const char* v) {
  if (strcmp(v, "EIO") == 0) return EIO;
  if (strcmp(v, "ENOSPC") == 0) return ENOSPC;
  if (strcmp(v, "EDQUOT") == 0) return EDQUOT;
  if (strcmp(v, "EROFS") == 0) return EROFS;
  return atoi(v);
}

__attribute__((constructor)) void LoadConfig() {
  if (const char* v = Env("VIGIL_FAULT_SYSCALLS")) g_config.calls = ParseCalls(v);
  CopyEnv("VIGIL_FAULT_PATH", g_config.path, sizeof(g_config.path));
  if (const char* v = Env("VIGIL_FAULT_ERRNO")) g_config.err = ParseErrno(v);
  if (const char* v = Env("VIGIL_FAULT_AFTER_CALLS")) g_config.after_calls = atoll(v);
  if (const char* v = Env("VIGIL_FAULT_AFTER_BYTES")) g_config.after_bytes = atoll(v);
  if (const char* v = Env("VIGIL_FAULT_TIMES")) g_config.times = atoll(v);
  CopyEnv("VIGIL_FAULT_CONTROL_FILE", g_config.control_file, sizeof(g_config.control_file));
  g_config.log = Env("VIGIL_FAULT_LOG") != nullptr;
}

bool PathMatches(int fd) {
  if (g_config.path[0] == '\0') return true;
  char link[64];
  char target[4096];
  snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
  const ssize_t n = readlink(link, target, sizeof(target) - 1);
  if (n < 0) return false;
  target[n] = '\0';
  return strstr(target, g_config.path) != nullptr;
}

void Log(const char* what, int fd, size_t allowed) {
  if (!g_config.log) return;
  char line[160];
  const int n = snprintf(line, sizeof(line), "fault_inject: %s on fd %d (%zu bytes let through)\n",
                         what, fd, allowed);
  static const WriteFn real_write = Real<WriteFn>("write");
  if (n > 0) (void)real_write(2, line, static_cast<size_t>(n));
}

// The decision for one call of `size` bytes (0 for fsyncs): -1 to fail it
// with the configured errno, else how many bytes to let through (a short
// write when fewer than `size`).
long long Decide(Call call, int fd, size_t size) {
  if ((g_config.calls & call) == 0) return static_cast<long long>(size);
  if (g_config.control_file[0] != '\0' && access(g_config.control_file, F_OK) != 0) {
    return static_cast<long long>(size);
  }
  if (!PathMatches(fd)) return static_cast<long long>(size);
  pthread_mutex_lock(&g_state.mu);
  long long allow = static_cast<long long>(size);
  const bool exhausted = g_config.times >= 0 && g_state.failed >= g_config.times;
  const bool calls_left = g_state.calls < g_config.after_calls;
  const bool bytes_left = g_config.after_bytes >= 0 && g_state.bytes < g_config.after_bytes;
  ++g_state.calls;
  if (!exhausted && !calls_left) {
    if (!bytes_left) {
      ++g_state.failed;
      allow = -1;
    } else if (g_state.bytes + allow > g_config.after_bytes) {
      allow = g_config.after_bytes - g_state.bytes;  // the partial write
    }
  }
  if (allow > 0) g_state.bytes += allow;
  pthread_mutex_unlock(&g_state.mu);
  if (allow < 0) Log("failed call", fd, 0);
  if (allow >= 0 && allow < static_cast<long long>(size))
    Log("short write", fd, static_cast<size_t>(allow));
  return allow;
}

size_t IovecBytes(const struct iovec* iov, int n) {
  size_t total = 0;
  for (int i = 0; i < n; ++i) total += iov[i].iov_len;
  return total;
}

// A short writev: the first `allow` bytes of the vector, written with write().
ssize_t WritePrefix(int fd, const struct iovec* iov, int n, size_t allow) {
  static const WriteFn real_write = Real<WriteFn>("write");
  size_t done = 0;
  for (int i = 0; i < n && done < allow; ++i) {
    const size_t len = iov[i].iov_len < allow - done ? iov[i].iov_len : allow - done;
    const ssize_t w = real_write(fd, iov[i].iov_base, len);
    if (w < 0) return done > 0 ? static_cast<ssize_t>(done) : -1;
    done += static_cast<size_t>(w);
    if (static_cast<size_t>(w) < len) break;
  }
  return static_cast<ssize_t>(done);
}

}  // namespace

extern "C" {

ssize_t write(int fd, const void* buf, size_t count) {
  static const WriteFn real = Real<WriteFn>("write");
  const long long allow = Decide(kWrite, fd, count);
  if (allow < 0) return errno = g_config.err, -1;
  return real(fd, buf, static_cast<size_t>(allow));
}

ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) {
  static const PwriteFn real = Real<PwriteFn>("pwrite");
  const long long allow = Decide(kPwrite, fd, count);
  if (allow < 0) return errno = g_config.err, -1;
  return real(fd, buf, static_cast<size_t>(allow), offset);
}

ssize_t pwrite64(int fd, const void* buf, size_t count, off_t offset) {
  static const PwriteFn real = Real<PwriteFn>("pwrite64");
  const long long allow = Decide(kPwrite, fd, count);
  if (allow < 0) return errno = g_config.err, -1;
  return real(fd, buf, static_cast<size_t>(allow), offset);
}

ssize_t writev(int fd, const struct iovec* iov, int iovcnt) {
  static const WritevFn real = Real<WritevFn>("writev");
  const size_t size = IovecBytes(iov, iovcnt);
  const long long allow = Decide(kWritev, fd, size);
  if (allow < 0) return errno = g_config.err, -1;
  if (static_cast<size_t>(allow) < size)
    return WritePrefix(fd, iov, iovcnt, static_cast<size_t>(allow));
  return real(fd, iov, iovcnt);
}

ssize_t pwritev(int fd, const struct iovec* iov, int iovcnt, off_t offset) {
  static const PwritevFn real = Real<PwritevFn>("pwritev");
  const size_t size = IovecBytes(iov, iovcnt);
  const long long allow = Decide(kWritev, fd, size);
  if (allow < 0) return errno = g_config.err, -1;
  if (static_cast<size_t>(allow) < size) {
    // Position-independent short write: only the first iovecs that fit, via pwrite.
    static const PwriteFn real_pwrite = Real<PwriteFn>("pwrite");
    size_t done = 0;
    for (int i = 0; i < iovcnt && done < static_cast<size_t>(allow); ++i) {
      const size_t len = iov[i].iov_len < static_cast<size_t>(allow) - done
                             ? iov[i].iov_len
                             : static_cast<size_t>(allow) - done;
      const ssize_t w = real_pwrite(fd, iov[i].iov_base, len, offset + static_cast<off_t>(done));
      if (w <= 0) break;
      done += static_cast<size_t>(w);
    }
    return static_cast<ssize_t>(done);
  }
  return real(fd, iov, iovcnt, offset);
}

int fsync(int fd) {
  static const SyncFn real = Real<SyncFn>("fsync");
  if (Decide(kFsync, fd, 0) < 0) return errno = g_config.err, -1;
  return real(fd);
}

int fdatasync(int fd) {
  static const SyncFn real = Real<SyncFn>("fdatasync");
  if (Decide(kFdatasync, fd, 0) < 0) return errno = g_config.err, -1;
  return real(fd);
}

}  // extern "C"
