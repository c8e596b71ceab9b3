// ChildProcess: runs a helper program (prometheus, node-exporter, promtool,
// inventory_demo) for integration tests, and stops it on destruction.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace vigil::web::testing {

class ChildProcess {
 public:
  // Starts `argv[0]` with its output appended to `log_path`.
  ChildProcess(std::vector<std::string> argv, const std::filesystem::path& log_path);
  ~ChildProcess();  // SIGTERM, then SIGKILL after 5 s
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool running() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
};

// Runs a program to completion; returns its exit code (-1 when it could not
// run) and stores stdout+stderr in `output`.
int RunToCompletion(const std::vector<std::string>& argv, std::string* output);

// A loopback TCP port that was free a moment ago.
int FreePort();

// A temporary directory removed on destruction.
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

}  // namespace vigil::web::testing
