// Small pieces every process-level test needs: a temporary directory and a
// free loopback port.
#pragma once

#include <chrono>
#include <filesystem>

namespace vigil::test_support {

// A fresh directory under the system temp dir, removed with its contents on
// destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A loopback TCP port that was free a moment ago.
int FreePort();

// Waits until something accepts TCP connections on 127.0.0.1:`port`, polling
// every 50 ms; false after `timeout`. A peer process started just before a
// test must be listening before Vigil sends to it once and waits a minute.
bool WaitListening(int port, std::chrono::milliseconds timeout);

}  // namespace vigil::test_support
