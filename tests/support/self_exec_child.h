// SelfExecChild: runs one test of this test binary in a fresh process (the
// binary re-executed through /proc/self/exe), for tests that kill a process
// holding an open store. A fork() without exec would not do: RocksDB's
// background threads do not survive fork(), so the child would hang in its
// first memtable flush.
//
// The child test is named DISABLED_..., so normal runs skip it; it reads its
// argument with ChildArgument() (GTEST_SKIP when that is empty: not started
// by a parent) and may report to the parent by writing to ChildReportFd().
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

extern char** environ;

namespace vigil::test_support {

inline constexpr char kChildArgumentEnv[] = "VIGIL_TEST_CHILD_ARGUMENT";
inline constexpr char kChildReportFdEnv[] = "VIGIL_TEST_CHILD_REPORT_FD";

// In the child: the argument its parent passed, or "" when this process is
// not a SelfExecChild.
inline std::string ChildArgument() {
  const char* arg = std::getenv(kChildArgumentEnv);
  return arg != nullptr ? arg : "";
}

// In the child: the write end of the pipe to the parent, or -1.
inline int ChildReportFd() {
  const char* fd = std::getenv(kChildReportFdEnv);
  return fd != nullptr ? std::atoi(fd) : -1;
}

class SelfExecChild {
 public:
  // Starts this binary running only `test` ("Suite.Name") with `argument`.
  SelfExecChild(const std::string& test, const std::string& argument) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return;
    std::vector<std::string> args = {"/proc/self/exe", "--gtest_also_run_disabled_tests",
                                     "--gtest_filter=" + test, "--gtest_brief=1"};
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string var = *e;
      // The child must not write the parent's test report.
      if (var.rfind("GTEST_OUTPUT=", 0) != 0) env.push_back(var);
    }
    env.push_back(std::string(kChildArgumentEnv) + "=" + argument);
    env.push_back(std::string(kChildReportFdEnv) + "=" + std::to_string(fds[1]));
    // Everything the child needs is built before fork(): only async-signal-safe
    // calls may run between fork() and exec in a multithreaded parent.
    std::vector<char*> argv = Pointers(args);
    std::vector<char*> envp = Pointers(env);
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
      // Dies with the parent (a test killed by its timeout leaves no child behind).
      if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) _exit(126);
      ::fcntl(fds[1], F_SETFD, 0);  // the report pipe survives exec
      ::execve(argv[0], argv.data(), envp.data());
      _exit(127);
    }
    ::close(fds[1]);
    if (pid_ < 0) {
      ::close(fds[0]);
      return;
    }
    read_fd_ = fds[0];
  }
  ~SelfExecChild() {
    Kill();
    if (read_fd_ >= 0) ::close(read_fd_);
  }
  SelfExecChild(const SelfExecChild&) = delete;
  SelfExecChild& operator=(const SelfExecChild&) = delete;

  bool started() const { return read_fd_ >= 0; }
  // The read end of the child's report pipe (EOF once the child is gone).
  int report_fd() const { return read_fd_; }

  // Waits for the child to end; returns its waitpid() status, -1 if not started.
  int Wait() {
    if (pid_ <= 0) return -1;
    int status = 0;
    if (::waitpid(pid_, &status, 0) != pid_) status = -1;
    pid_ = -1;
    return status;
  }

  // SIGKILLs the child (if still running) and waits for it; returns the
  // waitpid() status, -1 if not started.
  int Kill() {
    if (pid_ > 0) ::kill(pid_, SIGKILL);
    return Wait();
  }

  // Reads exactly `size` bytes of report; false on EOF (the child is gone) or
  // when `timeout` passed first.
  bool ReadReport(void* out, size_t size, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto* p = static_cast<char*>(out);
    while (size > 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd pfd{read_fd_, POLLIN, 0};
      if (::poll(&pfd, 1, static_cast<int>(std::max<int64_t>(left.count(), 0))) <= 0) return false;
      const ssize_t n = ::read(read_fd_, p, size);
      if (n <= 0) return false;
      p += n;
      size -= static_cast<size_t>(n);
    }
    return true;
  }

 private:
  static std::vector<char*> Pointers(std::vector<std::string>& strings) {
    std::vector<char*> out;
    for (auto& s : strings) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
  }

  pid_t pid_ = -1;
  int read_fd_ = -1;
};

// In the child: tells the parent whether the work succeeded, then waits to be
// SIGKILLed with everything still open.
[[noreturn]] inline void ReportThenAwaitKill(bool ok) {
  const char done = ok ? 'y' : 'n';
  if (::write(ChildReportFd(), &done, 1) != 1) _exit(6);
  for (;;) ::pause();
}

// In the parent: runs `test` with `argument` until it calls
// ReportThenAwaitKill, then SIGKILLs it. True when it reported success within
// `timeout` and died of the SIGKILL.
inline bool RunChildThenKill(const std::string& test, const std::string& argument,
                             std::chrono::milliseconds timeout = std::chrono::minutes(2)) {
  SelfExecChild child(test, argument);
  char done = 0;
  const bool reported = child.started() && child.ReadReport(&done, 1, timeout);
  const int status = child.Kill();
  return reported && done == 'y' && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

}  // namespace vigil::test_support
