// LiveStack: the integration environment shared by the differential, dashboard
// and Prometheus interop tests. It runs, on loopback:
//   - prometheus-node-exporter and inventory_demo (the scrape targets),
//   - Vigil "main" in-process (real storage, engine, scrape manager, server)
//     scraping both targets every second, remote write receiver on,
//   - Prometheus 2.42 "scraper" with the same scrape config, remote-writing
//     everything to Vigil "sink" (another in-process Vigil that only receives),
//   - Prometheus 2.42 "reader" with no targets, remote-reading from Vigil main.
// Started once per test binary; tests skip when a Debian binary is missing.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "promql/engine.h"
#include "scraper/manager.h"
#include "storage/storage.h"
#include "tests/support/child_process.h"
#include "tests/web/api_server.h"
#include "web/server.h"

namespace vigil::web::testing {

using test_support::ChildProcess;
using test_support::FreePort;
using test_support::RunToCompletion;
using test_support::TempDir;

inline constexpr const char* kPrometheusBinary = "/usr/bin/prometheus";
inline constexpr const char* kPromtoolBinary = "/usr/bin/promtool";
inline constexpr const char* kNodeExporterBinary = "/usr/bin/prometheus-node-exporter";

// A complete Vigil (storage on disk, engine, scrape manager, HTTP server) in
// this process, on 127.0.0.1:<free port>.
class InProcessVigil {
 public:
  InProcessVigil(const std::string& config_yaml, const std::string& dir);
  ~InProcessVigil();
  int port() const { return server_ ? server_->port() : 0; }
  const std::string& error() const { return error_; }

 private:
  std::string yaml_;
  std::unique_ptr<storage::Storage> db_;
  std::unique_ptr<promql::Engine> engine_;
  std::unique_ptr<scraper::Manager> manager_;
  std::unique_ptr<Server> server_;
  std::string error_;
};

class LiveStack {
 public:
  // Why the stack cannot run here ("" when it can).
  static std::string MissingPrerequisite();

  LiveStack();
  ~LiveStack();

  int vigil_port() const { return vigil_->port(); }
  int sink_port() const { return sink_->port(); }
  int prometheus_port() const { return prometheus_port_; }
  int reader_port() const { return reader_port_; }
  int node_port() const { return node_port_; }
  int demo_port() const { return demo_port_; }
  // "" when everything came up; otherwise what did not.
  const std::string& error() const { return error_; }

  // The scrape_configs both Vigil and Prometheus use.
  std::string ScrapeConfigYaml() const;

 private:
  TempDir dir_;
  int node_port_;
  int demo_port_;
  int prometheus_port_;
  int reader_port_;
  std::unique_ptr<ChildProcess> node_;
  std::unique_ptr<ChildProcess> demo_;
  std::unique_ptr<InProcessVigil> vigil_;
  std::unique_ptr<InProcessVigil> sink_;
  std::unique_ptr<ChildProcess> prometheus_;
  std::unique_ptr<ChildProcess> reader_;
  std::string error_;
};

// The stack shared by every test of the binary (nullptr when skipped).
LiveStack* SharedStack();

// Base fixture: skips without the Debian binaries, fails when the shared
// stack did not come up, and hands the stack to the test as `stack_`.
class LiveStackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const auto missing = LiveStack::MissingPrerequisite(); !missing.empty())
      GTEST_SKIP() << missing;
    stack_ = SharedStack();
    ASSERT_TRUE(stack_->error().empty()) << stack_->error();
  }

  LiveStack* stack_ = nullptr;
};
// Polls `done` every 200 ms until it returns true or `seconds` pass.
bool WaitUntil(int seconds, const std::function<bool()>& done);
// Whether an instant query on `port` returns at least `min_series` series.
bool HasSeries(int port, const std::string& query, size_t min_series);

}  // namespace vigil::web::testing
