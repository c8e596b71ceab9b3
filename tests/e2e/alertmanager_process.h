// AlertmanagerProcess: Debian's prometheus-alertmanager on a free loopback
// port, clustering off, with one receiver that drops every notification (its
// API still lists the alerts it received). Its config, data and log live in
// `dir`; extra flags (e.g. --web.config.file) are appended.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/e2e/vigil_process.h"
#include "tests/support/child_process.h"
#include "tests/support/test_dirs_and_ports.h"

namespace vigil::e2e {

class AlertmanagerProcess {
 public:
  static constexpr const char* kBinary = "/usr/bin/prometheus-alertmanager";

  explicit AlertmanagerProcess(const std::filesystem::path& dir,
                               const std::vector<std::string>& extra_flags = {})
      : port_(test_support::FreePort()),
        process_(Argv(dir, port_, extra_flags), dir / "am.log"),
        listening_(test_support::WaitListening(port_, std::chrono::seconds(20))) {}

  int port() const { return port_; }
  // Whether its port accepted a connection within 20 s of the start: Vigil
  // sends a firing alert once and again only after resend_delay (1 m), so a
  // test must not start Vigil before Alertmanager listens.
  bool listening() const { return listening_; }

 private:
  static std::vector<std::string> Argv(const std::filesystem::path& dir, int port,
                                       const std::vector<std::string>& extra_flags) {
    WriteFileAtomically(dir / "am.yml",
                        "route:\n  receiver: 'null'\nreceivers:\n  - name: 'null'\n");
    std::vector<std::string> argv = {kBinary, "--config.file=" + (dir / "am.yml").string(),
                                     "--storage.path=" + (dir / "am-data").string(),
                                     "--web.listen-address=127.0.0.1:" + std::to_string(port),
                                     "--cluster.listen-address="};
    argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
    return argv;
  }

  int port_;
  test_support::ChildProcess process_;
  bool listening_;
};

}  // namespace vigil::e2e
