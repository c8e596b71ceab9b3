#include "tests/e2e/vigil_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <httplib.h>

namespace vigil::e2e {

std::string VigilBinary() { return VIGIL_BINARY_PATH; }

void WriteFileAtomically(const std::filesystem::path& path, const std::string& text) {
  auto tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
  }
  std::filesystem::rename(tmp, path);
}

namespace {

HttpReply ToReply(const httplib::Result& res) {
  if (!res) return {};
  return {res->status, res->body};
}

httplib::Client MakeClient(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2);
  client.set_read_timeout(10);
  return client;
}

}  // namespace

HttpReply HttpGet(int port, const std::string& path) {
  auto client = MakeClient(port);
  return ToReply(client.Get(path));
}

HttpReply HttpPost(int port, const std::string& path, const std::string& body,
                   const std::string& content_type) {
  auto client = MakeClient(port);
  return ToReply(client.Post(path, body, content_type));
}

VigilProcess::VigilProcess(const std::string& config_yaml, std::vector<std::string> extra_args,
                           std::filesystem::path data_dir)
    : data_dir_(data_dir.empty() ? dir_.path() / "data" : std::move(data_dir)),
      config_path_(dir_.path() / "prometheus.yml"),
      log_path_(dir_.path() / "vigil.log"),
      port_(FreePort()) {
  WriteFileAtomically(config_path_, config_yaml);
  std::vector<std::string> args = {VigilBinary(),
                                   "--config.file=" + config_path_.string(),
                                   "--storage.tsdb.path=" + data_dir_.string(),
                                   "--web.listen-address=127.0.0.1:" + std::to_string(port_)};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  pid_ = fork();
  if (pid_ == 0) {
    int log = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(log, STDERR_FILENO);
    dup2(log, STDOUT_FILENO);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
}

VigilProcess::~VigilProcess() {
  if (pid_ > 0 && !exit_code_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

void VigilProcess::SleepBriefly() { std::this_thread::sleep_for(std::chrono::milliseconds(100)); }

bool VigilProcess::WaitReady(std::chrono::milliseconds timeout) {
  return WaitFor(
      [&] {
        if (exit_code_) return false;
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
          exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
          return false;
        }
        return Get("/-/ready").status == 200;
      },
      timeout);
}

void VigilProcess::Signal(int sig) const { kill(pid_, sig); }

std::optional<int> VigilProcess::WaitExit(std::chrono::milliseconds timeout) {
  WaitFor(
      [&] {
        if (exit_code_) return true;
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) != pid_) return false;
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
        return true;
      },
      timeout);
  return exit_code_;
}

std::string VigilProcess::Logs() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace vigil::e2e
