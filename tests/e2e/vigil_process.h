// VigilProcess: runs the real `vigil` binary for end-to-end tests, on a free
// loopback port with a fresh data directory, and talks to it over HTTP.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/test_dirs_and_ports.h"

namespace vigil::e2e {

struct HttpReply {
  int status = 0;  // 0: no connection
  std::string body;
};

using test_support::FreePort;
using test_support::TempDir;

// Writes `text` to `path`, replacing it atomically (rename), so a process
// watching the file never reads half of it.
void WriteFileAtomically(const std::filesystem::path& path, const std::string& text);

// HTTP against 127.0.0.1:port.
HttpReply HttpGet(int port, const std::string& path);
HttpReply HttpPost(int port, const std::string& path, const std::string& body,
                   const std::string& content_type = "application/x-www-form-urlencoded");

class VigilProcess {
 public:
  // Starts vigil with `config_yaml` written to a temp file and `extra_args`
  // appended after the defaults (--config.file, --storage.tsdb.path,
  // --web.listen-address). `data_dir` empty: a fresh temp dir.
  VigilProcess(const std::string& config_yaml, std::vector<std::string> extra_args = {},
               std::filesystem::path data_dir = {});
  ~VigilProcess();  // SIGKILLs the process if it still runs
  VigilProcess(const VigilProcess&) = delete;
  VigilProcess& operator=(const VigilProcess&) = delete;

  int port() const { return port_; }
  const std::filesystem::path& config_path() const { return config_path_; }
  const std::filesystem::path& data_dir() const { return data_dir_; }

  // Polls /-/ready until it answers 200; false on timeout or early exit.
  bool WaitReady(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Polls `predicate` every 100 ms until true or timeout.
  template <typename Pred>
  bool WaitFor(Pred predicate, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (predicate()) return true;
      SleepBriefly();
    }
    return predicate();
  }

  HttpReply Get(const std::string& path) const { return HttpGet(port_, path); }
  HttpReply Post(const std::string& path, const std::string& body) const {
    return HttpPost(port_, path, body);
  }

  void Signal(int sig) const;
  // Waits for exit; returns the exit code, or -signal when killed by one,
  // or nullopt on timeout.
  std::optional<int> WaitExit(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Everything the process wrote to stderr so far.
  std::string Logs() const;

 private:
  static void SleepBriefly();

  TempDir dir_;
  std::filesystem::path data_dir_;
  std::filesystem::path config_path_;
  std::filesystem::path log_path_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

// The path of the vigil binary under test (set by CMake).
std::string VigilBinary();

}  // namespace vigil::e2e
