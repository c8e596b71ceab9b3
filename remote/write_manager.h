// WriteManager: runs one WriteQueue per `remote_write` entry, applies config
// reloads (an unchanged queue keeps running; a changed one restarts from its
// saved position; a removed one is stopped and its position forgotten),
// tells the store which WAL segments the queues still need, and exports the
// queues' metrics.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/metrics_registry.h"
#include "config/config.h"
#include "remote/write_queue.h"
#include "storage/storage.h"

namespace vigil::remote {

struct WriteManagerOptions {
  std::string data_dir;  // positions live in <data_dir>/remote_write/
  int64_t backlog_ms = 2 * 3600 * 1000;
  std::string user_agent = "Vigil";
};

class WriteManager {
 public:
  explicit WriteManager(WriteManagerOptions options);
  ~WriteManager();  // Stop()

  // For StorageOptions::wal_keep_from: the oldest segment a queue (running,
  // or saved by an earlier run and not yet reconfigured) still has to read.
  uint32_t KeepWalFrom() const;

  // The store whose WAL the queues tail; set once, before ApplyConfig.
  void SetStorage(const storage::Storage* store) { store_ = store; }
  [[nodiscard]] Status ApplyConfig(const config::Config& config);
  void Stop();

  // The running queues' state, in config order, for the status API.
  std::vector<QueueSnapshot> Snapshots() const;

 private:
  std::string PositionPath(const config::RemoteWriteConfig& c) const;
  void Collect(MetricsWriter& w) const;

  const WriteManagerOptions options_;
  const storage::Storage* store_ = nullptr;
  mutable std::mutex mu_;
  // Keyed by position file, so a changed queue finds its position again.
  std::map<std::string, std::unique_ptr<WriteQueue>> queues_;
  std::vector<std::string> order_;  // queues_' keys in config order
  // Positions saved by an earlier run, until the first ApplyConfig.
  std::vector<WalPosition> inherited_;
  ScopedCollector metrics_;
};

}  // namespace vigil::remote
