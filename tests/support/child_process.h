// ChildProcess: runs a helper program (prometheus, node-exporter, promtool,
// inventory_demo) for integration tests, and stops it on destruction.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/test_dirs_and_ports.h"

namespace vigil::test_support {

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

}  // namespace vigil::test_support
