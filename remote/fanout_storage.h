// FanoutStorage: the local store plus the `remote_read` endpoints, as PromQL,
// the rules and the API see them. Writes, admin calls and statistics go to
// the local store; a Select also asks each remote_read endpoint that wants
// the selector and merges series with equal labels (one sample per
// timestamp, the local one winning), so queries reach back past local
// retention. A failing endpoint is logged and left out, as Prometheus turns
// it into a warning.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "config/config.h"
#include "remote/read_client.h"
#include "storage/storage.h"

namespace vigil::remote {

class FanoutStorage final : public storage::Storage {
 public:
  explicit FanoutStorage(storage::Storage* local) : local_(local) {}

  // Replaces the remote_read endpoints (config reload).
  void ApplyConfig(const config::Config& config);

  std::unique_ptr<storage::Appender> NewAppender() override { return local_->NewAppender(); }
  Result<std::unique_ptr<storage::Querier>> NewQuerier() override;
  storage::StorageStats Stats(size_t limit) const override { return local_->Stats(limit); }
  Status DeleteSeries(const LabelMatchers& matchers, int64_t mint, int64_t maxt) override {
    return local_->DeleteSeries(matchers, mint, maxt);
  }
  Status CleanTombstones() override { return local_->CleanTombstones(); }
  Status Snapshot(const std::string& dir, bool skip_head) override {
    return local_->Snapshot(dir, skip_head);
  }
  Status Compact() override { return local_->Compact(); }
  Status Close() override { return local_->Close(); }
  Status SetRetention(int64_t retention_ms, int64_t retention_bytes) override {
    return local_->SetRetention(retention_ms, retention_bytes);
  }
  storage::RetentionSettings GetRetention() const override { return local_->GetRetention(); }
  Status Writable() const override { return local_->Writable(); }
  Status AppendHistorical(const Labels& labels, std::span<const Sample> samples) override {
    return local_->AppendHistorical(labels, samples);
  }
  std::string WalDir() const override { return local_->WalDir(); }
  Result<Labels> SeriesLabels(SeriesRef ref) const override { return local_->SeriesLabels(ref); }

 private:
  // The oldest local sample (ms), refreshed at most every 10 s: Stats() walks
  // the head, too slow for every query.
  int64_t LocalStartMs() const;

  storage::Storage* const local_;
  mutable std::atomic<int64_t> local_start_ms_{0};
  mutable std::atomic<int64_t> local_start_checked_ms_{0};
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<const ReadClient>> clients_;
};

}  // namespace vigil::remote
